"""One live board on one store, measured from inside: run by bench/bench_scale.py with the code
tree to measure first on `sys.path` (so main's code and a branch's run the same probe).

    python bench/live_probe.py ROOT STORE WRITES

Prints one JSON object: the first paint (app created → first tile holds a value), and for each
write by another process (after one untimed warm-up write): write → tile (tile shows the value −
the writer's transaction returned) and the UI loop's longest gap (a 5 ms heartbeat) from the
write until the tile showed it and the reload ended. Timings only, never assertions.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from datetime import date
from pathlib import Path

ROOT = sys.argv[1]
sys.path.insert(0, ROOT)

from textual.css.query import NoMatches  # noqa: E402

from store.present import num  # noqa: E402
from tui.app import TeamboardApp  # noqa: E402
from widgets.kpi_tile import KpiTile  # noqa: E402

KPI = "Output"
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


def value_label(app: TeamboardApp) -> str | None:
    for tile in app.screen.query(KpiTile):
        if tile.view is not None and tile.view.kpi.name == KPI:
            try:
                return str(tile.query_one(".value").render())
            except NoMatches:
                return None
    return None


async def wait_for(cond: object, timeout: float, step: float = 0.002) -> float:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(step)
    return time.time()


async def main() -> None:
    path, writes = Path(sys.argv[2]), int(sys.argv[3])
    beats: list[float] = []
    day = date.today()
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(path), day.isoformat(), KPI, ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert writer.stdin is not None and writer.stdout is not None
    await writer.stdout.readline()
    t0 = time.perf_counter()
    app = TeamboardApp(path)
    out: dict[str, object] = {}
    latency, stall = [], []
    async with app.run_test(size=(120, 40)):
        await wait_for(lambda: value_label(app) not in (None, "–"), 600)
        out["first_paint"] = time.perf_counter() - t0
        app.set_interval(0.005, lambda: beats.append(time.perf_counter()))
        i0 = time.perf_counter()
        await asyncio.sleep(1.0)
        idle = [b for b in beats if b >= i0]
        out["idle_gap"] = max((b - a for a, b in itertools.pairwise(idle)), default=0.0)
        for i in range(writes + 1):
            value = 1000.0 + i
            want = num(value)
            w0 = time.perf_counter()
            seen = asyncio.ensure_future(wait_for(lambda w=want: value_label(app) == w, 600))
            writer.stdin.write(f"{value}\n".encode())
            await writer.stdin.drain()
            _, t1 = map(float, (await writer.stdout.readline()).split())
            shown = await seen
            await wait_for(lambda: not app._loading, 600, 0.005)
            w1 = time.perf_counter()
            await asyncio.sleep(0.1)
            inside = [b for b in beats if w0 <= b <= w1]
            pts = [b for b in beats if b < w0][-1:] + inside + [b for b in beats if b > w1][:1]
            gap = max((b - a for a, b in itertools.pairwise(pts)), default=0.0)
            if i:  # the first write warms up (the loader's first full answer, caches)
                latency.append(shown - t1)
                stall.append(gap)
    writer.stdin.close()
    await writer.wait()
    out["latency"], out["stall"] = latency, stall
    print(json.dumps(out))


asyncio.run(main())
