"""The app on PostgreSQL reads and follows what it shows (tui/shown.py): the board on screen and
every board below it, not the store; a write on another board wakes no reload; showing another
board reads it; the tree reads every board."""

from __future__ import annotations

import asyncio

import pytest
from conftest import TODAY, clock, loaded, tile_text, tiles, until

from store import ops
from store.pg import open_store
from tui.app import TeamboardApp

pytestmark = pytest.mark.anyio


def seeded(url: str) -> None:
    """Plant (Line 3 under it) and Line 9 apart, one KPI each."""
    s = open_store(url)
    ops.init(s)
    ops.add_board(s, "Plant")
    ops.add_board(s, "Line 3", parent="Plant")
    ops.add_board(s, "Line 9")
    for kpi, board in (("Safety", "Plant"), ("OEE", "Line 3"), ("Scrap", "Line 9")):
        ops.add_kpi(s, kpi, board=board, target=85.0)


def shows(app: TeamboardApp, text: str) -> bool:
    return any(text in tile_text(t) for t in tiles(app))


async def test_a_board_reads_and_follows_only_its_boards(pg_url: str) -> None:
    seeded(pg_url)
    store = open_store(pg_url)
    app = TeamboardApp(pg_url, board="Line 3", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 1)
        snap = app.snapshot
        assert snap is not None
        assert {k.name for k in snap.kpis.values()} == {"OEE"}  # not Plant's, not Line 9's
        line9 = snap.board_named("Line 9").id
        await until(pilot, app.settled, what="settled")
        before = app.reloads
        await asyncio.to_thread(ops.record, store, "Scrap", 50.5, TODAY, TODAY)  # Line 9
        await asyncio.to_thread(ops.record, store, "OEE", 77.25, TODAY, TODAY)  # Line 3
        await until(pilot, lambda: shows(app, "77.25"), timeout=10, what="Line 3's write")
        await until(pilot, app.settled, what="settled")
        assert app.reloads == before + 1  # Line 9's write woke nothing
        # Another board: read, then shown, with the views a full read gives.
        app.show_board(line9)
        assert app.board_id != line9 and app.views() is not None  # Line 3 stays until it comes
        await until(pilot, lambda: shows(app, "50.5"), timeout=10, what="Line 9's tiles")
        assert app.board_id == line9 and app.pending_board is None
        full = store.read()
        views = app.views()
        assert views is not None and views.kpis == tuple(full.views(line9, TODAY, app.moment()))


async def test_a_parent_board_follows_its_children(pg_url: str) -> None:
    seeded(pg_url)
    store = open_store(pg_url)
    app = TeamboardApp(pg_url, board="Plant", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 1)
        snap = app.snapshot
        assert snap is not None
        line3, line9 = snap.board_named("Line 3").id, snap.board_named("Line 9").id
        assert {k.name for k in snap.kpis.values()} == {"Safety", "OEE"}  # the child's too
        await until(pilot, app.settled, what="settled")
        before = app.reloads
        await asyncio.to_thread(ops.record, store, "OEE", 12.5, TODAY, TODAY)  # a child's write
        await until(pilot, lambda: app.reloads > before, timeout=10, what="the child's write")
        await until(pilot, app.settled, what="settled")
        snap = app.snapshot
        assert snap is not None and [e.value for e in snap.entries[snap.kpi_named("OEE").id]]
        tier = app.tiers()
        assert tier is not None and tier.cards and tier.cards[0].name == "Line 3"
        assert line3 in (app._followed or set()) and line9 not in (app._followed or set())


async def test_the_tree_reads_every_board(pg_url: str) -> None:
    seeded(pg_url)
    app = TeamboardApp(pg_url, board="Line 9", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 1)
        snap = app.snapshot
        assert snap is not None and len(snap.kpis) == 1
        app.open_tree()
        await until(
            pilot,
            lambda: app.snapshot is not None and len(app.snapshot.kpis) == 3,
            timeout=10,
            what="every board's KPIs",
        )
        assert app._followed is None  # the tree follows every board
