"""`teamboard record` on PostgreSQL, lean: the KPI found by SQL, its board's lock only, its own
recent rows, one transaction, and no psycopg when it can be helped (~230 ms of imports).

The lean way, in five statements after connecting:
1. the schema's version and the KPI (with its board) by name or id, in one SELECT;
2. the store's lock shared and the board's exclusively (`PgStore._lock(board=)`): writers on
   other boards go on; a structural write (the general transaction) waits for them, and they
   for it;
3. under the locks, one SELECT of all the status line needs: the KPI again (a rename or an
   archive in between sends the record the long way), its counter-metric, targets, open
   actions, estimates, explanations, the entries of its latest periods (`VIEW_PERIODS`) and of
   the day recorded (what it supersedes), the role, the time, the entry's id (the sequence);
4. the entry and the board's last change (`board_changes`) in one statement; 5. COMMIT.

It runs on libpq through ctypes (`store.pg.libpq`) when it can, else on psycopg (a lock to wait
for, no libpq to load, any error: the same statements again there, so the messages are
psycopg's as ever). Anything the lean way does not vouch for (an unknown or ambiguous name, a
name that is not ASCII, which SQL's lower() and Python's casefold() may match differently, a
schema to migrate, a document the decoders refuse) goes the long way, `_loaded`: every small
table, the KPI's entries, the store's lock exclusively, `store.fastpath._record`: the same
answers and messages as the file.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .. import codec
from ..db import Store, utcnow
from ..errors import StoreError, StoreReadOnly
from ..fastpath import Recorded, Ref, _Fallback, _record
from ..rules import view_kpis
from ..scope import VIEW_PERIODS
from . import rows
from . import schema as pg_schema
from .engine import BOARD_LOCKS, LOCK_KEY, PgStore, driver, load, write

if TYPE_CHECKING:
    import psycopg

    from . import libpq

Run = Callable[[str, tuple[Any, ...]], list[Any]]  # one statement → its rows
_AT = """to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
_FLOATS = ("value", "plan", "amber")  # double precision: JSON may bring 85 for 85.0


class _Long(Exception):
    """The lean way does not vouch for this record: the long way takes it."""


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
    args = (kpi, value, day, today, board, plan, note, now)
    long = False
    try:
        done = _quick(store, *args)
        if done is not None:
            return done
    except _Long:
        long = True  # psycopg's lean way would say the same: straight to the long way
    pg = driver()
    try:
        with store.connect() as conn:
            done = None if long else _lean(store, conn, *args)
            if done is None:
                done = _loaded(store, conn, *args)
            return done
    except _Fallback:
        return fallback(store, kpi, value, day, today, board, plan=plan, note=note, now=now)
    except pg.Error as exc:
        raise store._error(exc) from None


def _quick(store: PgStore, *args: Any) -> Recorded | None:
    """The lean way on libpq (no psycopg); None when it cannot say (nothing written).

    A store that records again (a writer that stays: the app, a script, the benchmark's
    writers) keeps its connection from its second record on and records on it (`_writer`): no
    backend to start (~4 ms of server CPU), its catalog warm (~10 ms more on a new backend).
    Its statements are prepared there (planned once). Any failure on it closes it: a lost one
    and the record goes on as a first one would, a refusal goes to psycopg's way, which says
    why. One busy (another thread's record) leaves this record a connection of its own."""
    from . import libpq

    kept = _writer(store)
    try:
        if kept is not None:
            c, mine = kept
            try:
                return _on(store, c, *args)
            except libpq.Unsure:
                alive = c.alive()
                _drop(store, c)  # the next record connects (and prepares) afresh
                if alive:  # the server said no: psycopg's way says why
                    return None
                # lost before its COMMIT (nothing written): on a new one, as a first record
            finally:
                mine.release()
        c = libpq.Conn(store.url)
        try:
            done = _on(store, c, *args)
        except BaseException:
            c.close()
            raise
        if not _keep(store, c):
            c.close()
        return done
    except libpq.Unsure:
        return None


def _writer(store: PgStore) -> tuple[Any, Any] | None:
    """The connection this store's last record kept, and its lock taken; None: none, or in
    use by another thread."""
    mine = store._recording
    if not mine.acquire(blocking=False):
        return None
    c = store._rconn
    if c is None or not c.alive():
        store._rconn = None
        mine.release()
        if c is not None:
            c.close()
        return None
    return c, mine


def _keep(store: PgStore, c: Any) -> bool:
    """Keep `c` (a record done on it, its transaction ended) for this store's next record,
    unless it keeps one already, or this was its first record (a command's one record leaves
    no connection behind); False: not kept (the caller closes it)."""
    mine = store._recording
    if not c.idle() or not mine.acquire(blocking=False):
        return False
    try:
        first, store._recorded = not store._recorded, True
        if first or store._rconn is not None:
            return False
        store._rconn = c
        return True
    finally:
        mine.release()


def _drop(store: PgStore, c: Any) -> None:
    if store._rconn is c:
        store._rconn = None
    c.close()


def _on(store: PgStore, c: libpq.Conn, *args: Any) -> Recorded:
    """The lean way's transaction on `c`; `libpq.Unsure` (nothing written) when it cannot say."""
    from . import libpq

    prepare = store._recorded  # a writer that stays: each statement planned once

    def run(sql: str, params: tuple[Any, ...]) -> list[Any]:
        n = iter(range(1, len(params) + 1))
        if prepare and params:
            return c.query(_numbered(sql, n), params, prepare=True)
        return c.query(_numbered(sql, n), params)

    run("BEGIN", ())
    try:
        done = _steps(run, None, *args)
    except BaseException:
        with contextlib.suppress(libpq.Unsure):
            run("ROLLBACK", ())
        raise
    try:
        run("COMMIT", ())
    except libpq.Unsure:
        if c.alive():  # the server refused it and rolled back: psycopg says why
            raise
        # Lost at the COMMIT itself: it may have happened, so trying again could
        # record the value twice. Say so instead.
        raise StoreError(
            f"lost the store at {store.shown} while saving: the value may or may not "
            "be recorded; look with `teamboard history` before recording it again"
        ) from None
    return done


def _numbered(sql: str, n: Any) -> str:
    """psycopg's `%s` placeholders as libpq's `$1`, `$2`…"""
    parts = sql.split("%s")
    return parts[0] + "".join(f"${next(n)}{p}" for p in parts[1:])


def _lean(store: PgStore, conn: psycopg.Connection[Any], *args: Any) -> Recorded | None:
    """The lean way on psycopg; None (nothing written) for the long way."""
    from psycopg import errors

    def run(sql: str, params: tuple[Any, ...]) -> list[Any]:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []

    try:
        with conn.transaction():
            return _steps(run, lambda board: store._lock(conn, board=board), *args)
    except _Long:
        return None
    except errors.UndefinedTable:  # no store here: the long way says so
        return None


def _steps(
    run: Run,
    lock: Callable[[int], None] | None,
    kpi: Ref,
    value: float,
    day: date,
    today: date,
    board: Ref | None,
    plan: float | None,
    note: str,
    now: datetime | None,
) -> Recorded:
    """The lean way's statements, in the caller's transaction (`lock`: wait for the board's
    lock; None: only try it, and leave for psycopg if taken)."""
    k_id, b_id = _find(run, kpi, board)
    if lock is not None:
        lock(b_id)
    else:
        got = run("SELECT pg_try_advisory_xact_lock_shared(%s), pg_try_advisory_xact_lock(%s, %s)",
                  (LOCK_KEY, BOARD_LOCKS, b_id % 2**31))[0]  # fmt: skip
        if not all(_bool(x) for x in got):
            from .libpq import Unsure

            raise Unsure("busy: psycopg waits, saying for whom")
    head, docs = _read(run, k_id, b_id, day)
    who, new_id, at, board_name = head
    k_doc = docs["kpis"].get(k_id)
    if k_doc is None or k_doc.get("archived") or k_doc["board"] != b_id:
        raise _Long  # changed before the lock was ours
    if isinstance(kpi, str) and str(k_doc["name"]).casefold() != kpi.strip().casefold():
        raise _Long
    try:
        ks = {i: codec.decode_kpi(d) for i, d in docs["kpis"].items()}
        k = ks[k_id]
        mine: dict[int, list[Any]] = {i: [] for i in ks}
        for d in docs["entries"].values():
            mine[d["kpi"]].append(codec.decode_entry(d))
        acts = [codec.decode_action(d) for d in docs["actions"].values()]
        ests = [codec.decode_estimate(d) for d in docs["estimates"].values()]
        whys = [codec.decode_explanation(d) for d in docs["explanations"].values()]
    except (codec.Malformed, KeyError):
        raise _Long from None
    before = [e for e in mine[k_id] if e.day == day]
    doc = {"id": int(new_id), **codec.entry_doc(k_id, day, value, plan, note),
           "who": str(who), "at": str(at)}  # fmt: skip
    run(
        "WITH e AS (INSERT INTO entries (id, kpi, date, value, plan, note) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id) "
        "INSERT INTO board_changes (board, n, who, at, what) "
        "SELECT %s, nextval('last_change_seq'), current_user, now(), %s FROM e "
        "ON CONFLICT (board) DO UPDATE SET n = excluded.n, who = excluded.who, "
        "at = excluded.at, what = excluded.what",
        (int(new_id), k_id, day.isoformat(), float(value), plan, note,
         b_id, f"recorded {k.name} = {value:g}"),
    )  # fmt: skip
    entry = codec.decode_entry(doc)
    mine[k_id].append(entry)
    counter = k.counter
    order = [k, ks[counter]] if counter is not None and counter in ks and counter != k_id else [k]
    view = view_kpis(
        order, mine, acts, {b_id: str(board_name)}, today, now=now,
        estimates_of={k_id: ests}, explanations_of={k_id: whys},
    )[0]  # fmt: skip
    return Recorded(entry, view, before[-1] if before else None)


def _bool(x: Any) -> bool:
    return x is True or x == "t"


def _json(x: Any) -> Any:
    return json.loads(x) if isinstance(x, str) else x


def _find(run: Run, kpi: Ref, board: Ref | None) -> tuple[int, int]:
    """The KPI's id and its board's, as `Snapshot.kpi_ref` finds them; `_Long` when unsure."""
    want = kpi.strip() if isinstance(kpi, str) else ""
    if not want.isascii() or (isinstance(board, str) and not board.strip().isascii()):
        raise _Long
    cond = "lower(k.name) = lower(%s)" if isinstance(kpi, str) else "k.id = %s"
    bcond, params = "false", [want if isinstance(kpi, str) else kpi]
    if isinstance(kpi, str) and board is not None:
        bcond = "lower(b.name) = lower(%s)" if isinstance(board, str) else "b.id = %s"
        params.append(board.strip() if isinstance(board, str) else board)
        # Only that board's KPIs of the name (an organisation has one per team board); the
        # board is checked again below, as before.
        cond += f" AND k.board IN (SELECT b.id FROM boards b WHERE {bcond})"
        params.insert(1, params[1])
    version, found, boards = run(
        "SELECT (SELECT schema_version FROM meta WHERE id = 1), "
        "(SELECT coalesce(json_agg(json_build_array(k.id, k.board, k.name)), '[]') "
        f"FROM kpis k WHERE NOT k.archived AND {cond}), "
        "(SELECT coalesce(json_agg(json_build_array(b.id, b.name)), '[]') "
        f"FROM boards b WHERE {bcond})",
        tuple(params),
    )[0]
    if version is None or int(version) != pg_schema.VERSION:
        raise _Long  # a store to migrate (or newer): the long way migrates or refuses
    pool = [
        (int(i), int(b)) for i, b, n in _json(found) if not want or n.casefold() == want.casefold()
    ]
    if isinstance(kpi, str) and board is not None:
        named = board.strip().casefold() if isinstance(board, str) else None
        bs = [int(i) for i, n in _json(boards) if named is None or n.casefold() == named]
        if len(bs) != 1:
            raise _Long
        pool = [(i, b) for i, b in pool if b == bs[0]]
    if len(pool) != 1:
        raise _Long  # none, or on several boards: the long way words the error
    return pool[0]


def _as_json(t: rows.Table | rows.Child, where: str, join: str = "") -> str:
    """A table's rows as `select_sql` selects them, as one JSON array of objects c0, c1…"""
    n = len(t.cols) + (1 if isinstance(t, rows.Child) else int(t.extra) + int(bool(t.whole)))
    names = ", ".join(f"c{i}" for i in range(n))
    return (f"(SELECT coalesce(json_agg(q), '[]') FROM ({rows.select_sql(t, where, join)}) "
            f"AS q({names}))")  # fmt: skip


def _read(
    run: Run, k_id: int, b_id: int, day: date
) -> tuple[tuple[Any, ...], dict[str, dict[int, dict[str, Any]]]]:
    """Under the lock, in one SELECT: who, the entry's id, now, the board's name, and the
    documents of the KPI (and its counter-metric), open actions, estimates, explanations and
    recent entries."""
    kp, ac, en = rows.BY_NAME["kpis"], rows.BY_NAME["actions"], rows.BY_NAME["entries"]
    k = "\0K"  # the KPI's id, a parameter (`_params`): one text for every record, prepared once
    mine = f"id IN ({k}, (SELECT counter FROM kpis WHERE id = {k}))"
    open_acts = f"kpi = {k} AND stage <> 'done'"
    period = ("CASE w.f WHEN 'weekly' THEN date_trunc('week', x.date)::date "
              "WHEN 'monthly' THEN date_trunc('month', x.date)::date ELSE x.date END")  # fmt: skip
    # Each KPI's first day wanted: the start of its VIEW_PERIODS-th latest period with entries.
    # Its own from the day recorded too, if earlier (what it supersedes): one range per KPI.
    cut = (f"JOIN (SELECT w.k, least(CASE WHEN w.k = {k} THEN \0D END, (SELECT min(p) "
           f"FROM (SELECT DISTINCT {period} AS p FROM entries x WHERE x.kpi = w.k "
           f"ORDER BY p DESC LIMIT {VIEW_PERIODS}) AS s)) AS s "
           f"FROM (SELECT id AS k, frequency AS f FROM kpis WHERE {mine}) AS w) AS w "
           "ON kpi = w.k AND date >= w.s")  # fmt: skip
    parts = [
        _as_json(kp, mine),
        _as_json(kp.children[0], f"kpi IN (SELECT id FROM kpis WHERE {mine})"),
        _as_json(ac, open_acts),
        _as_json(ac.children[0], f"action IN (SELECT id FROM actions WHERE {open_acts})"),
        _as_json(rows.BY_NAME["estimates"], f"kpi = {k}"),
        _as_json(rows.BY_NAME["explanations"], f"kpi = {k}"),
        _as_json(en, "", cut),
    ]
    got = run(
        *_params(
            f"SELECT current_user, nextval('entries_id_seq'), {_AT}, "
            f"(SELECT name FROM boards WHERE id = \0B), {', '.join(parts)}",
            {"K": (k_id, "bigint"), "B": (b_id, "bigint"), "D": (day.isoformat(), "date")},
        )
    )[0]
    head = tuple(got[:4])
    docs: dict[str, dict[int, dict[str, Any]]] = {}
    for name, t, found in (("kpis", kp, got[4]), ("actions", ac, got[6]),
                           ("estimates", rows.BY_NAME["estimates"], got[8]),
                           ("explanations", rows.BY_NAME["explanations"], got[9]),
                           ("entries", en, got[10])):  # fmt: skip
        docs[name] = {}
        for obj in _json(found):
            doc = rows.row_doc(t.cols, _row(obj, t), t)
            for ch in t.children:
                doc[ch.key] = []
            docs[name][int(doc["id"])] = doc
    for name, ch, found in (("kpis", kp.children[0], got[5]), ("actions", ac.children[0], got[7])):
        for obj in _json(found):
            r = _row(obj, ch)
            docs[name][int(r[0])][ch.key].append(rows.row_doc(ch.cols, r[1:]))
    return head, docs


def _params(sql: str, values: dict[str, tuple[Any, str]]) -> tuple[str, tuple[Any, ...]]:
    """`sql` with each marker (NUL and a letter) as a typed `%s`, and the values in order."""
    first, *rest = sql.split("\0")
    out, params = [first], []
    for piece in rest:
        value, kind = values[piece[0]]
        out.append(f"%s::{kind}{piece[1:]}")
        params.append(value)
    return "".join(out), tuple(params)


def _row(obj: dict[str, Any], t: rows.Table | rows.Child) -> list[Any]:
    """A JSON row back in `select_sql`'s column order, double precision as floats."""
    row = [obj[f"c{i}"] for i in range(len(obj))]
    cols = [None, *t.cols] if isinstance(t, rows.Child) else list(t.cols)
    for i, c in enumerate(cols):
        if c is not None and c.key in _FLOATS and isinstance(row[i], int):
            row[i] = float(row[i])
    return row


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
    from ..snapshot import Snapshot

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
