"""Pictures of the board: the demo store at laptop, terminal and wall sizes, the detail screen,
and the huddle (an agenda item and the countermeasure gate).

Deterministic by construction: the demo is built for TODAY, the app's clock is frozen, the
timezone is UTC, and the one field the demo takes from the real clock and user (who changed
the store last, and when) is rewritten to fixed values; the huddle's facilitator and who is
logged in are fixed too. Every picture is taken once the app has settled (loaded, no write in
flight) and two pictures in a row are the same. Update on purpose with
`pytest tests/test_board_snapshots.py --snapshot-update`, then look at the pictures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SETTLE_S, clock, screen_open, still, tiles, until
from textual.pilot import Pilot

from store import huddle as hd
from tui.action_screen import ActionScreen
from tui.app import TeamboardApp
from tui.detail_screen import DetailScreen
from tui.huddle_screen import HuddleScreen
from widgets.action_table import ActionTable
from widgets.child_tile import ChildTile

SnapCompare = Callable[..., bool]
pytestmark = pytest.mark.usefixtures("utc")


def settled(*keys: str) -> Callable[[Pilot[Any]], Any]:
    """A `run_before` that waits for the loaded board, presses `keys`, then waits for a still
    screen: the detail's chart drawn if `enter` opened it."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, TeamboardApp)
        deadline = time.monotonic() + SETTLE_S

        def board_drawn() -> bool:
            shown = tiles(app)
            tier = app.tiers()
            kids = list(app.screen.query(ChildTile))  # a board with child boards: their tiles
            return (
                app.reloads >= 1
                and app.settled()
                and all(t.children for t in shown)
                and bool(shown)
                and tier is not None
                and len(kids) == len(tier.cards)
                and all(k.children for k in kids)
            )

        await until(pilot, board_drawn, SETTLE_S, "the board")
        if keys:
            await pilot.press(*keys)
        if "enter" in keys:
            await until(pilot, lambda: chart_drawn(app), SETTLE_S, "the detail's chart")
        await still(pilot, deadline)

    return run_before


def chart_drawn(app: TeamboardApp) -> bool:
    """The detail is up and its chart has data and a size (plotext draws on the first resize)."""
    screen = app.screen
    return (
        isinstance(screen, DetailScreen)
        and screen.chart.data is not None
        and bool(screen.chart.size.area)
    )


SIZES = [(80, 24), (120, 40), (160, 50), (240, 67)]  # a laptop, a terminal, a big one, a wall
sizes = pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")


@sizes
def test_board(snap_compare: SnapCompare, frozen_demo: Path, size: tuple[int, int]) -> None:
    app = TeamboardApp(frozen_demo, clock=clock)
    assert snap_compare(app, terminal_size=size, run_before=settled())


@sizes
def test_team_board_wall(
    snap_compare: SnapCompare, frozen_demo: Path, size: tuple[int, int]
) -> None:
    app = TeamboardApp(frozen_demo, board="Line 2 Assembly", wall=True, clock=clock)
    assert snap_compare(app, terminal_size=size, run_before=settled())


def test_department_board_wall(snap_compare: SnapCompare, frozen_demo: Path) -> None:
    app = TeamboardApp(frozen_demo, wall=True, clock=clock)
    assert snap_compare(app, terminal_size=(240, 67), run_before=settled())


@sizes
def test_detail(snap_compare: SnapCompare, frozen_demo: Path, size: tuple[int, int]) -> None:
    # The first red tile has the focus at start: First-pass yield, its low days all drawn.
    app = TeamboardApp(frozen_demo, board="Line 2 Assembly", clock=clock)
    assert snap_compare(app, terminal_size=size, run_before=settled("enter"))


# --- the huddle ---------------------------------------------------------------------------------


@pytest.fixture
def who(monkeypatch: pytest.MonkeyPatch) -> None:
    """The facilitator is dara; ben and dara are logged in."""
    monkeypatch.setattr("store.db.whoami", lambda: "dara")
    monkeypatch.setattr(hd, "logged_in", lambda: ["ben", "dara"])


def huddle(*keys: str) -> Callable[[Pilot[Any]], Any]:
    """A `run_before` that waits for the huddle's first item, presses `keys`, then waits for a
    still screen."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, TeamboardApp)
        deadline = time.monotonic() + SETTLE_S

        def started() -> bool:
            screen = app.screen
            return isinstance(screen, HuddleScreen) and screen.item is not None and app.settled()

        await until(pilot, started, SETTLE_S, "the huddle's first item")
        if keys:
            await pilot.press(*keys)
        await still(pilot, deadline)

    return run_before


def huddle_app(path: Path) -> TeamboardApp:
    return TeamboardApp(path, board="Line 2 Assembly", huddle=True, clock=clock)


@sizes
def test_huddle_agenda_item(
    snap_compare: SnapCompare, frozen_demo: Path, who: None, size: tuple[int, int]
) -> None:
    assert snap_compare(huddle_app(frozen_demo), terminal_size=size, run_before=huddle())


def test_huddle_gate(snap_compare: SnapCompare, frozen_demo: Path, who: None) -> None:
    app = huddle_app(frozen_demo)
    assert snap_compare(app, terminal_size=(120, 40), run_before=huddle("n", "n"))


# --- the help, an action opened, the wall's legend of colours --------------------------------


def test_help(snap_compare: SnapCompare, frozen_demo: Path) -> None:
    app = TeamboardApp(frozen_demo, board="Line 2 Assembly", clock=clock)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled("question_mark"))


def test_action_opened(snap_compare: SnapCompare, frozen_demo: Path, who: None) -> None:
    """Enter on the first action opens it: its details and its history (it does not move)."""
    app = TeamboardApp(frozen_demo, board="Line 2 Assembly", clock=clock)
    board_drawn = settled()

    async def run_before(pilot: Pilot[Any]) -> None:
        await board_drawn(pilot)
        app.screen.query_one(ActionTable).focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, ActionScreen), SETTLE_S, "the action")
        await still(pilot, time.monotonic() + SETTLE_S)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
