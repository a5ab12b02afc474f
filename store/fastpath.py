"""`record` without the whole store's read model: the command people run most, kept close to the
floor (parse the file, append one document, write it back).

The general transaction (`Store.transaction`) builds a `Snapshot` of everything (100,000 `Entry`
objects at 100,000 entries) and lets TinyDB copy the table on insert. A record needs far less:
the boards and KPIs (to find the KPI by name), the entries of that KPI and of its counter-metric
(for the status line), and the open actions. Everything else is only *checked*, with the same
conditions the decoders apply, column by column, without building objects.

What it writes is byte for byte what the general path writes: the same document under the key
TinyDB would give it, the same id sequence, the same `last_change`. Whenever the store is not
plainly well-formed (a table that is not an object, a key that is not a canonical number, an
entry the decoders would reject, a schema to migrate), it lets go of the lock and hands over to
the general path (`store.ops`), which says what is wrong exactly as before.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import compress, repeat
from operator import methodcaller
from typing import TYPE_CHECKING, Any

from . import codec, schema
from .codec.fields import LIMIT
from .model import Entry
from .rules import KpiView, view_kpis
from .snapshot import Snapshot
from .storage import (
    check_writable,
    locked,
    missing,
    open_regular,
    parse,
    read_fd,
    read_raw,
    remove_stale_temps,
    write_atomic,
)

if TYPE_CHECKING:
    from .db import Store

Ref = str | int
Raw = dict[str, Any]
Doc = dict[str, Any]


@dataclass(frozen=True)
class Recorded:
    entry: Entry
    view: KpiView
    superseded: Entry | None


class _Fallback(Exception):
    """The store is not one the fast path vouches for: the general path takes over."""


def record(
    store: Store,
    kpi: Ref,
    value: float,
    day: date,
    today: date,
    board: Ref | None = None,
    plan: float | None = None,
    note: str = "",
    now: datetime | None = None,
    *,
    fallback: Callable[..., Recorded],
) -> Recorded:
    """Record an actual (see `store.ops.record`, which this serves); `fallback` is the general
    path, called with the same arguments when the store needs it."""
    from .db import utcnow, whoami

    if store.engine != "file":  # another engine takes the general path (PostgreSQL: its own)
        return fallback(store, kpi, value, day, today, board, plan=plan, note=note, now=now)
    store._check_path()
    if not store.exists():
        read_raw(store.path)  # raises StoreMissing with the how-to, or says what is there
    check_writable(store.path)
    try:
        with locked(store.path, store.lock_timeout, store.on_wait):
            fd = open_regular(store.path)
            blob, ref = read_fd(fd) if fd is not None else (b"", None)
            if not blob.strip():
                raise missing(store.path)
            raw = parse(store.path, blob)
            if schema.migrate(raw, str(store.path)):
                raise _Fallback("the store needs migrating")
            done = _record(raw, str(store.path), kpi, value, day, today, board, plan, note,
                           whoami(), utcnow(), now)  # fmt: skip
            remove_stale_temps(store.path)
            write_atomic(store.path, raw, ref)
            return done
    except _Fallback:
        return fallback(store, kpi, value, day, today, board, plan=plan, note=note, now=now)


def _record(
    raw: Raw,
    path: str,
    kpi: Ref,
    value: float,
    day: date,
    today: date,
    board: Ref | None,
    plan: float | None,
    note: str,
    who: str,
    at: str,
    now: datetime | None = None,
) -> Recorded:
    """Check the store, find the KPI, append the entry to `raw` (in place): what the general
    path does, less the objects nobody looks at."""
    entries = raw["entries"]
    enabled = gc.isenabled()
    gc.disable()  # the columns are fresh lists of fresh values: no cycles to find
    try:
        table_of_entries = check_entries(entries)
    finally:
        if enabled:
            gc.enable()
    # The small tables, decoded and cross-checked by the general code (entries aside).
    small = dict(raw)
    small["entries"] = {}
    try:
        snap = Snapshot.from_raw(small, path)
    except Exception as exc:
        raise _Fallback("a document is malformed") from exc
    unknown = set(table_of_entries.kpi_of) - snap.kpis.keys()
    if unknown:
        raise _Fallback("an entry names a KPI that does not exist")
    k = snap.kpi_ref(kpi, board)  # a NotFound here is the same answer the general path gives
    wanted = {k.id}
    if k.counter is not None and k.counter in snap.kpis:
        wanted.add(k.counter)
    mine: dict[int, list[Entry]] = {i: [] for i in wanted}
    for key, d in table_of_entries.of(wanted):
        mine[d["kpi"]].append(codec.decode_entry(d, key))
    for lst in mine.values():
        lst.sort(key=lambda e: e.id)
    before = [e for e in mine[k.id] if e.day == day]
    # As `Tx.insert`: our id sequence, TinyDB's next key, who and when.
    meta = raw["meta"]["1"]
    seq = meta.setdefault("seq", {})
    if "entries" not in seq:
        seq["entries"] = table_of_entries.max_id
    seq["entries"] += 1
    doc = {"id": int(seq["entries"]), **codec.entry_doc(k.id, day, value, plan, note),
           "who": who, "at": at}  # fmt: skip
    entries[str(table_of_entries.max_key + 1)] = dict(doc)
    meta["last_change"] = {"who": who, "at": at, "what": f"recorded {k.name} = {value:g}"}
    entry = codec.decode_entry(doc)
    mine[k.id].append(entry)
    kpis = [snap.kpis[i] for i in sorted(wanted, key=lambda i: i != k.id)]
    names = {b.id: b.name for b in snap.boards.values()}
    view = view_kpis(
        kpis, mine, list(snap.actions.values()), names, today,
        now=now, estimates_of=snap.estimates, explanations_of=snap.explanations,
    )[0]  # fmt: skip
    return Recorded(entry, view, before[-1] if before else None)


@dataclass(frozen=True)
class EntriesTable:
    """What the fast path learned while checking the entries table."""

    keys: list[str]  # TinyDB's keys, in the file's order
    docs: list[Doc]  # the documents, in the same order
    kpi_of: list[int]  # each document's KPI
    max_id: int  # the largest entry id (0 when none)
    max_key: int  # the largest TinyDB key (0 when none)

    def of(self, wanted: set[int]) -> Iterator[tuple[str, Doc]]:
        """The (key, document) pairs of the `wanted` KPIs' entries."""
        return compress(
            zip(self.keys, self.docs, strict=True), map(wanted.__contains__, self.kpi_of)
        )


def _column(docs: list[Doc], name: str, default: object = None) -> list[Any]:
    return list(map(dict.get, docs, repeat(name), repeat(default)))


def _numbers(values: Iterable[Any]) -> bool:
    """All ints or floats (never bools), finite and within the store's limit."""
    values = list(values)
    if not values:
        return True
    if not set(map(type, values)) <= {int, float}:
        return False
    return min(values) >= -LIMIT and max(values) <= LIMIT and not any(map(math.isnan, values))


def _texts(values: Iterable[Any]) -> bool:
    return set(map(type, values)) <= {str}


def check_entries(entries: object) -> EntriesTable:
    """Check every entry as `codec.decode_entry` accepts it on its fast path, a column at a
    time (C loops, no objects built); raise `_Fallback` at the first doubt (the general path
    then names what is wrong)."""
    try:
        return _check_entries(entries)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
        raise _Fallback("an entry needs the full check") from exc


def _check_entries(entries: object) -> EntriesTable:
    if type(entries) is not dict:
        raise _Fallback("the entries table is not an object")
    keys: list[str] = list(entries)
    docs: list[Doc] = list(entries.values())
    if not docs:
        return EntriesTable([], [], [], 0, 0)
    if set(map(type, docs)) != {dict}:
        raise _Fallback("an entry is not an object")
    # TinyDB rewrites every key as str(int(key)) when it inserts: keys must read back the same.
    if not (
        all(map(str.isascii, keys))
        and all(map(str.isdigit, keys))
        and not any(map(methodcaller("startswith", "0"), keys))
    ):
        raise _Fallback("a key is not written as TinyDB writes it")
    ids = _column(docs, "id")
    kpi_of = _column(docs, "kpi")
    if set(map(type, ids)) != {int} or min(ids) <= 0 or len(set(ids)) != len(ids):
        raise _Fallback("an entry's id is missing, not a positive whole number, or shared")
    if set(map(type, kpi_of)) != {int}:
        raise _Fallback("an entry's KPI is not a whole number")
    if not _numbers(_column(docs, "value", "")):
        raise _Fallback("an entry's value is not a number within the limit")
    if not _numbers(filter(_is_not_none, _column(docs, "plan"))):
        raise _Fallback("an entry's plan is not a number within the limit")
    dates = _column(docs, "date", 0)
    if not _texts(dates) or not all(_texts(_column(docs, f, "")) for f in ("note", "who", "at")):
        raise _Fallback("an entry's date, note, who or at is not text")
    days = set(dates)
    try:
        for day in days:
            date.fromisoformat(day)
    except ValueError as exc:
        raise _Fallback("an entry has an impossible date") from exc
    return EntriesTable(keys, docs, kpi_of, max(ids), max(map(int, keys)))


def _is_not_none(x: object) -> bool:
    return x is not None


__all__ = ["EntriesTable", "Recorded", "check_entries", "record"]
