"""A store that records again keeps its libpq connection (store/pg/record.py `_writer`) and its
prepared statements: the same answers as a first record, a lost or refused connection never
loses or doubles a value, threads sharing a store each get a connection, and `close` lets it
go."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime

import psycopg
import pytest

from store import ops
from store.errors import StoreError
from store.pg import open_store
from store.pg.engine import PgStore

DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(pg_url: str) -> PgStore:
    """Board Line 3 with OEE (id 1, target 85) and Scrap (id 2)."""
    s = open_store(pg_url)
    assert isinstance(s, PgStore)
    ops.init(s)
    ops.add_board(s, "Line 3")
    ops.add_kpi(s, "OEE", board="Line 3", target=85.0)
    ops.add_kpi(s, "Scrap", board="Line 3", target=2.0)
    return s


@pytest.fixture
def sql(store: PgStore) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(store.url, autocommit=True) as conn:
        yield conn


def backends(sql: psycopg.Connection[tuple[object, ...]]) -> set[int]:
    """The pids of teamboard's connections to this database (the test's own aside)."""
    got = sql.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = 'teamboard' AND pid <> pg_backend_pid()"
    ).fetchall()
    return {int(str(r[0])) for r in got}


def settled(sql: psycopg.Connection[tuple[object, ...]], n: int) -> set[int]:
    """`backends` once exactly `n` are left: a closed connection's backend ends a moment after
    its client closed it (waits up to 10 s, then says what it saw)."""
    deadline = time.monotonic() + 10
    while len(got := backends(sql)) != n and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(got) == n, got
    return got


def test_records_on_a_kept_connection_answer_as_fresh_stores_do(
    store: PgStore, sql: psycopg.Connection[tuple[object, ...]], pg_url: str
) -> None:
    """Every record after the first runs on the one backend the first started, and its answer
    (entry, view, what it superseded) is what a store recording once gives."""
    pids: set[int] = set()
    steps = [("OEE", 80.0, None), ("OEE", 90.0, 81.0), ("Scrap", 3.0, None),
             ("oee", 70.0, 91.0), ("Scrap", 1.0, 4.0)]  # fmt: skip
    for i, (kpi, value, before) in enumerate(steps):
        kept = ops.record(store, kpi, value, DAY, DAY, now=NOW)
        if i:  # the second record on: the one kept
            pids |= settled(sql, 1)
        fresh = open_store(pg_url)
        assert isinstance(fresh, PgStore)
        again = ops.record(fresh, kpi, value + 1, DAY, DAY, now=NOW)  # supersedes it
        fresh.close()
        assert (kept.superseded and kept.superseded.value) == before
        assert again.superseded == kept.entry
        assert kept.view.kpi == again.view.kpi
        assert kept.entry.value == value and kept.entry.who == again.entry.who
        view = next(v for v in store.read().views(1, DAY, NOW) if v.kpi.id == again.entry.kpi)
        assert view == again.view
    assert len(pids) == 1, pids
    assert store._rconn is not None and store._rconn.prepared  # planned once, run by name
    values = [e.value for e in store.read().entries[1]]
    assert values == [80.0, 81.0, 90.0, 91.0, 70.0, 71.0]


def test_a_lost_kept_connection_records_once_on_a_new_one(
    store: PgStore, sql: psycopg.Connection[tuple[object, ...]]
) -> None:
    """A server that dropped the kept connection (a restart, an idle timeout): the record
    connects afresh and lands exactly once."""
    ops.record(store, "OEE", 79.0, DAY, DAY)
    settled(sql, 0)  # a first record (a command's) leaves no connection
    ops.record(store, "OEE", 80.0, DAY, DAY)
    (old,) = settled(sql, 1)
    sql.execute("SELECT pg_terminate_backend(%s, 10000)", (old,))  # waits for its end
    ops.record(store, "OEE", 81.0, DAY, DAY)
    assert [e.value for e in store.read().entries[1]] == [79.0, 80.0, 81.0]
    (new,) = settled(sql, 1)
    assert new != old


def test_a_refused_record_on_a_kept_connection_says_why_and_the_next_one_lands(
    store: PgStore, sql: psycopg.Connection[tuple[object, ...]]
) -> None:
    """The database refuses a record (a DBA's CHECK): the kept connection's transaction ends,
    psycopg's way says why, nothing is written; the next record lands."""
    ops.record(store, "OEE", 79.0, DAY, DAY)
    ops.record(store, "OEE", 80.0, DAY, DAY)
    sql.execute("ALTER TABLE entries ADD CONSTRAINT sane CHECK (value < 1000)")
    with pytest.raises(StoreError, match="sane"):
        ops.record(store, "OEE", 5000.0, DAY, DAY)
    with pytest.raises(StoreError, match="Nope"):
        ops.record(store, "Nope", 1.0, DAY, DAY)
    ops.record(store, "OEE", 82.0, DAY, DAY)
    assert [e.value for e in store.read().entries[1]] == [79.0, 80.0, 82.0]
    settled(sql, 1)


def test_threads_sharing_a_store_each_record_and_close_lets_the_connection_go(
    store: PgStore, sql: psycopg.Connection[tuple[object, ...]]
) -> None:
    """Records from several threads on one store, each on its own board: one at a time on the
    kept connection, the others on their own; all land once. `close` ends the kept one."""
    for n in range(4):
        ops.add_board(store, f"Cell {n}")
        ops.add_kpi(store, "Output", board=f"Cell {n}", target=10.0)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        for i in range(5):
            try:
                ops.record(store, "Output", float(n * 10 + i), DAY, DAY, board=f"Cell {n}")
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    ops.record(store, "OEE", 1.0, DAY, DAY)  # alone: kept, whatever the threads' race left
    snap = store.read()
    got = sorted(e.value for k in snap.kpis.values() if k.name == "Output"
                 for e in snap.entries[k.id])  # fmt: skip
    assert got == sorted(float(n * 10 + i) for n in range(4) for i in range(5))
    settled(sql, 1)
    store.close()
    settled(sql, 0)
