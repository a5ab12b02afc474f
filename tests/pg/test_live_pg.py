"""The live board on a PostgreSQL store: it listens on its own connection inside Textual's loop,
reloads on every write (teamboard's or psql's), and after losing its connection comes back by
itself and reloads (a write made while it was away is not lost)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from conftest import TODAY, clock, loaded, tile_text, tiles, until

from store import ops
from store.pg import open_store
from tui.app import TeamboardApp

pytestmark = pytest.mark.anyio


def seeded(url: str) -> None:
    s = open_store(url)
    ops.init(s)
    ops.add_board(s, "Line 3")
    ops.add_kpi(s, "OEE", board="Line 3", target=85.0)


def shows(app: TeamboardApp, text: str) -> bool:
    return any(text in tile_text(t) for t in tiles(app))


async def test_the_board_follows_writes_from_anyone(pg_url: str) -> None:
    seeded(pg_url)
    app = TeamboardApp(pg_url, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 1)
        assert not shows(app, "78.5")
        await asyncio.to_thread(ops.record, open_store(pg_url), "OEE", 78.5, TODAY, TODAY)
        await until(pilot, lambda: shows(app, "78.5"), timeout=10, what="teamboard's write")
        with psycopg.connect(pg_url, autocommit=True) as sql:  # psql: no teamboard involved
            sql.execute("INSERT INTO entries (id, kpi, date, value) VALUES (99, 1, %s, 91.25)",
                        (TODAY,))  # fmt: skip
        await until(pilot, lambda: shows(app, "91.25"), timeout=10, what="psql's write")


async def test_a_lost_connection_comes_back_and_reloads(pg_url: str) -> None:
    seeded(pg_url)
    app = TeamboardApp(pg_url, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 1)
        with psycopg.connect(pg_url, autocommit=True) as sql:
            killed = sql.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'teamboard-listen'"
            ).fetchall()
            assert killed == [(True,)]
            # Written while the listener is (probably) away: the reload after it reconnects
            # brings it, or its notification does; a listener that never came back shows neither.
            sql.execute("INSERT INTO entries (id, kpi, date, value) VALUES (98, 1, %s, 66.5)",
                        (TODAY,))  # fmt: skip
        await until(pilot, lambda: shows(app, "66.5"), timeout=15, what="the write while away")
        with psycopg.connect(pg_url, autocommit=True) as sql:  # a fresh pg_stat_activity each time
            await until(
                pilot,
                lambda: (
                    sql.execute(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE application_name = 'teamboard-listen'"
                    ).fetchone()
                    == (1,)
                ),
                timeout=15,
                what="the listener back",
            )


async def test_a_server_away_keeps_the_board_under_a_banner_and_recovers(pg_url: str) -> None:
    """As a server restart looks to the app: every connection dropped and refused for a while,
    then back. The tiles stay, a banner says why; when it is back the board catches up alone."""
    from widgets.banner import Banner

    seeded(pg_url)
    name = pg_url.split("/")[3].split("?")[0]
    app = TeamboardApp(pg_url, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 1)
        admin = pg_url.replace(f"/{name}?", "/postgres?")
        with psycopg.connect(admin, autocommit=True) as sql:
            sql.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            sql.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s", (name,))  # fmt: skip
            await until(pilot, lambda: app.screen.query_one(Banner).has_class("-shown"),
                        timeout=15, what="the banner")  # fmt: skip
            assert len(tiles(app)) == 1  # the last good data stays
            sql.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        with psycopg.connect(pg_url, autocommit=True) as sql:
            sql.execute("INSERT INTO entries (id, kpi, date, value) VALUES (97, 1, %s, 55.5)",
                        (TODAY,))  # fmt: skip
        await until(pilot, lambda: shows(app, "55.5"), timeout=15, what="the board caught up")
        await until(pilot, lambda: not app.screen.query_one(Banner).has_class("-shown"),
                    timeout=15, what="the banner gone")  # fmt: skip


async def test_a_past_board_on_a_database_is_read_only(pg_url: str) -> None:
    from store.errors import StoreReadOnly

    seeded(pg_url)
    app = TeamboardApp(pg_url, clock=clock, as_of=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.reloads >= 1 and app.snapshot is not None,
                    what="the first load")  # fmt: skip
        assert app.read_only is not None
        try:
            await asyncio.to_thread(ops.record, app.store, "OEE", 70.0, TODAY, TODAY)
        except StoreReadOnly as exc:
            assert app.read_only in str(exc)
        else:
            raise AssertionError("a past board's store wrote")
    assert open_store(pg_url).read().entries.get(1, []) == []
