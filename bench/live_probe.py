"""One live board on one store, measured from inside: run by bench/bench_scale.py with the code
tree to measure first on `sys.path` (so main's code and a branch's run the same probe).

    python bench/live_probe.py ROOT STORE WRITES

Prints one JSON object: the first paint (app created → first tile holds a value), and for each
write by another process (after one untimed warm-up write): write → tile (tile shows the value −
the writer's transaction returned; and `from_rename`: − the moment the writer's rename put the
new file in place, before its folder's fsync and status line, which at a million entries end
after the tile showed the value) and the UI loop's longest gap (a 5 ms heartbeat)
from the write until the tile showed it and the reload ended, and the UI thread's most CPU time
between two beats in that window (`busy`: its own work, which the machine's load does not
stretch as much as a wall-clock gap). Timings only, never assertions.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = sys.argv[1]
sys.path.insert(0, ROOT)

from probe_text import first_word  # noqa: E402
from textual.css.query import NoMatches  # noqa: E402

from store.present import num  # noqa: E402
from tui.app import TeamboardApp  # noqa: E402
from widgets.kpi_tile import KpiTile  # noqa: E402

KPI = "Output"
WRITER = """\
import os, sys, time
renamed = [0.0]
_replace = os.replace
def replace(src, dst):  # when the store's new file is in place (storage.write_atomic)
    _replace(src, dst)
    renamed[0] = time.time()
os.replace = replace
sys.path.insert(0, sys.argv[4])
from datetime import date
from store import Store, ops
store, day = Store(sys.argv[1]), date.fromisoformat(sys.argv[2])
print("ready", flush=True)
for line in sys.stdin:
    value = float(line)
    t0 = time.time()
    ops.record(store, sys.argv[3], value, day, day)
    print(t0, time.time(), renamed[0], flush=True)
"""


_found: list[Any] = []  # the Output tile's value label, once found


def value_label(app: TeamboardApp) -> str | None:
    """The Output tile's value. The label is found once and kept while it is on screen: a
    query walks the DOM (about 10 ms a time here), and polled every 2 ms it would be the
    biggest thing on the UI loop, the probe measuring itself."""
    if _found:
        if _found[0].is_attached:
            return first_word(_found[0])
        _found.clear()
    for tile in app.screen.query(KpiTile):
        if tile.view is not None and tile.view.kpi.name == KPI:
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
    latency, stall, from_rename = [], [], []
    async with app.run_test(size=(120, 40)):
        await wait_for(lambda: value_label(app) not in (None, "–"), 600)
        out["first_paint"] = time.perf_counter() - t0
        cpu: list[float] = []  # the UI thread's CPU time at each beat

        def beat() -> None:
            beats.append(time.perf_counter())
            cpu.append(time.thread_time())

        def busiest(lo: float, hi: float) -> float:
            """The UI thread's most CPU time between two beats in [lo, hi] (what it did itself,
            whatever the machine's load; waiting for the GIL or a core is not counted)."""
            i = [k for k, b in enumerate(beats) if lo <= b <= hi]
            if not i:
                return 0.0
            j = range(max(0, i[0] - 1), min(len(cpu), i[-1] + 2))
            return max((cpu[b] - cpu[a] for a, b in itertools.pairwise(j)), default=0.0)

        app.set_interval(0.005, beat)
        await asyncio.sleep(1.5)  # the first paint's own layouts settle, the loader starts
        i0 = time.perf_counter()
        await asyncio.sleep(2.0)  # two ticks of the board's 1 s clock
        idle = [b for b in beats if b >= i0]
        out["idle_gap"] = max((b - a for a, b in itertools.pairwise(idle)), default=0.0)
        out["idle_busy"] = busiest(i0, time.perf_counter())
        busy = []
        for i in range(writes + 1):
            value = 1000.0 + i
            want = num(value)
            w0 = time.perf_counter()
            seen = asyncio.ensure_future(wait_for(lambda w=want: value_label(app) == w, 600))
            writer.stdin.write(f"{value}\n".encode())
            await writer.stdin.drain()
            _, t1, renamed = map(float, (await writer.stdout.readline()).split())
            shown = await seen
            await wait_for(lambda: not app._loading, 600, 0.005)
            w1 = time.perf_counter()
            await asyncio.sleep(0.1)
            inside = [b for b in beats if w0 <= b <= w1]
            pts = [b for b in beats if b < w0][-1:] + inside + [b for b in beats if b > w1][:1]
            gap = max((b - a for a, b in itertools.pairwise(pts)), default=0.0)
            if i:  # the first write warms up (the loader's first full answer, caches)
                latency.append(shown - t1)
                from_rename.append(shown - renamed)
                stall.append(gap)
                busy.append(busiest(w0, w1))
    writer.stdin.close()
    await writer.wait()
    out["latency"], out["stall"], out["busy"] = latency, stall, busy
    out["from_rename"] = from_rename
    print(json.dumps(out))


asyncio.run(main())
