"""The views a load or a change of time needs are built off the UI thread and handed over
(`tui.prepare`); the board shows the same thing as when the UI thread built them itself."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import TODAY, loaded, seeded, tile_named, until

from store import ops
from store.model import Status
from tui.app import TeamboardApp

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone()

    def __call__(self) -> datetime:
        return self.now


async def test_a_load_and_a_change_of_time_hand_over_views_built_in_a_thread(
    store_path: Path,
) -> None:
    store = seeded(store_path)
    ops.record(store, "Output", 105.0, TODAY - timedelta(days=1), TODAY)
    clock = Clock(datetime(TODAY.year, TODAY.month, TODAY.day, 12, 0))
    app = TeamboardApp(store_path, clock=clock)
    app.time_check_s = 0.05
    app.views_thread_from = 0  # this small store counts as big: a change of time uses a thread
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot, app, 1)
        assert app.views_prepared >= 1  # the load's views came from the reading thread
        board = app.views()
        assert board is not None
        assert tile_named(app, "Output").view is board.kpis[0]
        loads, handed = app.reloads, app.views_prepared
        clock.now = datetime(TODAY.year, TODAY.month, TODAY.day, 8, 0).astimezone() + timedelta(
            days=3
        )  # three days on, no write: Output goes stale
        await until(pilot, lambda: tile_named(app, "Output").view.status is Status.STALE,  # type: ignore[union-attr]
                    what="stale, three days later")  # fmt: skip
        await until(pilot, app.settled, what="the views handed over")
        assert app.reloads == loads  # no read: the snapshot in hand, at the new moment
        assert app.views_prepared > handed
        board = app.views()
        assert board is not None and board.kpis[0].status is Status.STALE
