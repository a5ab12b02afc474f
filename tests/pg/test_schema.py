"""The PostgreSQL schema refuses bad data whoever writes (psql here: raw SQL), says who wrote from
the database role, notifies per board, and the engine loads its driver only when asked to."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from store import ops
from store.errors import StoreBusy, StoreError, StoreMissing
from store.pg import is_url, open_store
from store.pg.engine import BOARD_LOCKS, LOCK_KEY, PgStore
from store.pg.schema import VERSION
from store.scope import Scope

DAY = date(2026, 11, 20)


@pytest.fixture
def store(pg_url: str) -> PgStore:
    """A store with board Line 3 (id 1) and KPI OEE (id 1)."""
    s = open_store(pg_url)
    assert isinstance(s, PgStore)
    ops.init(s)
    ops.add_board(s, "Line 3")
    ops.add_kpi(s, "OEE", board="Line 3", target=85.0)
    return s


@pytest.fixture
def sql(store: PgStore) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A psql-like connection, autocommit, as the superuser."""
    with psycopg.connect(store.url, autocommit=True) as conn:
        yield conn


def refused(conn: psycopg.Connection[tuple[object, ...]], statement: str) -> str:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(statement)
    return str(caught.value)


def test_the_url_selects_postgresql() -> None:
    assert is_url("postgresql://db/teamboard") and is_url("postgres://x")
    assert not is_url("team.json") and not is_url(None) and not is_url("./postgresql")


def test_bad_rows_are_refused_whoever_writes(sql: psycopg.Connection[tuple[object, ...]]) -> None:
    assert "check" in refused(
        sql, "INSERT INTO actions (id, title, board, stage) VALUES (9, 'x', 1, 'doing')"
    )
    assert "check" in refused(
        sql,
        "INSERT INTO kpis (id, board, name, direction, frequency, kind) "
        "VALUES (9, 1, 'Scrap', 'sideways', 'daily', 'lagging')",
    )
    assert "check" in refused(
        sql,
        "INSERT INTO kpis (id, board, name, direction, frequency, kind) "
        "VALUES (9, 1, 'Scrap', 'up', 'hourly', 'lagging')",
    )
    assert "kpis_name" in refused(
        sql,
        "INSERT INTO kpis (id, board, name, direction, frequency, kind) "
        "VALUES (9, 1, 'oee', 'up', 'daily', 'lagging')",
    )
    assert "boards_name" in refused(sql, "INSERT INTO boards (id, name) VALUES (9, 'LINE 3')")
    assert "foreign key" in refused(
        sql, "INSERT INTO entries (id, kpi, date, value) VALUES (9, 42, '2026-11-20', 1)"
    )
    assert "check" in refused(
        sql, "INSERT INTO entries (id, kpi, date, value) VALUES (9, 1, '2026-11-20', 'NaN')"
    )


def test_entries_are_append_only(
    store: PgStore, sql: psycopg.Connection[tuple[object, ...]]
) -> None:
    ops.record(store, "OEE", 80.0, DAY, DAY)
    assert "append-only" in refused(sql, "UPDATE entries SET value = 99")
    assert "append-only" in refused(sql, "DELETE FROM entries")
    assert "append-only" in refused(sql, "DELETE FROM targets")
    ops.record(store, "OEE", 90.0, DAY, DAY)  # a correction is a new row; the latest wins
    rows = sql.execute("SELECT value FROM entries ORDER BY id").fetchall()
    assert rows == [(80.0,), (90.0,)]
    assert [e.value for e in store.read().entries[1]] == [80.0, 90.0]


def test_who_is_the_database_role_never_a_name_sent(
    store: PgStore, sql: psycopg.Connection[tuple[object, ...]]
) -> None:
    sql.execute("CREATE ROLE mallory LOGIN")
    sql.execute("INSERT INTO access (login, board, kind) VALUES ('mallory', 1, 'member')")
    with psycopg.connect(store.url, autocommit=True) as conn:  # peer auth: root is postgres
        conn.execute("SET ROLE mallory")
        conn.execute("SET teamboard.restore = 'on'")  # only the tables' owner may keep a who
        conn.execute(
            "INSERT INTO entries (id, kpi, date, value, who, at) "
            "VALUES (7, 1, '2026-11-20', 1, 'alice', '2020-01-01')"
        )
    row = sql.execute("SELECT who, at > '2021-01-01' FROM entries WHERE id = 7").fetchone()
    assert row == ("mallory", True)
    ops.record(store, "OEE", 80.0, DAY, DAY)
    (entry,) = [e for e in store.read().entries[1] if e.id != 7]
    assert entry.who == "postgres"  # the role this test connects as, not the OS login (root)


def test_every_write_notifies_its_board(
    store: PgStore, sql: psycopg.Connection[tuple[object, ...]]
) -> None:
    ops.add_board(store, "Line 4")
    with psycopg.connect(store.url, autocommit=True) as listener:
        listener.execute("LISTEN teamboard")
        ops.record(store, "OEE", 80.0, DAY, DAY)  # through teamboard
        sql.execute("INSERT INTO actions (id, title, board, stage) VALUES (5, 'x', 2, 'plan')")
        got: list[str] = []
        for note in listener.notifies(timeout=10):
            got.append(note.payload)
            if "2" in got:
                break
    assert got == ["1", "2"]  # record: the entry's board only; psql: the action's board


def test_the_last_change_is_a_records_or_the_general_paths_whichever_is_newer(
    store: PgStore,
) -> None:
    """`record` keeps its board's last change (board_changes), not meta's row: no follower of
    another board wakes for it, and writers do not queue on one row; the header reads the newer."""
    ops.record(store, "OEE", 80.0, DAY, DAY)
    last = store.read().last_change
    assert last is not None and (last.who, last.what) == ("postgres", "recorded OEE = 80")
    ops.add_board(store, "Line 4")
    last = store.read().last_change
    assert last is not None and "Line 4" in last.what
    ops.record(store, "OEE", 81.0, DAY, DAY)
    last = store.read(scope=Scope.of({"Line 4"})).last_change  # a scoped read says the same
    assert last is not None and last.what == "recorded OEE = 81"


def test_no_store_yet_and_a_newer_schema_are_refused(pg_url: str) -> None:
    s = open_store(pg_url)
    assert not s.exists()
    with pytest.raises(StoreMissing, match="init"):
        s.read()
    ops.init(s)
    assert s.exists()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET schema_version = 99")
    with pytest.raises(StoreError, match="newer"):
        s.read()


def test_a_held_lock_makes_a_writer_wait_then_give_up(store: PgStore) -> None:
    said: list[str] = []
    waiting = PgStore(store.url, on_wait=said.append, lock_timeout=0.2)
    with psycopg.connect(store.url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        with pytest.raises(StoreBusy):
            ops.record(waiting, "OEE", 80.0, DAY, DAY)
    assert said and "waiting for postgres's write" in said[0]  # the holder's role
    assert 1 not in store.read().entries  # nothing was written
    ops.record(waiting, "OEE", 80.0, DAY, DAY)  # the lock is free again
    assert [e.value for e in store.read().entries[1]] == [80.0]


def test_writers_on_different_boards_do_not_wait_for_each_other(store: PgStore) -> None:
    """`record` takes the store's lock shared and its board's exclusively: a writer holding
    board 1 keeps another record on board 1 waiting, not one on board 2; a structural write (the
    general transaction) waits for every record, and a record for it."""
    ops.add_board(store, "Line 4")
    ops.add_kpi(store, "Scrap", board="Line 4", target=2.0)
    said: list[str] = []
    quick = PgStore(store.url, on_wait=said.append, lock_timeout=0.2)
    with psycopg.connect(store.url) as holder:  # a record on Line 3 (board 1), mid-transaction
        holder.execute("SELECT pg_advisory_xact_lock_shared(%s)", (LOCK_KEY,))
        holder.execute("SELECT pg_advisory_xact_lock(%s, %s)", (BOARD_LOCKS, 1))
        assert ops.record(quick, "Scrap", 1.0, DAY, DAY).entry.id == 1  # Line 4: no wait
        assert said == []
        with pytest.raises(StoreBusy):
            ops.record(quick, "OEE", 80.0, DAY, DAY)  # Line 3: waits for it, then gives up
        assert said and "waiting for postgres's write" in said[0]
        with pytest.raises(StoreBusy):
            ops.add_board(quick, "Line 5")  # structural: waits for the record
    with psycopg.connect(store.url) as holder:  # a structural write, mid-transaction
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        with pytest.raises(StoreBusy):
            ops.record(quick, "Scrap", 2.0, DAY, DAY)
    snap = store.read()
    assert 1 not in snap.entries and [e.value for e in snap.entries[2]] == [1.0]
    assert "Line 5" not in {b.name for b in snap.boards.values()}


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    s = open_store(f"postgresql://nobody@/teamboard?host={tmp_path}&port=1")
    with pytest.raises(StoreError, match="cannot reach the store") as caught:
        s.read()
    assert "\n" not in str(caught.value)


def test_the_driver_loads_only_for_postgresql(tmp_path: Path, pg_url: str) -> None:
    """A file store's commands never import psycopg (230 ms); a database's do."""
    probe = (
        "import sys\n"
        "from datetime import date\n"
        "from tui.cli import main\n"
        "store = sys.argv[1]\n"
        "main(['--store', store, 'init'], today=date(2026, 11, 20))\n"
        "main(['--store', store, 'board', 'add', 'B'], today=date(2026, 11, 20))\n"
        "main(['--store', store, 'kpi', 'add', 'K', '--board', 'B', '--target', '1'],"
        " today=date(2026, 11, 20))\n"
        "main(['--store', store, 'record', 'K', '2'], today=date(2026, 11, 20))\n"
        "print('psycopg' in sys.modules)\n"
    )

    def loads_driver(store: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, store], capture_output=True, text=True, check=True
        )
        return done.stdout.strip().splitlines()[-1]

    assert loads_driver(str(tmp_path / "team.json")) == "False"
    assert loads_driver(pg_url) == "True"


def test_record_on_a_database_imports_no_driver(store: PgStore) -> None:
    """`teamboard record` goes the lean way on libpq through ctypes (store/pg/libpq.py): psycopg
    (~230 ms to import) stays unloaded, and the answer is the usual one."""
    probe = (
        "import sys\n"
        "from datetime import date\n"
        "from tui.cli import main\n"
        "code = main(['--store', sys.argv[1], 'record', 'OEE', '2'], today=date(2026, 11, 20))\n"
        "print(code, 'psycopg' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, store.url], capture_output=True, text=True, check=True
    )
    *said, last = done.stdout.strip().splitlines()
    assert last == "0 False" and "OEE 2" in said[0], done.stdout + done.stderr
    assert [e.value for e in store.read().entries[1]] == [2.0]


@pytest.mark.parametrize("alive", [True, False], ids=["refused", "lost"])
def test_a_failed_commit_on_libpq_never_records_twice(
    store: PgStore, monkeypatch: pytest.MonkeyPatch, alive: bool
) -> None:
    """The COMMIT of the libpq way fails. When the server answered (it rolled back), psycopg's
    way records the value once; when the connection was lost at the COMMIT, which may have
    happened, the record says so instead of trying again (the value could land twice)."""
    from store.pg import libpq

    query = libpq.Conn.query

    def commit_fails(self: libpq.Conn, sql: str, params: tuple[Any, ...] = ()) -> Any:
        if sql == "COMMIT":
            query(self, "ROLLBACK")
            raise libpq.Unsure("the server said no")
        return query(self, sql, params)

    monkeypatch.setattr(libpq.Conn, "query", commit_fails)
    monkeypatch.setattr(libpq.Conn, "alive", lambda self: alive)
    if alive:
        ops.record(store, "OEE", 3.0, DAY, DAY)
    else:
        with pytest.raises(StoreError, match="may or may not be recorded"):
            ops.record(store, "OEE", 3.0, DAY, DAY)
    assert [e.value for e in store.read().entries.get(1, [])] == ([3.0] if alive else [])


def test_concurrent_writers_all_land_with_their_own_ids(store: PgStore) -> None:
    """Writers on their own connections take turns under the store's lock: none fails, no id is
    given twice, every value is kept."""
    import threading

    failures: list[BaseException] = []

    def writer(n: int) -> None:
        mine = PgStore(store.url)
        for i in range(4):
            try:
                ops.record(mine, "OEE", float(n * 10 + i), DAY, DAY)
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    entries = store.read().entries[1]
    assert sorted(e.value for e in entries) == sorted(float(n * 10 + i) for n in range(6)
                                                      for i in range(4))  # fmt: skip
    assert len({e.id for e in entries}) == 24


def test_a_change_the_database_refuses_is_one_line_and_writes_nothing(
    store: PgStore, sql: psycopg.Connection[tuple[object, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    """A rule only the database knows (a DBA's CHECK here) refuses the whole transaction."""
    from tui.cli import main

    sql.execute("ALTER TABLE entries ADD CONSTRAINT sane CHECK (value < 1000)")
    capsys.readouterr()
    code = main(["--store", store.url, "record", "OEE", "5000"], today=DAY)
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "refused" in err and "sane" in err and len(err.strip().splitlines()) == 1
    assert sql.execute("SELECT count(*) FROM entries").fetchone() == (0,)
    assert sql.execute("SELECT last_what FROM meta").fetchone() != (None,)  # init's, unchanged
    assert "recorded" not in str(sql.execute("SELECT last_what FROM meta").fetchone())


def test_the_schema_migrates_on_the_next_write(
    store: PgStore, sql: psycopg.Connection[tuple[object, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A teamboard with the next schema upgrades a store under the write lock, once; the
    older teamboard then refuses the newer store instead of misreading it."""
    from store.pg import schema as pg_schema

    now = pg_schema.VERSION
    monkeypatch.setattr(pg_schema, "VERSION", now + 1)
    monkeypatch.setitem(pg_schema.MIGRATIONS, now + 1, "ALTER TABLE boards ADD COLUMN site text")
    store.read()  # a read does not migrate
    assert sql.execute("SELECT schema_version FROM meta").fetchone() == (now,)
    ops.record(store, "OEE", 80.0, DAY, DAY)
    assert sql.execute("SELECT schema_version FROM meta").fetchone() == (now + 1,)
    assert sql.execute("SELECT site FROM boards").fetchall() == [(None,)]
    ops.record(store, "OEE", 81.0, DAY, DAY)  # once only: the column is not added twice
    monkeypatch.setattr(pg_schema, "VERSION", now)
    with pytest.raises(StoreError, match="newer than this teamboard"):
        store.read()


def test_a_version_1_store_gains_the_entry_sequence(pg_url: str) -> None:
    """Schema 2 (store/pg/v2_scale.sql): a version-1 store's next write numbers entries from a
    sequence that continues its ids, and the general path moves the sequence past its own."""
    from store.pg.schema import schema_sql

    with psycopg.connect(pg_url) as conn:
        conn.execute(schema_sql())
        conn.execute("INSERT INTO meta (id, schema_version) VALUES (1, 1)")
        conn.execute("INSERT INTO boards (id, name) VALUES (1, 'Line 3')")
        conn.execute(
            "INSERT INTO kpis (id, board, name, direction, frequency, kind) "
            "VALUES (1, 1, 'OEE', 'up', 'daily', 'lagging')"
        )
        conn.execute("INSERT INTO targets (kpi, value) VALUES (1, 85)")
        conn.execute("INSERT INTO entries (id, kpi, date, value) VALUES (41, 1, '2026-11-19', 80)")
    store = open_store(pg_url)
    assert ops.record(store, "OEE", 81.0, DAY, DAY).entry.id == 42  # migrates, the long way
    assert ops.record(store, "OEE", 82.0, DAY, DAY).entry.id == 43  # the lean way: the sequence
    assert ops.add_note(store, "OEE", "ok").id == 44  # the general path numbers its own
    assert ops.record(store, "OEE", 83.0, DAY, DAY).entry.id == 45  # and moved the sequence on
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT schema_version FROM meta").fetchone() == (VERSION,)


def test_record_reads_only_its_kpis_rows(store: PgStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """`record` on PostgreSQL finds the KPI by SQL and loads only its own rows: no whole table
    (the long way, `load`, is not taken), and entry ids come from the table's sequence."""
    from store.pg import record as pg_record

    ops.add_kpi(store, "Scrap", board="Line 3", target=2.0)
    for value in (1.0, 2.0, 3.0):
        ops.record(store, "Scrap", value, DAY, DAY)

    def whole(*_args: object, **_kw: object) -> None:
        raise AssertionError("record loaded whole tables")

    monkeypatch.setattr(pg_record, "load", whole)
    done = ops.record(store, "OEE", 80.0, DAY, DAY)
    assert done.entry.id == 4
    assert [e.value for e in done.view.history] == [80.0]
    entries = store.read().entries
    assert [e.id for e in entries[1]] == [4] and [e.id for e in entries[2]] == [1, 2, 3]


def test_the_general_transaction_reads_only_the_entries_asked_for(
    store: PgStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write through the general transaction reads no entry table (store/pg/lazy.py): a note
    reads its KPI's entries, a new board none; a CSV import, which walks them all, reads all."""
    from store.pg import lazy

    ops.add_kpi(store, "Scrap", board="Line 3", target=2.0)
    for value in (1.0, 2.0):
        ops.record(store, "Scrap", value, DAY, DAY)
    ops.record(store, "OEE", 80.0, DAY, DAY)
    asked: list[list[int] | None] = []
    real = lazy.fetcher

    def spy(conn: object) -> lazy.Fetch:
        fetch = real(conn)

        def counted(kpis: list[int] | None) -> dict[int, list[Any]]:
            asked.append(kpis)
            return fetch(kpis)

        return counted

    monkeypatch.setattr(lazy, "fetcher", spy)
    noted = ops.add_note(store, "OEE", "fixed")
    assert asked == [[1]] and (noted.value, noted.note, noted.id) == (80.0, "fixed", 4)
    ops.add_board(store, "Line 4")
    assert asked == [[1]]
    assert ops.add_note(store, "Scrap", "ok").id == 5  # ids go on from the table's
    assert [e.id for e in store.read().entries[2]] == [1, 2, 5]
    from store.csvio import import_csv

    csv = "board,kpi,date,value,note\nLine 3,OEE,2026-11-20,80,fixed\nLine 3,OEE,2026-11-19,70,\n"
    report = import_csv(store, csv, DAY)
    assert None in asked  # an import walks every entry: it read them all
    assert report.entries == 1 and report.skipped == [2]  # today's noted 80 is there already
    assert [e.value for e in store.read().entries[1]] == [80.0, 80.0, 70.0]


def test_a_read_only_store_refuses_every_write_before_the_lock(store: PgStore) -> None:
    """A read-only board's store (as of a past day): the general path and record's both refuse."""
    from store.errors import StoreReadOnly

    shut = open_store(store.url, refuse="read-only: as of Thu 19 Nov")
    assert shut.read().kpis  # reads as usual
    with pytest.raises(StoreReadOnly, match="as of Thu 19 Nov"):
        ops.record(shut, "OEE", 80.0, DAY, DAY)
    with pytest.raises(StoreReadOnly):
        ops.add_board(shut, "Line 9")
    assert 1 not in store.read().entries and len(store.read().boards) == 1


def test_without_the_driver_a_database_store_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No psycopg (a file-store install): `--store postgresql://…` says what to install."""
    from tui.cli import main

    driven = ("psycopg.", "store.pg.")
    for name in [m for m in sys.modules if m == "psycopg" or m.startswith(driven)]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # an import of it now fails
    code = main(["--store", "postgresql:///teamboard", "status"], today=DAY)
    err = capsys.readouterr().err
    assert code == 1 and "pip install 'teamboard[pg]'" in err
    assert len(err.strip().splitlines()) == 1
