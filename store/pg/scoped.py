"""A scoped read (`PgStore.read(scope=...)`): the rows the boards shown need, not the store.

store/scope.py says what a scoped snapshot holds; this loads exactly that, as the documents
`load` gives, so `Snapshot.from_raw` builds it unchanged and its reference checks hold (every
KPI a loaded action or counter names is loaded, every goal a loaded goal or KPI names, ...).
The boards table is read whole (names and parents: the tree). Entries are limited per KPI: its
latest `periods` periods that have entries (on the index `entries (kpi, date, id)`), and every
entry from `since` on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from .. import schema as file_schema
from ..scope import Scope
from . import rows
from . import schema as pg_schema

Raw = dict[str, Any]
Docs = dict[str, dict[str, Any]]
Log = list[tuple[str, Any]]
"""The selects a read ran, as (SQL, parameters): what a follower's next read checks
(store/pg/follow.py), on the same rows, without loading them again."""

# A period's first day as the rules count periods (store.rules.period_start: weeks on Monday).
_PERIOD = (
    "CASE w0.f WHEN 'weekly' THEN date_trunc('week', e.date)::date "
    "WHEN 'monthly' THEN date_trunc('month', e.date)::date ELSE e.date END"
)


def fetch(
    conn: psycopg.Connection[Any], table: str, where: str, params: Any = (), log: Log | None = None
) -> Docs:
    """The rows of `table` that `where` selects, as documents, with their child rows (and
    each select in `log`)."""
    t = rows.BY_NAME[table]
    docs: Docs = {}
    if log is not None:
        log.append((_print_sql(t, where), params))
    for r in conn.execute(rows.select_sql(t, where), params):
        doc = rows.row_doc(t.cols, r, t)
        for ch in t.children:
            doc[ch.key] = []
        docs[str(doc["id"])] = doc
    for ch in t.children:
        if not docs:
            break
        ids = [int(k) for k in docs]
        if log is not None:
            log.append((_print_sql(ch, f"{ch.parent_col} = ANY(%s)"), (ids,)))
        for r in conn.execute(rows.select_sql(ch, f"{ch.parent_col} = ANY(%s)"), (ids,)):
            docs[str(r[0])][ch.key].append(rows.row_doc(ch.cols, r[1:]))
    return docs


def fetch_later(
    conn: psycopg.Connection[Any],
    table: str,
    where: str,
    params: Sequence[Any] | Mapping[str, Any] = (),
    log: Log | None = None,
) -> Callable[[], Docs]:
    """`fetch`, sent now and read when called: in a pipeline, several tables in one round
    trip (the child rows are selected by the same condition, not by the ids found)."""
    t = rows.BY_NAME[table]
    main = conn.execute(rows.select_sql(t, where), params)
    kids = []
    for ch in t.children:
        cond = f"{ch.parent_col} = ANY(ARRAY(SELECT id FROM {table} WHERE {where}))"
        kids.append((ch, conn.execute(rows.select_sql(ch, cond), params)))
        if log is not None:
            log.append((_print_sql(ch, cond), params))
    if log is not None:
        log.append((_print_sql(t, where), params))

    def read() -> Docs:
        docs: Docs = {}
        for r in main.fetchall():
            doc = rows.row_doc(t.cols, r, t)
            for ch in t.children:
                doc[ch.key] = []
            docs[str(doc["id"])] = doc
        for ch, cur in kids:
            for r in cur.fetchall():
                if str(r[0]) in docs:
                    docs[str(r[0])][ch.key].append(rows.row_doc(ch.cols, r[1:]))
        return docs

    return read


def _print_sql(t: rows.Table | rows.Child, where: str) -> str:
    """One text (count and md5) that changes when the rows `where` selects change: what they
    hold (a few rows: their text, exactly as loaded), or for a whole table each row's version
    (`ctid`, `xmin`: a new one for every insert and update; text of a thousand boards costs
    more), which a vacuum's freeze may change too (a needless full read, nothing missed)."""
    if not where:
        name = t.table if isinstance(t, rows.Child) else t.name
        return ("SELECT count(*) || ' ' || md5(coalesce(string_agg(ctid::text || xmin::text, "
                f"','), '')) FROM {name}")  # fmt: skip
    return (f"SELECT count(*) || ' ' || md5(coalesce(string_agg(x::text, '|'), '')) "
            f"FROM ({rows.select_sql(t, where)}) AS x")  # fmt: skip


def resolve(boards: Docs, wanted: frozenset[int | str]) -> set[int]:
    """The ids of the boards `wanted` names (ids, or names as `Snapshot.board_named` matches)."""
    names = {w.strip().casefold() for w in wanted if isinstance(w, str)}
    out = {w for w in wanted if isinstance(w, int) and str(w) in boards}
    out |= {int(d["id"]) for d in boards.values() if str(d["name"]).casefold() in names}
    return out


def below(boards: Docs, roots: set[int]) -> set[int]:
    """`roots` and every board under them (a loop, as `tiers.descendants`: trees may be deep)."""
    kids: dict[int, list[int]] = {}
    for d in boards.values():
        if d.get("parent") is not None:
            kids.setdefault(int(d["parent"]), []).append(int(d["id"]))
    out = set(roots)
    todo = list(roots)
    while todo:
        for k in kids.get(todo.pop(), ()):
            if k not in out:
                out.add(k)
                todo.append(k)
    return out


def above(boards: Docs, roots: set[int]) -> set[int]:
    """Every board above `roots` (a loop stops at a board seen twice)."""
    out: set[int] = set()
    for r in roots:
        node = boards.get(str(r), {}).get("parent")
        while node is not None and node not in out and str(node) in boards:
            out.add(int(node))
            node = boards[str(node)].get("parent")
    return out


def load_scoped(
    conn: psycopg.Connection[Any], scope: Scope, raw: Raw, log: Log | None = None
) -> Raw:
    """Fill `raw` (the empty tables and the meta document) with what `scope` needs; every
    select but the entries' goes in `log`."""
    raw["boards"] = fetch(conn, "boards", "", log=log)
    if scope.boards is None:  # every board: every table whole but the entries
        for t in rows.TABLES:
            if t.name not in ("boards", "entries"):
                raw[t.name] = fetch(conn, t.name, "", log=log)
    else:
        named = resolve(raw["boards"], scope.boards)
        shown = below(raw["boards"], named)
        up = sorted(above(raw["boards"], shown) | shown)
        _load_boards(conn, raw, sorted(shown), up, log)
    kpis = [(int(d["id"]), str(d["frequency"])) for d in raw["kpis"].values()]
    raw["entries"] = entries(conn, kpis, scope, full_of(scope, raw))
    return raw


def full_of(scope: Scope, raw: Raw) -> frozenset[int]:
    """The KPIs whose every entry a read of `scope` holds (`raw`: its boards and KPIs)."""
    if scope.boards is None or not scope.own_history:
        return scope.full
    named = resolve(raw["boards"], scope.boards)
    return scope.full | {int(d["id"]) for d in raw["kpis"].values() if d["board"] in named}


def _load_boards(
    conn: psycopg.Connection[Any], raw: Raw, shown: list[int], up: list[int], log: Log | None
) -> None:
    """The rows of the boards `shown` (and what they reach) into `raw`: one pipelined round trip
    for the boards' own rows, more only for what they name elsewhere (rare)."""
    p = {"b": shown, "t": [str(b) for b in shown], "u": up}
    # `x = ANY(ARRAY(subquery))`, not `x IN (subquery)`: each arm of an OR then is an index
    # scan (a BitmapOr), not a filter over every action or change (a follower's every read
    # checks these, store/pg/follow.py).
    mine = "ARRAY(SELECT id FROM kpis WHERE board = ANY(%(b)s))"
    acts = (f"board = ANY(%(b)s) OR kpi = ANY({mine}) "
            "OR (escalation IS NOT NULL AND escalation->>'to' = ANY(%(t)s)) "
            "OR (escalation IS NOT NULL AND escalation->>'origin' = ANY(%(t)s))")  # fmt: skip
    aims = (
        "board = ANY(%(u)s) OR id = ANY(ARRAY(SELECT goal_id FROM kpis WHERE board = ANY(%(b)s)))"
    )
    logged = (f"(tbl = 'boards' AND ref = ANY(%(b)s)) OR (tbl = 'kpis' AND ref = ANY({mine})) "
              "OR (tbl = 'actions' AND ref = ANY(ARRAY("
              f"SELECT id FROM actions WHERE {acts}))) "
              f"OR (tbl = 'goals' AND ref = ANY(ARRAY(SELECT id FROM goals WHERE {aims}))"
              ")")  # fmt: skip
    with conn.pipeline():
        later = {
            "kpis": fetch_later(conn, "kpis", "board = ANY(%(b)s)", p, log),
            "actions": fetch_later(conn, "actions", acts, p, log),
            "goals": fetch_later(conn, "goals", aims, p, log),
            "reviews": fetch_later(conn, "reviews", "board = ANY(%(b)s)", p, log),
            "huddles": fetch_later(conn, "huddles", "board_id = ANY(%(b)s)", p, log),
            "estimates": fetch_later(conn, "estimates", f"kpi = ANY({mine})", p, log),
            "explanations": fetch_later(conn, "explanations", f"kpi = ANY({mine})", p, log),
            "changes": fetch_later(conn, "changes", logged, p, log),
        }
        got = {name: read() for name, read in later.items()}
    raw.update(got)
    kpis, actions, goals = got["kpis"], got["actions"], got["goals"]
    # KPIs elsewhere that these name (counter-metrics, an action's KPI), and theirs in turn.
    more_k: list[int] = []
    want = {a["kpi"] for a in actions.values() if a.get("kpi") is not None}
    while True:
        want |= {k["counter"] for k in kpis.values() if k.get("counter") is not None}
        missing = sorted(i for i in want if str(i) not in kpis)
        found = fetch(conn, "kpis", "id = ANY(%s)", (missing,), log) if missing else {}
        if not found:
            break  # none, or named but absent: the snapshot's checks say so, as a full read would
        kpis.update(found)
        more_k += [int(i) for i in found]
    # The goals those serve, and every goal above a loaded one.
    more_g: list[int] = []
    while True:
        named = {k["goal_id"] for k in kpis.values() if k.get("goal_id") is not None}
        named |= {g["parent"] for g in goals.values() if g.get("parent") is not None}
        missing = sorted(named - {int(i) for i in goals})
        found = fetch(conn, "goals", "id = ANY(%s)", (missing,), log) if missing else {}
        if not found:
            break
        goals.update(found)
        more_g += [int(i) for i in found]
    if more_k:
        raw["estimates"].update(fetch(conn, "estimates", "kpi = ANY(%s)", (more_k,), log))
        raw["explanations"].update(fetch(conn, "explanations", "kpi = ANY(%s)", (more_k,), log))
    if more_k or more_g:
        more = "(tbl = 'kpis' AND ref = ANY(%s)) OR (tbl = 'goals' AND ref = ANY(%s))"
        raw["changes"].update(fetch(conn, "changes", more, (more_k, more_g), log))


def entries(
    conn: psycopg.Connection[Any],
    kpis: list[tuple[int, str]],
    scope: Scope,
    full: frozenset[int] = frozenset(),
) -> Docs:
    """The entries of `kpis` (id, frequency) that `scope` asks for (every one of `full`'s)."""
    if not kpis:
        return {}
    sql, params = entries_sql(kpis, scope, full)
    return entry_docs(conn.execute(sql, params))


def entry_docs(found: Any) -> Docs:
    """The documents of the rows `entries_sql` selected (a cursor)."""
    t = rows.BY_NAME["entries"]
    docs: Docs = {}
    for r in found:
        doc = rows.row_doc(t.cols, r, t)
        docs[str(doc["id"])] = doc
    return docs


def entries_sql(
    kpis: list[tuple[int, str]],
    scope: Scope,
    full: frozenset[int] = frozenset(),
    with_: str = "",
    only: str = "",
) -> tuple[str, dict[str, Any]]:
    """The select of `entries`: `with_`, common table expressions to put first (`name AS
    (...), `), and `only`, a condition on a KPI's id `{k}` that keeps some of `kpis`."""
    t = rows.BY_NAME["entries"]
    ids = [k for k, _ in kpis]
    if scope.periods is None and scope.since is None:
        where = "kpi = ANY(%(ids)s)" + (f" AND {only.format(k='kpi')}" if only else "")
        first = f"WITH {with_.rstrip(', ')} " if with_ else ""
        return first + rows.select_sql(t, where), {"ids": ids}
    # Each KPI's first day wanted: the start of its `periods`-th latest period with entries
    # (a backward walk of its index), or `since` if earlier; every day for the `full` ones.
    cut = (
        f"WITH {with_}w AS (SELECT w0.k, CASE WHEN w0.k = ANY(%(full)s) THEN '-infinity'::date "
        "ELSE least(%(since)s::date, CASE WHEN %(n)s::int IS NULL THEN NULL "
        # A daily KPI's periods are its days: a short backward walk of the index.
        "WHEN w0.f = 'daily' THEN (SELECT min(p) FROM (SELECT DISTINCT e.date AS p "
        "FROM entries e WHERE e.kpi = w0.k ORDER BY p DESC LIMIT %(n)s) AS s) ELSE ("
        f"SELECT min(p) FROM (SELECT DISTINCT {_PERIOD} AS p FROM entries e "
        "WHERE e.kpi = w0.k ORDER BY p DESC LIMIT %(n)s) AS s) END) END AS s "
        "FROM unnest(%(ids)s::bigint[], %(freqs)s::text[]) AS w0(k, f)"
        + (f" WHERE {only.format(k='w0.k')}" if only else "")
        + ") "
    )
    sel = rows.select_sql(t, "", "JOIN w ON kpi = w.k AND date >= w.s")
    params = {"full": sorted(full), "since": scope.since, "n": scope.periods,
              "ids": ids, "freqs": [f for _, f in kpis]}  # fmt: skip
    return cut + sel, params


def empty(conn: psycopg.Connection[Any], version: int | None = None) -> dict[str, Any]:
    """The documents of a store with no rows but its meta (the last change: meta's, or from
    schema 2 on, a board's last `record` when newer)."""
    raw: dict[str, Any] = {name: {} for name in file_schema.TABLES}
    meta: dict[str, Any] = file_schema.marker()
    if (version if version is not None else pg_schema.VERSION) >= 2:
        row = conn.execute(
            "SELECT who, at, what FROM (SELECT last_who AS who, last_at AS at, last_what AS what, "
            "coalesce(last_n, 0) AS n FROM meta UNION ALL (SELECT who, at, what, n "
            "FROM board_changes ORDER BY n DESC LIMIT 1)) AS c ORDER BY n DESC LIMIT 1"
        ).fetchone()
    else:
        row = conn.execute("SELECT last_who, last_at, last_what FROM meta").fetchone()
    if row is not None and row[2] is not None:
        meta["last_change"] = {"who": row[0] or "", "at": rows.iso_at(row[1]), "what": row[2]}
    raw["meta"] = {"1": meta}
    return raw
