"""Pictures of the board: the demo store at laptop, terminal and wall sizes, and the detail screen.

Deterministic by construction: the demo is built for TODAY, the app's clock is frozen, the
timezone is UTC, and the one field the demo takes from the real clock and user (who changed
the store last, and when) is rewritten to fixed values. Update on purpose with
`pytest tests/test_board_snapshots.py --snapshot-update`, then look at the pictures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import TODAY
from test_board import clock, tiles
from textual.pilot import Pilot

from store import Store
from tui.app import TeamboardApp
from tui.detail_screen import DetailScreen

LAST_CHANGE = {"who": "ana", "at": f"{TODAY.isoformat()}T07:40:00Z",
               "what": "recorded Customer complaints = 1"}

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Stored times are UTC and shown in local time: pin the local zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def frozen_demo(demo_store: Store) -> Path:
    path = demo_store.path
    raw = orjson.loads(path.read_bytes())
    raw["meta"]["1"]["last_change"] = LAST_CHANGE
    path.write_bytes(orjson.dumps(raw))
    return path


def settled(*keys: str) -> Callable[[Pilot[Any]], Any]:
    """A `run_before` that waits for the first load and the tiles, then presses `keys`."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, TeamboardApp)
        deadline = time.monotonic() + 10
        while not (app.reloads >= 1 and tiles(app) and all(t.children for t in tiles(app))):
            assert time.monotonic() < deadline, "the board did not load"
            await pilot.pause(0.05)
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
            await pilot.pause()
        if "enter" in keys:
            while not isinstance(app.screen, DetailScreen):
                assert time.monotonic() < deadline, "the detail did not open"
                await asyncio.sleep(0.05)
            await pilot.pause(0.1)  # plotext draws after the first resize
        await still(pilot, deadline)

    return run_before


async def still(pilot: Pilot[Any], deadline: float) -> None:
    """Wait until two pictures 0.1 s apart are the same.

    Some widgets finish after the data arrives: a DataTable sizes its columns on the next idle,
    and tables re-fill when their width is first known. A picture taken mid-way differs.
    """
    await pilot.wait_for_scheduled_animations()
    # Repaint every widget once. Without it the action table's header is sometimes left painted
    # with the widths it had before its rows were measured (narrow, misaligned with the rows)
    # until something repaints the table: a race in DataTable's idle-time sizing, reported
    # separately. The pictures show what the board looks like after any repaint.
    for widget in pilot.app.screen.walk_children():
        widget.refresh()
    await pilot.pause()
    before = pilot.app.export_screenshot()
    while True:
        await pilot.pause(0.1)
        now = pilot.app.export_screenshot()
        if now == before:
            return
        assert time.monotonic() < deadline, "the screen kept changing"
        before = now


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (240, 67)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_board(snap_compare: SnapCompare, frozen_demo: Path, size: tuple[int, int]) -> None:
    app = TeamboardApp(frozen_demo, clock=clock)
    assert snap_compare(app, terminal_size=size, run_before=settled())


def test_team_board_wall(snap_compare: SnapCompare, frozen_demo: Path) -> None:
    app = TeamboardApp(frozen_demo, board="Line 2 Assembly", wall=True, clock=clock)
    assert snap_compare(app, terminal_size=(240, 67), run_before=settled())


def test_department_board_wall(snap_compare: SnapCompare, frozen_demo: Path) -> None:
    app = TeamboardApp(frozen_demo, wall=True, clock=clock)
    assert snap_compare(app, terminal_size=(240, 67), run_before=settled())


def test_detail(snap_compare: SnapCompare, frozen_demo: Path) -> None:
    # Units per hour: the target raised 30 days ago shows as a step in the chart.
    app = TeamboardApp(frozen_demo, board="Line 2 Assembly", clock=clock)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled("enter"))
