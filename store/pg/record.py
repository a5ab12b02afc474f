"""`teamboard record` on PostgreSQL: the file fast path's work (`store.fastpath._record`) on the
rows it needs: every small table, but only the entries of the KPI and its counter-metric (the
file path must parse them all; here the rest stay in the database). Under the store's write
lock, like every write; the entry's id continues the table's sequence."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime

import psycopg

from ..db import Store, utcnow
from ..fastpath import Recorded, Ref, _Fallback, _record
from ..snapshot import Snapshot
from .engine import PgStore, load, write


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
    """Record an actual, as `store.ops.record` does, reading only what it needs; a store the
    fast path does not vouch for goes to `fallback`, the general path."""
    assert isinstance(store, PgStore)
    try:
        with store.connect() as conn, conn.transaction():
            store._begin_write(conn)
            raw = load(conn, entries_of=[])
            k = Snapshot.from_raw(copy.deepcopy(raw), store.shown).kpi_ref(kpi, board)
            wanted = [k.id] if k.counter is None else [k.id, k.counter]
            raw["entries"] = load(conn, entries_of=wanted)["entries"]
            top = conn.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()
            raw["meta"]["1"]["seq"] = {"entries": int(top[0]) if top else 0}
            before = copy.deepcopy(raw)
            who = conn.execute("SELECT current_user").fetchone()
            done = _record(raw, store.shown, k.id, value, day, today, None, plan, note,
                           str(who[0]) if who else "", utcnow(), now)  # fmt: skip
            write(conn, before, raw)
            return done
    except _Fallback:
        return fallback(store, kpi, value, day, today, board, plan=plan, note=note, now=now)
    except psycopg.Error as exc:
        raise store._error(exc) from None
