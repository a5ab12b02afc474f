"""Pictures of time on the board: a board as of a past day (read-only, says so), and a KPI that
is late against its due time.

Deterministic: the stores are built in the test, the clock is frozen, the zone is UTC, and the
one field taken from the real clock and user (who changed the store last, and when) is rewritten.
Update on purpose with `pytest tests/tui/test_time_snapshots.py --snapshot-update`, then look at
the pictures (`rsvg-convert`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pytest
from conftest import SETTLE_S, TODAY, freeze, seeded, still, tiles, until
from textual.pilot import Pilot

from store import ops
from store.csvio import import_csv
from store.model import Direction
from tui.app import TeamboardApp

SnapCompare = Callable[..., bool]
pytestmark = pytest.mark.usefixtures("utc")
PAST = date(2013, 12, 31)
LAST_CHANGE = {"who": "ana", "at": f"{TODAY.isoformat()}T07:10:00Z",
               "what": "recorded Output = 104"}


def frozen(path: Path) -> Path:
    return freeze(path, LAST_CHANGE)


def at(hour: int, minute: int) -> Callable[[], datetime]:
    when = datetime(TODAY.year, TODAY.month, TODAY.day, hour, minute).astimezone()
    return lambda: when


async def board_still(pilot: Pilot[Any]) -> None:
    """Wait for the loaded board, then for two pictures 0.1 s apart to be the same."""
    app = pilot.app
    assert isinstance(app, TeamboardApp)
    deadline = time.monotonic() + SETTLE_S

    def drawn() -> bool:
        shown = tiles(app)
        return app.reloads >= 1 and app.settled() and bool(shown) and all(
            t.children for t in shown
        )

    await until(pilot, drawn, SETTLE_S, "the board")
    await still(pilot, deadline)


def test_as_of_board(snap_compare: SnapCompare, store_path: Path) -> None:
    """A year imported, as of its last day: green, amber, red and stale, read-only."""
    store = seeded(store_path)
    ops.add_kpi(store, "Yield", "Line", 95.0, unit="%", amber=93.0, owner="ana")
    ops.add_kpi(store, "Scrap", "Line", 2.0, unit="%", direction=Direction.DOWN, owner="ben")
    ops.add_kpi(store, "Audits", "Line", 1.0)
    rows = ["board,kpi,date,value"]
    for n in range(365):
        day = date(2013, 1, 1) + timedelta(days=n)
        rows += [
            f"Line,Output,{day},{101 + n % 3}",
            f"Line,Yield,{day},{94 if day == PAST else 96 + n % 2}",
            f"Line,Scrap,{day},{3 if day == PAST else 1.5 + (n % 4) / 10}",
        ]
        if day < date(2013, 12, 20):
            rows.append(f"Line,Audits,{day},1")
    import_csv(store, "\n".join(rows) + "\n", TODAY)
    app = TeamboardApp(frozen(store_path), clock=at(9, 0), as_of=PAST)
    assert snap_compare(app, terminal_size=(120, 30), run_before=board_still)


def test_late_kpi(snap_compare: SnapCompare, store_path: Path) -> None:
    """Output is due at 07:00; at 07:35 yesterday's value is still missing: late 35 min · ben."""
    store = seeded(store_path)
    ops.edit_kpi(store, "Output", owner="ben", due=clock_time(7, 0))
    ops.add_kpi(store, "Yield", "Line", 95.0, unit="%", owner="ana", due=clock_time(7, 0))
    for n in range(2, 12):
        day = TODAY - timedelta(days=n)
        ops.record(store, "Output", 100.0 + n % 4, day, TODAY)
        ops.record(store, "Yield", 96.0 - n % 3, day, TODAY)
    ops.record(store, "Yield", 97.0, TODAY - timedelta(days=1), TODAY)
    app = TeamboardApp(frozen(store_path), clock=at(7, 35))
    assert snap_compare(app, terminal_size=(120, 30), run_before=board_still)
