"""A follower's next read (store/pg/follow.py): given its last snapshot, a PostgreSQL store reads
what changed, and what it gives is exactly what a full scoped read gives (the whole snapshot
compared: boards, KPIs, entries, actions, goals, the log, the entry count, the last change),
after records, supersedes, back-dated entries, SQL written by hand, out-of-order commits,
structural writes and a lost connection. The store: test_scope's (the demo, a day of writes
through every noun, a counter-metric on another board, a long history, a year-old entry)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from conftest import TODAY
from test_cross_engine import SCRIPT
from test_scope import MORE

from store.db import Store
from store.pg import follow, open_store
from store.pg.engine import PgStore
from store.scope import Scope
from store.snapshot import Snapshot
from tui.cli import main


@pytest.fixture(scope="module")
def template(pg_cluster: object) -> str:
    """A database with the store, made once: each test copies it (CREATE DATABASE TEMPLATE)."""
    import psycopg
    from pg_cluster import Cluster

    assert isinstance(pg_cluster, Cluster)
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS tb_follow")
        conn.execute("CREATE DATABASE tb_follow")
    url = pg_cluster.url("tb_follow")
    for argv in (("init", "--demo"), *SCRIPT, *MORE):
        assert main(["--store", url, *argv], today=TODAY) == 0, argv
    with psycopg.connect(url) as conn:  # forty days of Uptime: more periods than a read keeps
        conn.execute(
            "INSERT INTO entries (kpi, date, value) SELECT (SELECT id FROM kpis WHERE name = "
            "'Uptime'), DATE '2026-11-19' - n, 80 + n % 7 FROM generate_series(1, 40) AS n"
        )
    return "tb_follow"


_copies = iter(range(1, 1000))


@pytest.fixture
def url(pg_cluster: object, template: str) -> str:
    import psycopg
    from pg_cluster import Cluster

    assert isinstance(pg_cluster, Cluster)
    name = f"tb_follow_{next(_copies)}"
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return pg_cluster.url(name)


@pytest.fixture
def rereads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each follower read's way: True, what changed; False, the full read."""
    ways: list[bool] = []
    real = follow.reread

    def spy(*args: Any) -> Any:
        got = real(*args)
        ways.append(got is not None)
        return got

    monkeypatch.setattr(follow, "reread", spy)
    return ways


class Followers:
    """One follower (a store of its own, as the app's) per scope, each with its last snapshot."""

    def __init__(self, url: str) -> None:
        self.url = url
        probe = open_store(url).read()
        plant = probe.default_board().id
        team = probe.board_named("Line 4").id
        uptime = probe.kpi_named("Uptime").id
        self.scopes = [
            Scope.of({team}),  # a wall (bench/bench_pg.py's follower)
            Scope.of({team}, own_history=True),  # the app on a board
            Scope.of({plant}),  # a roll-up: the boards below come too
            Scope.of({team}, since=TODAY - timedelta(days=60), full={uptime}),  # a calendar
            Scope.of(None),  # the tree
        ]
        self.stores: list[Store] = [open_store(url) for _ in self.scopes]
        pairs = zip(self.stores, self.scopes, strict=True)
        # As the app: its first read has no previous; its second (full) leaves what the next
        # checks (a read without previous leaves nothing: the command line's has no next).
        self.last: list[Snapshot] = [s.read(s.read(scope=sc), scope=sc) for s, sc in pairs]

    def check(self, what: str) -> None:
        """Each follower reads on; its snapshot is the one a full read of its scope gives."""
        for i, (store, scope) in enumerate(zip(self.stores, self.scopes, strict=True)):
            self.last[i] = store.read(self.last[i], scope=scope)
            full = open_store(self.url).read(scope=scope)
            assert self.last[i] == full, (what, scope)

    def close(self) -> None:
        for s in self.stores:
            assert isinstance(s, PgStore)
            s.close()


@pytest.fixture
def followers(url: str) -> Iterator[Followers]:
    f = Followers(url)
    yield f
    f.close()


def cli(url: str, *argv: str) -> None:
    assert main(["--store", url, *argv], today=TODAY) == 0, argv


def sql(url: str, statement: str, params: Any = ()) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(statement, params)


def test_records_read_what_changed_and_equal_a_full_read(
    url: str, followers: Followers, rereads: list[bool]
) -> None:
    followers.check("nothing written")
    assert rereads == [True] * 5
    writes: list[tuple[str, ...]] = [
        ("record", "Uptime", "91"),
        ("record", "Uptime", "93"),  # supersedes today's
        ("record", "Uptime", "70", "--date", "2026-10-01"),  # before the periods kept
        ("record", "Uptime", "71", "--date", "2025-01-01"),
        ("record", "Overtime", "4", "--date", "2024-06-01"),  # a KPI with two periods
        ("record", "Daily output", "900", "--date", "yesterday", "--plan", "880"),
        ("record", "On-time delivery", "97"),  # the plant's, weekly
        ("note", "Uptime", "press fixed"),
    ]
    for argv in writes:
        del rereads[:]
        cli(url, *argv)
        followers.check(" ".join(argv))
        assert rereads == [True] * 5, argv  # no structural change: no full read


def test_entries_on_the_edges_of_what_a_read_keeps(url: str, followers: Followers) -> None:
    """Each KPI a follower holds gets an entry on the day before its first one held, on that
    day, and a week and a month before (by SQL, as another program would write)."""
    for i, scope in enumerate(followers.scopes[:4]):
        snap = followers.last[i]
        for kpi, held in sorted(snap.entries.items())[:6]:
            first = min(e.day for e in held)
            for day in (first, first - timedelta(days=1), first - timedelta(days=7),
                        first - timedelta(days=31)):  # fmt: skip
                sql(url, "INSERT INTO entries (kpi, date, value) VALUES (%s, %s, 1)", (kpi, day))
                followers.check(f"{scope}: KPI {kpi} on {day}")


def test_commits_out_of_id_order_are_not_missed(url: str, followers: Followers) -> None:
    """Entry ids come from a sequence: a writer that took an id first may commit last."""
    import psycopg

    probe = open_store(url).read()
    kpi = probe.kpi_named("Uptime").id
    with psycopg.connect(url) as slow, psycopg.connect(url) as quick:
        got = slow.execute("SELECT nextval('entries_id_seq')").fetchone()
        assert got is not None
        quick.execute("INSERT INTO entries (kpi, date, value) VALUES (%s, %s, 5)", (kpi, TODAY))
        quick.commit()
        followers.check("the later id first")
        slow.execute(
            "INSERT INTO entries (id, kpi, date, value) VALUES (%s, %s, %s, 6)",
            (got[0], kpi, TODAY - timedelta(days=1)),
        )
        slow.commit()
    followers.check("the earlier id last")
    assert any(e.id == got[0] for e in followers.last[0].entries[kpi])


def test_structural_writes_read_in_full(
    url: str, followers: Followers, rereads: list[bool]
) -> None:
    writes: list[tuple[str, ...]] = [
        ("kpi", "add", "Scrap", "--board", "Line 4", "--target", "2", "--direction", "down"),
        ("record", "Scrap", "3"),
        ("target", "Uptime", "95"),
        ("action", "add", "Fix the die", "--kpi", "Uptime", "--owner", "ana"),
        ("action", "move", "9", "check"),
        ("board", "edit", "Line 4", "--description", "the new line"),
        ("explain", "Scrap", "new die", "--until", "+2"),
        ("plan", "Scrap", "2", "--date", "+1", "--by", "ana"),
        ("review", "Line 4", "--note", "scrap watched"),
        ("goal", "add", "Less scrap", "--board", "Line 4"),
        ("kpi", "archive", "Scrap"),
    ]
    for argv in writes:
        del rereads[:]
        cli(url, *argv)
        followers.check(" ".join(argv))
        if argv[0] != "record":
            assert False in rereads, argv  # the board followed changed: read in full
    sql(url, "UPDATE kpis SET unit = 'pcs' WHERE name = 'Uptime'")  # by hand: no meta, no log
    followers.check("a KPI edited by SQL")
    sql(url, "UPDATE boards SET description = 'by hand' WHERE name = 'Assembly'")
    followers.check("a board edited by SQL")


def test_a_lost_connection_is_replaced_and_reads_in_full(url: str, rereads: list[bool]) -> None:
    import psycopg

    store = open_store(url)
    assert isinstance(store, PgStore)
    scope = Scope.of({"Line 4"})
    last = store.read(scope=scope)
    last = store.read(last, scope=scope)  # on the follower's own connection now
    assert store._conn is not None
    pid = store._conn.info.backend_pid
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    cli(url, "record", "Uptime", "77")
    del rereads[:]
    again = store.read(last, scope=scope)  # a new connection at once (a server restart)
    assert rereads == []  # what changed could not be asked (the connection was gone): in full
    assert store._conn is not None and store._conn.info.backend_pid != pid
    assert again == open_store(url).read(scope=scope)
    assert any(e.value == 77 and e.day == TODAY for e in again.entries[last.kpi_named("Uptime").id])
    store.close()


def test_a_read_without_previous_or_another_scope_reads_in_full(
    url: str, rereads: list[bool]
) -> None:
    store = open_store(url)
    assert isinstance(store, PgStore)
    a, b = Scope.of({"Line 4"}), Scope.of({"Assembly"})
    first = store.read(scope=a)
    other = open_store(url).read(scope=a)
    store.read(other, scope=a)  # not the snapshot it gave
    store.read(first, scope=b)  # another scope
    store.read(scope=a)
    assert rereads == []
    assert store._kept is None  # a one-off read leaves nothing behind
    store.close()


def test_the_bound_is_never_after_what_the_read_keeps() -> None:
    from store.model import Entry

    def e(day: date) -> Entry:
        return Entry(id=1, kpi=1, day=day, value=1.0)

    weekly = [e(date(2026, 11, 18)), e(date(2026, 11, 10))]  # a Wednesday and a Tuesday
    scope = Scope.of({1}, periods=2)
    assert follow.bound(1, "weekly", weekly, scope, frozenset()) <= "2026-11-09"  # its Monday
    assert follow.bound(1, "weekly", weekly[:1], scope, frozenset()) == follow.EVER
    assert follow.bound(1, "daily", weekly, scope, frozenset({1})) == follow.EVER
    since = Scope.of({1}, periods=2, since=date(2026, 10, 1))
    assert follow.bound(1, "monthly", weekly, since, frozenset()) == follow.EVER  # one month
    assert follow.bound(1, "daily", weekly, since, frozenset()) <= "2026-10-01"
