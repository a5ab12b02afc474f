"""Where the UI loop's gaps during a reload come from: a diagnosis, not a figure for the table.

    python bench/gap_probe.py ROOT STORE [WRITES]

Runs the app (code from ROOT) on STORE, lets another process record WRITES values, and while
each reload runs: a 5 ms heartbeat on the UI loop, every garbage collection (`gc.callbacks`,
any thread), and cProfile on the UI thread only (cProfile follows the thread that enables it).
Prints the longest gaps, the collections and the UI thread's costliest calls.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import itertools
import pstats
import sys
import time
from datetime import date
from pathlib import Path

ROOT = sys.argv[1]
sys.path.insert(0, ROOT)

from probe_text import first_word  # noqa: E402
from textual.css.query import NoMatches  # noqa: E402

from store.present import num  # noqa: E402
from tui.app import TeamboardApp  # noqa: E402
from widgets.kpi_tile import KpiTile  # noqa: E402

WRITER = """\
import sys, time
sys.path.insert(0, sys.argv[4])
from datetime import date
from store import Store, ops
store, day = Store(sys.argv[1]), date.fromisoformat(sys.argv[2])
print("ready", flush=True)
for line in sys.stdin:
    value = float(line)
    t0 = time.time()
    ops.record(store, sys.argv[3], value, day, day)
    print(t0, time.time(), flush=True)
"""


_found: list[object] = []


def value_label(app: TeamboardApp) -> str | None:
    """The Output tile's value; the widget found once (a query walks the DOM: 10 ms here)."""
    if _found:
        label = _found[0]
        if label.is_attached:  # type: ignore[attr-defined]
            return first_word(label)
        _found.clear()
    for tile in app.screen.query(KpiTile):
        if tile.view is not None and tile.view.kpi.name == "Output":
            try:
                label = tile.query_one(".value")
            except NoMatches:
                return None
            _found.append(label)
            return first_word(label)
    return None


async def wait_for(cond: object, timeout: float, step: float = 0.002) -> float:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(step)
    return time.time()


SLOW: list[tuple[float, float, str]] = []  # (start, seconds, what): calls timed


def timed(owner: type, name: str, least: float = 0.005) -> None:
    """Wrap owner.name so each call over 5 ms is noted (sync and async methods)."""
    import inspect

    fn = getattr(owner, name)
    label = f"{owner.__name__}.{name}"
    if inspect.iscoroutinefunction(fn):
        async def wrapper_async(*a: object, **k: object) -> object:
            t = time.perf_counter()
            try:
                return await fn(*a, **k)
            finally:
                if (d := time.perf_counter() - t) >= least:
                    SLOW.append((t, d, label + " (async, wall)"))
        setattr(owner, name, wrapper_async)
        return

    def wrapper(*a: object, **k: object) -> object:
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            if (d := time.perf_counter() - t) >= least:
                SLOW.append((t, d, label))
    setattr(owner, name, wrapper)


def instrument() -> None:
    from textual.screen import Screen

    from tui.board_screen import BoardScreen

    timed(Screen, "_refresh_layout")
    timed(Screen, "_on_timer_update")
    timed(BoardScreen, "refresh_board")
    timed(TeamboardApp, "_store_loaded")
    from tui.loader import Loader

    timed(TeamboardApp, "request_reload", 0)
    timed(TeamboardApp, "_read", 0)
    timed(Loader, "_ask", 0)
    timed(TeamboardApp, "_prepare", 0)


async def main() -> None:
    instrument()
    path = Path(sys.argv[2])
    writes = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    beats: list[float] = []
    collections: list[tuple[float, float, int]] = []
    started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            collections.append((started[0], time.perf_counter() - started[0], info["generation"]))

    gc.callbacks.append(on_gc)
    day = date.today()
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(path), day.isoformat(), "Output", ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert writer.stdin is not None and writer.stdout is not None
    await writer.stdout.readline()
    app = TeamboardApp(path)
    prof = cProfile.Profile()
    async with app.run_test(size=(120, 40)):
        await wait_for(lambda: value_label(app) not in (None, "–"), 900)
        app.set_interval(0.005, lambda: beats.append(time.perf_counter()))
        await asyncio.sleep(1.0)
        for i in range(writes + 1):
            want = num(1000.0 + i)
            seen = asyncio.ensure_future(wait_for(lambda w=want: value_label(app) == w, 900))
            w0 = time.perf_counter()
            if i:
                prof.enable()
            writer.stdin.write(f"{1000.0 + i}\n".encode())
            await writer.stdin.drain()
            _, t1 = map(float, (await writer.stdout.readline()).split())
            t1_pc = t1 - (time.time() - time.perf_counter())  # the write's end, perf_counter
            shown = await seen
            await wait_for(lambda: not app._loading, 900, 0.005)
            await asyncio.sleep(0.1)
            prof.disable()
            w1 = time.perf_counter()
            pts = [b for b in beats if w0 <= b <= w1]
            gaps = sorted(((b - a, a - w0) for a, b in itertools.pairwise(pts)), reverse=True)
            gcs = [(round((t - w0) * 1000), round(d * 1000, 1), g)
                   for t, d, g in collections if w0 <= t <= w1 and d > 0.002]
            print(f"   written at {1000 * (t1_pc - w0):.0f} ms, shown at "
                  f"{1000 * (shown - t1 + t1_pc - w0):.0f} ms")
            print(f"write {i}: write→tile {1000 * (shown - t1):.0f} ms; gaps (ms, at ms): "
                  + ", ".join(f"{1000 * g:.0f}@{1000 * at:.0f}" for g, at in gaps[:6]))
            print(f"   collections >2 ms (at ms, ms, gen): {gcs}")
            slow = [(round((t - w0) * 1000), round(d * 1000, 1), what)
                    for t, d, what in SLOW if w0 <= t <= w1]
            print(f"   calls (at ms, ms, what): {slow}")
    writer.stdin.close()
    await writer.wait()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())


asyncio.run(main())
