"""A follower's next read (issue 14: write → tile at 200 writers): what changed since its last
snapshot, not the boards, KPIs and entries all over again.

`PgStore.read(previous, scope=...)` with the snapshot its last read of the same scope gave
(the app passes its last read; so does bench/bench_pg.py's follower) asks, on the connection
the store keeps for its follower's reads, in one REPEATABLE READ transaction pipelined (two
round trips: the statements, the COMMIT):

- the schema's version and the store's last change (a `record` changes it: read every time);
- for every select the last read ran but the entries' (store/pg/scoped.py logs them), a
  fingerprint of the rows it selects now (`scoped._print_sql`): equal, and those rows are
  what the last read loaded, so its boards, KPIs, targets, actions, goals, ... are reused;
- for every KPI whose entries the scope reads, the count and the sum of the ids of its entries
  from a day on or before the first the last read kept (`bound`): entries are append-only (a
  new one supersedes; the database refuses updates and deletes), so equal means the same
  entries. An entry added before that day cannot change what the scope holds (it keeps each
  KPI's latest periods with entries, and every entry from `since` on), except for a KPI that
  has fewer periods than that: its bound is the beginning of time;
- the entries of the KPIs whose count changed (their latest periods, as the full read picks
  them: the counts are compared in SQL, so this needs no round trip of its own).

A fingerprint that differs (a structural write, SQL by hand, an import, a restore, a role's
access taken away, a vacuum's freeze), another schema version, a decoding error: the full
scoped read, in a new transaction. Otherwise those KPIs' entries replace the old: the snapshot is
what a full scoped read gives (tests/pg/test_follow.py compares them). No id order is trusted:
entry ids come from a sequence, and concurrent writers commit out of that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from .. import codec
from ..model import Entry, Frequency
from ..rules import period_start
from ..scope import Scope
from ..snapshot import Snapshot
from . import scoped

if TYPE_CHECKING:
    import psycopg

EVER = "-infinity"
_TOKENS = (
    "SELECT w.k, count(e.id), coalesce(sum(e.id), 0) FROM unnest(%s::bigint[], "
    "%s::text[]::date[]) AS w(k, b) LEFT JOIN entries e ON e.kpi = w.k AND e.date >= w.b "
    "GROUP BY w.k"
)

# Which KPIs' tokens differ from the last read's (%(tk)s, %(tb)s: the KPIs and their bounds;
# %(tn)s, %(ts)s: their tokens then): `scoped.entries_sql` reads only theirs.
_CHANGED = (
    "tk AS (SELECT w.k, count(e.id) AS n, coalesce(sum(e.id), 0) AS s "
    "FROM unnest(%(tk)s::bigint[], %(tb)s::text[]::date[]) AS w(k, b) "
    "LEFT JOIN entries e ON e.kpi = w.k AND e.date >= w.b GROUP BY w.k), "
    "ch AS (SELECT tk.k FROM tk JOIN unnest(%(tk)s::bigint[], %(tn)s::bigint[], "
    "%(ts)s::numeric[]) AS o(k, n, s) ON o.k = tk.k WHERE tk.n <> o.n OR tk.s <> o.s), "
)
_ONLY = "{k} IN (SELECT k FROM ch)"

Token = tuple[int, int]  # (how many entries, the sum of their ids)


@dataclass(frozen=True)
class Kept:
    """What a read leaves for the next: the snapshot it gave, and how to tell what changed."""

    snap: Snapshot
    scope: Scope
    version: int
    checks: scoped.Log  # the fingerprint selects and their parameters
    prints: list[Any]  # their rows then
    kpis: dict[int, str]  # the KPIs whose entries the scope reads: their frequency
    full: frozenset[int]  # those whose every entry it reads
    bounds: dict[int, str]  # a KPI's first day counted by its token (ISO, or EVER)
    tokens: dict[int, Token]


def bound(kpi: int, freq: str, got: list[Entry], scope: Scope, full: frozenset[int]) -> str:
    """The day from which a KPI's entries are counted: on or before the first its scoped read
    keeps (`scoped.entries`'s cut), so an entry before it changes nothing the scope holds."""
    if kpi in full or (scope.periods is None and scope.since is None) or not got:
        return EVER
    first: date | None = None
    if scope.periods is not None:
        try:
            f = Frequency(freq)
        except ValueError:
            return EVER
        starts = {period_start(f, e.day) for e in got}
        if len(starts) < scope.periods:  # it has fewer periods: an older entry would count
            return EVER
        first = min(starts) - timedelta(days=1)  # a day to spare: only ever earlier
    if scope.since is not None:
        first = scope.since if first is None else min(first, scope.since)
    return EVER if first is None else first.isoformat()


def tokens(conn: psycopg.Connection[Any], bounds: dict[int, str]) -> Any:
    """Send the tokens' select (read its rows later: it may run in a pipeline)."""
    ids = sorted(bounds)
    return conn.execute(_TOKENS, (ids, [bounds[k] for k in ids]))


def read_tokens(cur: Any) -> dict[int, Token]:
    return {int(k): (int(n), int(s)) for k, n, s in cur.fetchall()}


def combine(log: scoped.Log) -> scoped.Log:
    """The fingerprint selects as few statements (each a text array): those that share one
    mapping of named parameters (a scoped read's pipelined selects) as one, the positional
    ones as another; fewer statements to send, bind and run on every read."""
    by_names: dict[int, tuple[Mapping[str, Any], list[str]]] = {}
    plain: list[str] = []
    values: list[Any] = []
    for sql, params in log:
        if isinstance(params, Mapping):
            by_names.setdefault(id(params), (params, []))[1].append(sql)
        else:
            plain.append(sql)
            values.extend(params)
    out: scoped.Log = [(_array(sqls), params) for params, sqls in by_names.values()]
    if plain:
        out.append((_array(plain), tuple(values)))
    return out


def _array(sqls: list[str]) -> str:
    return "SELECT ARRAY[" + ", ".join(f"({sql})" for sql in sqls) + "]"


def keep(
    conn: psycopg.Connection[Any],
    snap: Snapshot,
    scope: Scope,
    version: int,
    log: scoped.Log,
    raw: dict[str, Any],
    full: frozenset[int],
) -> Kept:
    """After a full scoped read, in its transaction: the fingerprints and tokens of what it
    loaded (one more round trip)."""
    kpis = {int(d["id"]): str(d["frequency"]) for d in raw["kpis"].values()}
    bounds = {k: bound(k, f, snap.entries.get(k, []), scope, full) for k, f in kpis.items()}
    log = combine(log)
    with conn.pipeline():
        curs = [conn.execute(sql, params) for sql, params in log]
        tok = tokens(conn, bounds) if bounds else None
        prints = [c.fetchone() for c in curs]
        got = read_tokens(tok) if tok is not None else {}
    return Kept(snap, scope, version, log, prints, kpis, full, bounds, got)


def reread(conn: psycopg.Connection[Any], kept: Kept) -> tuple[Snapshot, Kept] | None:
    """The snapshot now from `kept`, in a transaction of its own and two round trips (the
    statements, the COMMIT); None when the structure changed (the caller reads in full)."""
    ids = sorted(kept.kpis)
    with conn.pipeline(), conn.transaction():
        version = conn.execute("SELECT schema_version FROM meta WHERE id = 1")
        curs = [conn.execute(sql, params) for sql, params in kept.checks]
        tok = tokens(conn, kept.bounds) if ids else None
        if ids:  # the entries of the KPIs whose token changed (the tokens again, in SQL)
            sql, params = scoped.entries_sql(
                [(k, kept.kpis[k]) for k in ids], kept.scope, kept.full, _CHANGED, _ONLY
            )
            params |= {"tk": ids, "tb": [kept.bounds[k] for k in ids],
                       "tn": [kept.tokens.get(k, (0, 0))[0] for k in ids],
                       "ts": [kept.tokens.get(k, (0, 0))[1] for k in ids]}  # fmt: skip
            ent = conn.execute(sql, params)
        meta = scoped.empty(conn, kept.version)["meta"]["1"]  # its fetch sends them all
        got = version.fetchone()
        prints = [c.fetchone() for c in curs]
        now = read_tokens(tok) if tok is not None else {}
        docs = scoped.entry_docs(ent) if ids else {}
    if got is None or int(got[0]) != kept.version:
        return None
    if prints != kept.prints:
        return None
    changed = [k for k in ids if now.get(k) != kept.tokens.get(k)]
    prev = kept.snap
    entries = dict(prev.entries)
    count = prev.entry_count
    if changed:
        reuse = {e.id: e for k in changed for e in prev.entries.get(k, [])}
        fresh: dict[int, list[Entry]] = {}
        try:
            for key, d in docs.items():
                e = reuse.get(int(d["id"]))
                if e is None or not codec.same_entry(e, d):
                    e = codec.decode_entry(d, key)
                fresh.setdefault(e.kpi, []).append(e)
        except codec.Malformed:
            return None  # the full read says what is wrong, as ever
        if set(fresh) - set(changed):
            return None  # not what the tokens said: no guess, the full read
        for k in changed:
            count -= len(entries.get(k, []))
            if k in fresh:
                count += len(fresh[k])
                entries[k] = fresh[k]
            else:
                entries.pop(k, None)
    try:
        change = codec.decode_change(meta)
    except codec.Malformed:
        return None
    snap = replace(prev, entries=entries, entry_count=count, last_change=change)
    return snap, replace(kept, snap=snap, tokens=now)
