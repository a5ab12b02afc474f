"""The running board follows the store file while other processes change it.

Every writer here is a separate process, as on a team's shared folder; every wait is on what
the screen shows, with a deadline.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TODAY, loaded, make_app, tile_named, tile_text, tiles, until

from store import Store
from widgets.banner import Banner

pytestmark = pytest.mark.anyio

KPI = "On-time delivery"  # on the demo's default board
TEAMBOARD = Path(sys.executable).with_name("teamboard")




async def run(*argv: str) -> None:
    """Run a process to its end while the app's event loop keeps running (no blocking wait)."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, (argv, out, err)


async def record_elsewhere(path: Path, value: str) -> None:
    """`teamboard record` in a process of its own, as a teammate would run it."""
    await run(str(TEAMBOARD), "--store", str(path), "record", KPI, value,
              "--date", TODAY.isoformat())


def replace_with(path: Path, blob: bytes) -> None:
    """Write `blob` over the store the way an editor or a sync tool would: temp file, rename."""
    tmp = path.with_name(".hand-edit.tmp")
    tmp.write_bytes(blob)
    os.replace(tmp, path)


def banner_shown(app: object) -> bool:
    screen = app.screen  # type: ignore[attr-defined]
    return bool(screen.query_one(Banner).has_class("-shown"))


async def test_a_write_by_another_process_shows(demo_store: Store) -> None:
    app = make_app(demo_store.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        assert "97.5" not in tile_text(tile_named(app, KPI))
        await record_elsewhere(demo_store.path, "97.5")
        await until(pilot, lambda: "97.5" in tile_text(tile_named(app, KPI)), timeout=10,
                    what="the other process's value on the tile")
        assert "✔ green" in tile_text(tile_named(app, KPI))


async def test_a_broken_file_keeps_the_tiles_under_a_banner_and_recovers(
    demo_store: Store,
) -> None:
    path = demo_store.path
    good = path.read_bytes()
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        before = [tile_text(t) for t in tiles(app)]
        replace_with(path, b'{"meta": {"1": {"schema": 2}},\n  "boards": {oops\n')
        await until(pilot, lambda: banner_shown(app), timeout=10, what="the banner")
        text = str(app.screen.query_one(Banner).render())
        assert "line 2, column" in text, text
        assert "Showing the last good data" in text
        assert [tile_text(t) for t in tiles(app)] == before  # nothing blanked
        replace_with(path, good)
        await until(pilot, lambda: not banner_shown(app), timeout=10, what="the banner to go")
        assert app.banner is None
        assert [tile_text(t) for t in tiles(app)] == before


async def test_the_file_deleted_and_created_again(demo_store: Store, tmp_path: Path) -> None:
    path = demo_store.path
    # The store as it will come back: the same demo with one more value.
    other = tmp_path / "elsewhere.json"
    other.write_bytes(path.read_bytes())
    subprocess.run([str(TEAMBOARD), "--store", str(other), "record", KPI, "91.5",
                    "--date", TODAY.isoformat()], check=True, capture_output=True, timeout=60)
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        before = [tile_text(t) for t in tiles(app)]
        path.unlink()
        await until(pilot, lambda: banner_shown(app), timeout=10, what="the banner")
        assert "no store at" in str(app.screen.query_one(Banner).render())
        assert [tile_text(t) for t in tiles(app)] == before
        replace_with(path, other.read_bytes())
        await until(pilot, lambda: "91.5" in tile_text(tile_named(app, KPI)), timeout=10,
                    what="the store's new value")
        await until(pilot, lambda: not banner_shown(app), what="the banner to go")
        assert "✖ red" in tile_text(tile_named(app, KPI))


BURST = """\
import sys
from datetime import date
from store import Store, ops
store, day = Store(sys.argv[1]), date.fromisoformat(sys.argv[2])
for i in range(20):
    ops.record(store, "On-time delivery", 90.0 + i / 10, day, day)
"""


async def test_a_burst_of_writes_coalesces(demo_store: Store) -> None:
    app = make_app(demo_store.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        start = app.reloads
        await run(sys.executable, "-c", BURST, str(demo_store.path), TODAY.isoformat())
        await until(pilot, lambda: "91.9" in tile_text(tile_named(app, KPI)), timeout=10,
                    what="the burst's last value")
        await pilot.pause(0.3)  # let any reload still due arrive before counting
        loads = app.reloads - start
        assert 1 <= loads <= 10, f"20 writes took {loads} reloads"


async def test_poll_mode_sees_a_write(demo_store: Store) -> None:
    app = make_app(demo_store.path, poll=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        await record_elsewhere(demo_store.path, "96.5")
        await until(pilot, lambda: "96.5" in tile_text(tile_named(app, KPI)), timeout=10,
                    what="the polled value on the tile")
