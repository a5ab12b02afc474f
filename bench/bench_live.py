"""How fast the live board follows the store, and what a reload costs the UI.

    .venv/bin/python bench/bench_live.py [--repeats 30] [--reloads 10000] [--sizes 10000,100000]

The real app runs headless (`App.run_test(size=(120, 40))`) on stores made by
bench/make_store.py (10 boards of 7 daily KPIs; the board shows "Line 1" and its KPI "Output").
Measured, in this order:

(a) write-to-tile latency: a writer in ANOTHER process (started once; it calls store.ops.record
    and prints time.time() just before and just after each transaction) records a new value;
    the app's side polls the "Output" tile's value label every 2 ms and notes time.time() when it
    shows the value. Latency = seen - the writer's "after". The writer's own time is reported too.
(b) UI stalls: a set_interval(0.01) heartbeat inside the app; the longest gap between beats
    during each write-to-tile window, against the longest gap while idle.
(c) first paint: from creating the app to the first tile holding its value.
(d) memory: app.request_reload() in a loop, each waited for, on a small store; tracemalloc's
    current size and VmRSS after 100 reloads and after N (default 10,000).

Baselines in the same run: a bare orjson.loads of each store's bytes, and Store.read() (parse +
Snapshot) alone, off the app. Prints the figures as Markdown; timings, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import itertools
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import orjson
from textual.css.query import NoMatches

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_store import make_store
from probe_text import first_word

from store import Store
from tui.app import TeamboardApp
from widgets.kpi_tile import KpiTile

KPI = "Output"
SIZE = (120, 40)
WRITER = """\
import sys, time
from datetime import date
from store import Store, ops
store, day = Store(sys.argv[1]), date.fromisoformat(sys.argv[2])
print("ready", flush=True)
for line in sys.stdin:
    value = float(line)
    t0 = time.time()
    ops.record(store, sys.argv[3], value, day, day)
    t1 = time.time()
    print(t0, t1, flush=True)
"""


# --- small helpers ---------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def ms(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x >= 0.0095 else f"{x * 1000:.1f} ms"


def summary(values: Sequence[float]) -> str:
    return (f"median {ms(statistics.median(values))}, p90 {ms(pct(values, 0.9))}, "
            f"max {ms(max(values))}")


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def value_label(app: TeamboardApp) -> str | None:
    """The text of the "Output" tile's value, or None before the tile exists."""
    for tile in app.screen.query(KpiTile):
        if tile.view is not None and tile.view.kpi.name == KPI:
            try:
                return first_word(tile.query_one(".value"))
            except NoMatches:  # mounted, not composed yet
                return None
    return None


def num_text(value: float) -> str:
    from store.present import num

    return num(value)


def shows(app: TeamboardApp, want: str) -> Callable[[], bool]:
    return lambda: value_label(app) == want


async def wait_for(cond: Callable[[], bool], timeout: float, what: str,
                   step: float = 0.002) -> float:
    """Poll `cond` every `step` s on the app's loop; the time.time() it first held."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(step)
    return time.time()


class GcPauses:
    """Every garbage-collector pass in this process (either thread), with its duration."""

    def __init__(self) -> None:
        self.passes: list[tuple[float, float, int]] = []  # (start, seconds, generation)
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.passes.append((self._start, time.perf_counter() - self._start,
                                info["generation"]))

    def longest(self, start: float, end: float) -> float:
        return max((d for t, d, _ in self.passes if start <= t <= end), default=0.0)


@dataclass
class Heart:
    """A 10 ms heartbeat inside the app: the UI loop is stalled when beats are far apart."""

    beats: list[float] = field(default_factory=list)

    def beat(self) -> None:
        self.beats.append(time.perf_counter())

    def longest_gap(self, start: float, end: float) -> float:
        inside = [b for b in self.beats if start <= b <= end]
        # The gap into the window counts too: a stall can start before the first beat in it.
        before = [b for b in self.beats if b < start][-1:]
        after = [b for b in self.beats if b > end][:1]
        pts = before + inside + after
        return max((b - a for a, b in itertools.pairwise(pts)), default=0.0)


# --- (a) + (b): another process writes; the tile follows ------------------------------------


@dataclass
class LiveResult:
    entries: int
    megabytes: float
    latency: list[float]
    writer: list[float]
    stall: list[float]
    gc_pause: list[float]
    idle_stall: float
    reloads_per_write: float


async def live(path: Path, entries: int, repeats: int) -> LiveResult:
    day = date.today()
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(path), day.isoformat(), KPI,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    assert writer.stdin is not None and writer.stdout is not None
    assert (await writer.stdout.readline()).strip() == b"ready"
    heart = Heart()
    app = TeamboardApp(path)
    latency: list[float] = []
    took: list[float] = []
    stalls: list[float] = []
    gc_pauses: list[float] = []
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    try:
        async with app.run_test(size=SIZE):
            app.set_interval(0.01, heart.beat)
            await wait_for(lambda: value_label(app) not in (None, "–"), 60, "first tile", 0.01)
            await asyncio.sleep(0.5)
            t = time.perf_counter()
            await asyncio.sleep(2.0)
            idle = heart.longest_gap(t, time.perf_counter())
            start_reloads = app.reloads
            for i in range(repeats):
                value = 1000.0 + i  # shown as "1,000", "1,001", ... (never the store's own)
                want = num_text(value)
                w_start = time.perf_counter()
                seen = asyncio.ensure_future(wait_for(shows(app, want), 60, f"value {want}"))
                writer.stdin.write(f"{value}\n".encode())
                await writer.stdin.drain()
                t0, t1 = map(float, (await writer.stdout.readline()).split())
                t_seen = await seen
                w_end = time.perf_counter()
                latency.append(t_seen - t1)
                took.append(t1 - t0)
                # Let this reload and the debounce finish before the next write.
                await wait_for(lambda: not app._loading, 60, "reload done", 0.005)
                await asyncio.sleep(0.15)
                stalls.append(heart.longest_gap(w_start, w_end + 0.05))
                gc_pauses.append(pauses.longest(w_start, w_end + 0.05))
            per_write = (app.reloads - start_reloads) / repeats
    finally:
        gc.callbacks.remove(pauses)
        writer.stdin.close()
        await writer.wait()
    return LiveResult(entries, path.stat().st_size / 1e6, latency, took, stalls, gc_pauses, idle,
                      per_write)


# --- (c) first paint -------------------------------------------------------------------------


async def first_paint(path: Path) -> float:
    t0 = time.perf_counter()
    app = TeamboardApp(path)
    async with app.run_test(size=SIZE):
        await wait_for(lambda: value_label(app) not in (None, "–"), 60, "first tile", 0.002)
        t1 = time.perf_counter()
    return t1 - t0


# --- (d) memory over many reloads ------------------------------------------------------------


@dataclass
class MemoryResult:
    reloads: int
    seconds: float
    traced: dict[int, int]  # reloads -> tracemalloc current bytes
    rss: dict[int, int]  # reloads -> VmRSS kB


async def memory(path: Path, total: int) -> MemoryResult:
    checkpoints = sorted({100, total // 10, total // 2, total} - {0})
    traced: dict[int, int] = {}
    rss: dict[int, int] = {}
    tracemalloc.start()
    app = TeamboardApp(path)
    t0 = time.perf_counter()
    async with app.run_test(size=SIZE):
        await wait_for(lambda: app.reloads >= 1, 60, "first load", 0.005)
        base = app.reloads
        for n in range(1, total + 1):
            want = base + n
            app.request_reload()
            while app.reloads < want:
                await asyncio.sleep(0)
            if n in checkpoints:
                await asyncio.sleep(0.05)
                gc.collect()
                traced[n] = tracemalloc.get_traced_memory()[0]
                rss[n] = rss_kb()
    seconds = time.perf_counter() - t0
    tracemalloc.stop()
    return MemoryResult(total, seconds, traced, rss)


# --- baselines and a profile -----------------------------------------------------------------


def baselines(path: Path, repeats: int = 7) -> tuple[float, float]:
    """Median seconds of a bare orjson.loads of the file, and of Store.read() (parse+Snapshot)."""
    loads, reads = [], []
    store = Store(path)
    for _ in range(repeats):
        t = time.perf_counter()
        orjson.loads(path.read_bytes())
        loads.append(time.perf_counter() - t)
        t = time.perf_counter()
        store.read()
        reads.append(time.perf_counter() - t)
    return statistics.median(loads), statistics.median(reads)


def profile_read(path: Path, top: int = 12) -> str:
    """Where Store.read() and the board's views spend their time (cProfile, cumulative)."""
    store = Store(path)
    prof = cProfile.Profile()
    prof.enable()
    snap = store.read()
    board = snap.default_board().id
    snap.views(board, date.today())
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def views_time(path: Path, repeats: int = 5) -> float:
    """What the UI thread spends computing the shown board's views from a snapshot."""
    snap = Store(path).read()
    board = snap.default_board().id
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        snap.views(board, date.today())
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# --- main ------------------------------------------------------------------------------------


def machine() -> list[str]:
    free = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    load = os.getloadavg()
    return [
        f"- `nproc`: {os.cpu_count()}; Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}",
        f"- load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        "- `free -h`:",
        "",
        "```",
        free.rstrip(),
        "```",
    ]


async def run(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    lines = ["## Machine (this run)", "", *machine(), ""]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        # Memory first, so VmRSS is not the high-water mark of the big stores' runs.
        small = _fresh(Path(tmp), 500)
        make_store(small, 500)
        mem = await memory(small, args.reloads)
        print(f"memory: {mem.traced}", file=sys.stderr)
        results = []
        paints: dict[int, list[float]] = {}
        bases: dict[int, tuple[float, float, float]] = {}
        for n in sizes:
            path = make_store(_fresh(Path(tmp), n), n)
            bases[n] = (*baselines(path), views_time(path))
            paints[n] = [await first_paint(path) for _ in range(args.paints)]
            print(f"[{n:,}] first paint {summary(paints[n])}", file=sys.stderr)
            results.append(await live(path, n, args.repeats))
            print(f"[{n:,}] latency {summary(results[-1].latency)}", file=sys.stderr)
            if n == max(sizes) and args.profile:
                print(profile_read(path), file=sys.stderr)
    elapsed = time.perf_counter() - started

    lines += ["## Results", ""]
    lines += ["| store | file | bare orjson.loads | Store.read() | views of the board (UI "
              "thread) | write-to-tile median | p90 | max | median ÷ bare load | writer's "
              "transaction (median) | longest UI stall during reloads (median / max) | idle "
              "max gap | longest GC pass in the window (median / max) | reloads per write |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        load, read, views = bases[r.entries]
        lines.append(
            f"| {r.entries:,} entries | {r.megabytes:.1f} MB | {ms(load)} | {ms(read)} | "
            f"{ms(views)} | {ms(statistics.median(r.latency))} | {ms(pct(r.latency, 0.9))} | "
            f"{ms(max(r.latency))} | {statistics.median(r.latency) / load:.1f} | "
            f"{ms(statistics.median(r.writer))} | {ms(statistics.median(r.stall))} / "
            f"{ms(max(r.stall))} | {ms(r.idle_stall)} | {ms(statistics.median(r.gc_pause))} / "
            f"{ms(max(r.gc_pause))} | {r.reloads_per_write:.2f} |"
        )
    lines += ["", "| store | first paint median | min | max | runs |", "|---|---:|---:|---:|---:|"]
    for n in sizes:
        p = paints[n]
        lines.append(f"| {n:,} entries | {ms(statistics.median(p))} | {ms(min(p))} | "
                     f"{ms(max(p))} | {len(p)} |")
    lines += ["", f"Memory, {mem.reloads:,} reloads of a 500-entry store in "
              f"{mem.seconds:.0f} s (tracemalloc on):", "",
              "| after reloads | tracemalloc current | VmRSS |", "|---:|---:|---:|"]
    for k in sorted(mem.traced):
        lines.append(f"| {k:,} | {mem.traced[k] / 1e6:.2f} MB | {mem.rss[k] / 1024:.1f} MB |")
    lines += ["", f"Whole run: {elapsed:.0f} s."]
    print("\n".join(lines))


def _fresh(tmp: Path, n: int) -> Path:
    folder = tmp / f"store-{n}"
    folder.mkdir(exist_ok=True)
    return folder / "team.json"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=30, help="writes per store size")
    p.add_argument("--reloads", type=int, default=10_000, help="reloads for the memory check")
    p.add_argument("--paints", type=int, default=5, help="app starts per store size")
    p.add_argument("--sizes", default="10000,100000", help="entries per store, comma-separated")
    p.add_argument("--profile", action="store_true", help="cProfile Store.read() on the biggest")
    asyncio.run(run(p.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
