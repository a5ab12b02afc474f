"""Pictures of the tiers: the demo's department board with its roll-up tiles (and an escalation
waiting for it) at laptop, terminal and wall sizes, the team's board with its escalations, the
plant on a wall, and the KPI tree.

Deterministic as the board's pictures are: the demo is built for TODAY, the clock is frozen, the
timezone is UTC, and who changed the store last (the one field from the real clock) is fixed.
Update on purpose with `pytest tests/tui/test_tiers_snapshots.py --snapshot-update`, then look.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SETTLE_S, clock, screen_open, still, tiles, until
from textual.pilot import Pilot

from tui.app import TeamboardApp
from tui.tree_screen import TreeScreen
from widgets.child_tile import ChildTile

SnapCompare = Callable[..., bool]
pytestmark = pytest.mark.usefixtures("utc")


def settled(*keys: str, children: int = 0) -> Callable[[Pilot[Any]], Any]:
    """Wait for the loaded board (and its `children` roll-up tiles), press `keys`, then wait
    for a still screen."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, TeamboardApp)
        deadline = time.monotonic() + SETTLE_S

        def board_drawn() -> bool:
            shown = tiles(app)
            kids = list(app.screen.query(ChildTile))
            return (
                app.reloads >= 1
                and app.settled()
                and bool(shown)
                and all(t.children for t in shown)
                and len(kids) == children
                and all(k.children for k in kids)
            )

        await until(pilot, board_drawn, SETTLE_S, "the board")
        if keys:
            await pilot.press(*keys)
        if "t" in keys:
            await until(pilot, lambda: screen_open(app.screen, TreeScreen), SETTLE_S, "tree")
        await still(pilot, deadline)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (240, 67)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_rollup_board(snap_compare: SnapCompare, frozen_demo: Path, size: tuple[int, int]) -> None:
    """Assembly: its own KPIs, an escalation from Line 2 waiting, a tile per team."""
    app = TeamboardApp(frozen_demo, board="Assembly", clock=clock)
    assert snap_compare(app, terminal_size=size, run_before=settled(children=2))


def test_plant_rollup_wall(snap_compare: SnapCompare, frozen_demo: Path) -> None:
    app = TeamboardApp(frozen_demo, board="Operations", wall=True, clock=clock)
    assert snap_compare(app, terminal_size=(240, 67), run_before=settled(children=1))


def test_team_board_escalations(snap_compare: SnapCompare, frozen_demo: Path) -> None:
    app = TeamboardApp(frozen_demo, board="Line 2 Assembly", clock=clock)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled())


def test_kpi_tree(snap_compare: SnapCompare, frozen_demo: Path) -> None:
    app = TeamboardApp(frozen_demo, board="Operations", clock=clock)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled("t", children=1))
