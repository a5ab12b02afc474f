"""`teamboard record` on PostgreSQL, lean: the KPI found by SQL, its board's lock only, its own
recent entries, one transaction in four round trips after connecting.

1. The schema's version and the KPI (with its board) by name or id: one pipelined round trip.
2. The store's lock shared and the board's exclusively (`PgStore._lock(board=)`): writers on
   other boards go on; a structural write (the general transaction) waits for them and they for it.
3. Under the locks, one pipelined round trip: the KPI again (a rename or an archive in between
   sends the record the long way), its counter-metric, targets, open actions, estimates,
   explanations, the entries of its latest periods (`store.scope.VIEW_PERIODS`, what the status
   line reads) and of the day recorded (what it supersedes), the role, the time, the next id.
4. The entry (its id from the sequence) and the store's last change, then COMMIT.

Anything it does not vouch for (an unknown or ambiguous name, a name that is not ASCII, which
SQL's lower() and Python's casefold() may match differently, a schema to migrate, a document the
decoders refuse) goes to `_loaded`, the earlier path: every small table, the KPI's entries, the
store's lock exclusively, `store.fastpath._record`: the same answers and messages as the file.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import psycopg

from .. import codec
from ..db import Store, utcnow
from ..errors import StoreReadOnly
from ..fastpath import Recorded, Ref, _Fallback, _record
from ..rules import view_kpis
from ..scope import VIEW_PERIODS, Scope
from ..snapshot import Snapshot
from . import rows, scoped
from . import schema as pg_schema
from .engine import PgStore, empty, load, write

_AT = """to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


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
    if store.refuse is not None:
        raise StoreReadOnly(store.refuse)
    try:
        with store.connect() as conn:
            done = _lean(store, conn, kpi, value, day, today, board, plan, note, now)
            if done is None:
                done = _loaded(store, conn, kpi, value, day, today, board, plan, note, now)
            return done
    except _Fallback:
        return fallback(store, kpi, value, day, today, board, plan=plan, note=note, now=now)
    except psycopg.Error as exc:
        raise store._error(exc) from None


class _Long(Exception):
    """The lean path does not vouch for this record: the long way takes it."""


def _lean(
    store: PgStore,
    conn: psycopg.Connection[Any],
    kpi: Ref,
    value: float,
    day: date,
    today: date,
    board: Ref | None,
    plan: float | None,
    note: str,
    now: datetime | None,
) -> Recorded | None:
    """The record in four round trips, or None (nothing written) for the long way."""
    try:
        with conn.transaction():
            k_id, b_id = _find(conn, kpi, board)
            store._lock(conn, board=b_id)
            return _write(conn, k_id, b_id, kpi, value, day, today, plan, note, now)
    except _Long:
        return None
    except psycopg.errors.UndefinedTable:  # no store here: the long way says so
        return None


def _find(conn: psycopg.Connection[Any], kpi: Ref, board: Ref | None) -> tuple[int, int]:
    """The KPI's id and its board's, as `Snapshot.kpi_ref` finds them; `_Long` when unsure."""
    param: str | int = kpi
    if isinstance(kpi, str):
        want = param = kpi.strip()
        cond = "lower(k.name) = lower(%s)"
    else:
        want, cond = "", "k.id = %s"
    if not want.isascii() or (isinstance(board, str) and not board.strip().isascii()):
        raise _Long
    with conn.pipeline():
        version = conn.execute("SELECT schema_version FROM meta WHERE id = 1")
        found = conn.execute(
            f"SELECT k.id, k.board, k.name FROM kpis k WHERE NOT k.archived AND {cond}", (param,)
        )
        boards = None
        if isinstance(kpi, str) and isinstance(board, str):
            boards = conn.execute(
                "SELECT id, name FROM boards WHERE lower(name) = lower(%s)", (board.strip(),)
            )
        elif isinstance(kpi, str) and board is not None:
            boards = conn.execute("SELECT id, name FROM boards WHERE id = %s", (board,))
    got = version.fetchone()
    if got is None or got[0] != pg_schema.VERSION:
        raise _Long  # a store to migrate (or newer): the long way migrates or refuses
    pool = [
        (int(i), int(b)) for i, b, name in found if not want or name.casefold() == want.casefold()
    ]
    if boards is not None:
        bs = [
            int(i)
            for i, name in boards
            if not isinstance(board, str) or name.casefold() == board.strip().casefold()
        ]
        if len(bs) != 1:
            raise _Long
        pool = [(i, b) for i, b in pool if b == bs[0]]
    if len(pool) != 1:
        raise _Long  # none, or on several boards: the long way words the error
    return pool[0]


def _write(
    conn: psycopg.Connection[Any],
    k_id: int,
    b_id: int,
    ref: Ref,
    value: float,
    day: date,
    today: date,
    plan: float | None,
    note: str,
    now: datetime | None,
) -> Recorded:
    """Under the board's lock: read what the status line needs, write the entry."""
    with conn.pipeline():
        head = conn.execute(
            f"SELECT current_user, nextval('entries_id_seq'), {_AT}, "
            "(SELECT name FROM boards WHERE id = %s)",
            (b_id,),
        )
        kpis_later = scoped.fetch_later(
            conn, "kpis", "id = %s OR id = (SELECT counter FROM kpis WHERE id = %s)", (k_id, k_id)
        )
        actions_later = scoped.fetch_later(conn, "actions", "kpi = %s AND stage <> 'done'", (k_id,))
        estimates_later = scoped.fetch_later(conn, "estimates", "kpi = %s", (k_id,))
        explanations_later = scoped.fetch_later(conn, "explanations", "kpi = %s", (k_id,))
        kpis, actions = kpis_later(), actions_later()
        estimates, explanations = estimates_later(), explanations_later()
    k_doc = kpis.get(str(k_id))
    if k_doc is None or k_doc.get("archived") or k_doc["board"] != b_id:
        raise _Long  # changed before the lock was ours
    if isinstance(ref, str) and str(k_doc["name"]).casefold() != ref.strip().casefold():
        raise _Long
    counter = k_doc.get("counter")
    with conn.pipeline():
        freqs = [(int(d["id"]), str(d["frequency"])) for d in kpis.values()]
        recent = scoped.entries(conn, freqs, Scope(periods=VIEW_PERIODS))
        t = rows.BY_NAME["entries"]
        same_day = conn.execute(rows.select_sql(t, "kpi = %s AND date = %s"), (k_id, day))
    for r in same_day:
        doc = rows.row_doc(t.cols, r, t)
        recent[str(doc["id"])] = doc
    who, new_id, at, board_name = head.fetchone() or ("", 0, "", "")
    try:
        ks = {int(i): codec.decode_kpi(d) for i, d in kpis.items()}
        k = ks[k_id]
        mine: dict[int, list[Any]] = {i: [] for i in ks}
        for d in sorted(recent.values(), key=lambda d: int(d["id"])):
            mine[d["kpi"]].append(codec.decode_entry(d))
        acts = [codec.decode_action(d) for d in actions.values()]
        ests = sorted((codec.decode_estimate(d) for d in estimates.values()), key=lambda x: x.id)
        whys = sorted((codec.decode_explanation(d) for d in explanations.values()),
                      key=lambda y: y.id)  # fmt: skip
    except codec.Malformed:
        raise _Long from None
    before = [e for e in mine[k_id] if e.day == day]
    doc = {"id": int(new_id), **codec.entry_doc(k_id, day, value, plan, note),
           "who": str(who), "at": str(at)}  # fmt: skip
    ins, _ = rows.insert_sql(t)
    with conn.pipeline():
        conn.execute(ins, rows.doc_params(t, doc))
        conn.execute(  # the board's last change (v2_scale.sql: no row every writer updates)
            "INSERT INTO board_changes (board, n, who, at, what) VALUES "
            "(%s, nextval('last_change_seq'), current_user, now(), %s) ON CONFLICT (board) DO "
            "UPDATE SET n = excluded.n, who = excluded.who, at = excluded.at, what = excluded.what",
            (b_id, f"recorded {k.name} = {value:g}"),
        )
    entry = codec.decode_entry(doc)
    mine[k_id].append(entry)
    order = [k] + (
        [ks[counter]] if counter is not None and counter in ks and counter != k_id else []
    )
    view = view_kpis(
        order, mine, acts, {b_id: str(board_name)}, today, now=now,
        estimates_of={k_id: ests}, explanations_of={k_id: whys},
    )[0]  # fmt: skip
    return Recorded(entry, view, before[-1] if before else None)


def _loaded(
    store: PgStore,
    conn: psycopg.Connection[Any],
    kpi: Ref,
    value: float,
    day: date,
    today: date,
    board: Ref | None,
    plan: float | None,
    note: str,
    now: datetime | None,
) -> Recorded:
    """The long way: every small table and the KPI's entries, under the store's lock."""
    with conn.transaction():
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


__all__ = ["empty", "record"]
