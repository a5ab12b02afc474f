"""The general transaction without the whole entries table (issue 14 at 1,000 boards: 2.9 M rows).

`PgStore.transaction` loads every other table as documents (the operations in store/ops.py and
friends read them through `Tx.snapshot`), but no entry: its `Tx.snapshot` holds `LazyEntries`,
which reads a KPI's entries from the database, in the same transaction and under the same lock,
the first time an operation asks for them (`snap.entries.get(kpi)`, `[kpi]`, `in`), and the whole
table only for an operation that walks them all (an import's duplicates: `items()`, iteration).
Entries an operation adds in the transaction (`tx.insert`) are in `tx.raw` until the write and
are merged in. What an operation sees is what a full load would show it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from .. import codec
from ..db import Tx
from ..model import Entry
from ..snapshot import Snapshot

Fetch = Callable[[list[int] | None], dict[int, list[Entry]]]  # KPIs (None: all) → entries


class LazyEntries(dict[int, list[Entry]]):
    """Entries by KPI id, in record order, read from the database when first asked for."""

    def __init__(self, fetch: Fetch, cache: dict[int, list[Entry]], fresh: dict[int, list[Entry]],
                 everything: list[bool]) -> None:  # fmt: skip
        super().__init__()
        self._fetch, self._cache, self._fresh, self._everything = fetch, cache, fresh, everything

    def _of(self, kpi: object) -> list[Entry] | None:
        if not isinstance(kpi, int):
            return None
        if kpi not in self._cache and not self._everything[0]:
            self._cache[kpi] = self._fetch([kpi]).get(kpi, [])
        got = self._cache.get(kpi, []) + self._fresh.get(kpi, [])
        return got or None

    def get(self, kpi: int, default: Any = None) -> Any:  # type: ignore[override]
        got = self._of(kpi)
        return default if got is None else got

    def __getitem__(self, kpi: int) -> list[Entry]:
        got = self._of(kpi)
        if got is None:
            raise KeyError(kpi)
        return got

    def __contains__(self, kpi: object) -> bool:
        return self._of(kpi) is not None

    def _all(self) -> None:
        if not self._everything[0]:
            self._cache.clear()
            self._cache.update(self._fetch(None))
            self._everything[0] = True
        if not super().__len__():
            for k in set(self._cache) | set(self._fresh):
                got = self._of(k)
                if got:
                    super().__setitem__(k, got)

    def __iter__(self) -> Iterator[int]:
        self._all()
        return super().__iter__()

    def __len__(self) -> int:
        self._all()
        return super().__len__()

    def keys(self) -> Any:
        self._all()
        return super().keys()

    def values(self) -> Any:
        self._all()
        return super().values()

    def items(self) -> Any:
        self._all()
        return super().items()

    def copy(self) -> dict[int, list[Entry]]:
        self._all()
        return dict(super().items())


@dataclass
class PgTx(Tx):
    """A `Tx` whose snapshot reads entries lazily (`fetch`); `tx.raw["entries"]` holds only
    the entries this transaction adds."""

    fetch: Fetch | None = None
    _cache: dict[int, list[Entry]] = field(default_factory=dict)
    _everything: list[bool] = field(default_factory=lambda: [False])

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            assert self.fetch is not None
            base = Snapshot.from_raw(self.raw, str(self.path))
            lazy = LazyEntries(self.fetch, self._cache, base.entries, self._everything)
            self._snapshot = replace(base, entries=lazy)
        return self._snapshot


def fetcher(conn: Any) -> Fetch:
    """Read entries of some KPIs (None: all) on `conn`, decoded, by KPI, in record order."""
    from . import rows

    t = rows.BY_NAME["entries"]

    def fetch(kpis: list[int] | None) -> dict[int, list[Entry]]:
        if kpis is None:
            found = conn.execute(rows.select_sql(t))
        else:
            found = conn.execute(rows.select_sql(t, "kpi = ANY(%s)"), (kpis,))
        out: dict[int, list[Entry]] = {}
        for r in found:
            e = codec.decode_entry(rows.row_doc(t.cols, r, t))
            out.setdefault(e.kpi, []).append(e)
        return out

    return fetch
