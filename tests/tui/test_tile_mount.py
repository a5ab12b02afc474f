"""A KPI added or archived mounts or removes its own tile only (tui/board_screen._show_tiles):
the other tiles stay the same widgets, so the focus stays where the user put it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import TODAY, loaded, make_app, tile_named, tiles, until

from store import Store, ops
from store.model import Direction

pytestmark = pytest.mark.anyio


def names(app: object) -> list[str]:
    return [t.view.kpi.name for t in tiles(app) if t.view is not None]  # type: ignore[arg-type]


async def test_tiles_come_and_go_alone_and_the_focus_stays(tmp_path: Path) -> None:
    store = Store(tmp_path / "team.json")
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "Output", "Line", 100.0, unit="units")
    ops.add_kpi(store, "Scrap", "Line", 2.0, direction=Direction.DOWN, unit="%")
    ops.add_kpi(store, "Safety", "Line", 0.0, direction=Direction.DOWN)
    ops.record(store, "Output", 50.0, TODAY, TODAY)  # red: the board focuses it first
    app = make_app(store.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        assert app.screen.focused is tile_named(app, "Output")
        scrap = tile_named(app, "Scrap")
        scrap.focus()  # the user's choice
        before = {t.view.kpi.name: t for t in tiles(app) if t.view is not None}

        await asyncio.to_thread(ops.add_kpi, store, "Uptime", "Line", 95.0, unit="%")
        await until(
            pilot,
            lambda: len(tiles(app)) == 4 and all(t.children for t in tiles(app)),
            what="the new tile",
        )
        await until(pilot, app.settled, what="settled")
        assert names(app) == ["Output", "Scrap", "Safety", "Uptime"]
        assert all(tile_named(app, n) is before[n] for n in ("Output", "Scrap", "Safety"))
        assert app.screen.focused is scrap

        await asyncio.to_thread(ops.archive_kpi, store, "Safety", "Line")
        await until(pilot, lambda: names(app) == ["Output", "Scrap", "Uptime"], what="removed")
        await until(pilot, app.settled, what="settled")
        assert tile_named(app, "Output") is before["Output"]
        assert app.screen.focused is scrap

        # The focused tile goes: the board chooses as on a new load, the first red tile.
        await asyncio.to_thread(ops.archive_kpi, store, "Scrap", "Line")
        await until(pilot, lambda: names(app) == ["Output", "Uptime"], what="focused removed")
        await until(pilot, app.settled, what="settled")
        assert app.screen.focused is tile_named(app, "Output")
        assert "Uptime" in str(tile_named(app, "Uptime").query_one(".name").render())
