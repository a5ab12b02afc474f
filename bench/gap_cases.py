"""The UI loop's longest gap while the board takes in each kind of write, this tree against main.

    .venv/bin/python bench/gap_cases.py [--base /work/main]
        [--base-python /work/main/.venv/bin/python] [--sizes 100000,1000000] [--repeats 3]
        [--wall]

A write usually changes one tile's value; some change what a tile looks like or what is on the
board. For each store size (bench/make_store.py) it runs the board of each tree in turn (the
order alternating by size), with another process writing, case by case:

- value: Output's value changes, its status stays green (1,000 → 1,001: the same width)
- red: Output falls to 50 (green → red: glyph, word, colour, class, a flag line appears)
- green: back to 1,000 (red → green)
- action: an action is added for Output (the action list grows; the tile counts it)
- tile+: a KPI is added to the board (a tile appears)
- tile-: that KPI is archived (the tile goes)

For each write: the UI loop's longest gap (a 5 ms heartbeat) from the write until the board
shows it, the reload ended and the screen was not laid out or drawn for 250 ms; and the UI
thread's longest busy stretch (its own CPU time between two beats: load stretches it less).
`--wall` runs the wall (`teamboard show --wall`, 240x67, its own tiles) instead of the laptop's
board at 120x40. Markdown out, with the load average; timings, never assertions.
PYTHONDONTWRITEBYTECODE is unset.
The child mode (`--probe ROOT STORE REPEATS [wall]`) is one board on one store, code from ROOT.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from probe_text import first_word

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CASES = ("value", "red", "green", "action", "tile+", "tile-")

WRITER = """\
import json, sys, time
sys.path.insert(0, sys.argv[3])
from datetime import date
from store import Store, ops
store, day = Store(sys.argv[1]), date.fromisoformat(sys.argv[2])
print("ready", flush=True)
for line in sys.stdin:
    what, arg = json.loads(line)
    t0 = time.time()
    if what == "record":
        ops.record(store, "Output", float(arg), day, day)
    elif what == "action":
        ops.add_action(store, arg, board="Line 1", kpi="Output", owner="ana")
    elif what == "kpi":
        ops.add_kpi(store, arg, "Line 1", 100.0, unit="units", force=True)
    elif what == "archive":
        ops.archive_kpi(store, arg, "Line 1")
    print(t0, time.time(), flush=True)
"""


async def probe(root: str, path: Path, repeats: int, wall: bool = False) -> dict[str, Any]:
    """One board on `path`, code from `root`: each case `repeats` times; the gaps in seconds."""
    sys.path.insert(0, root)
    from datetime import date

    from textual.css.query import NoMatches
    from textual.widgets import Label

    from store.present import num
    from tui.app import TeamboardApp
    from widgets.kpi_tile import KpiTile

    day = date.today()
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(path), day.isoformat(), root,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert writer.stdin is not None and writer.stdout is not None
    await writer.stdout.readline()
    app = TeamboardApp(path, wall=wall)
    found: dict[str, Any] = {}

    def output_label(cls: str) -> str | None:
        """A label of the Output tile, found once while it stays on screen (a query walks the
        DOM: polled every 2 ms it would be the biggest thing on the loop)."""
        label = found.get(cls)
        if label is None or not label.is_attached:
            tile = next((t for t in app.screen.query(KpiTile)
                         if t.view is not None and t.view.kpi.name == "Output"), None)
            if tile is None:
                return None
            try:
                label = found[cls] = tile.query_one(f".{cls}", Label)
            except NoMatches:  # mounted, not composed yet
                return None
        return first_word(label) if cls == "value" else str(label.render())

    def grid_size() -> int:
        if "grid" not in found:
            found["grid"] = app.screen.query_one("#tiles")
        return len(found["grid"].children)

    def actions_title() -> str:
        if "actions" not in found:
            found["actions"] = app.screen.query_one("#actions-title", Label)
        return str(found["actions"].render())

    async def wait_for(cond: Any, timeout: float = 900, step: float = 0.002) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError
            await asyncio.sleep(step)

    from textual.screen import Screen

    drawn = [0.0]  # when the screen last laid out or drew: a case ends when that has settled
    update = Screen._on_timer_update

    def stamped(self: Screen[Any]) -> None:
        update(self)
        drawn[0] = time.perf_counter()

    Screen._on_timer_update = stamped  # type: ignore[method-assign]

    async def settled(quiet: float = 0.25, most: float = 30) -> None:
        """Until the screen has not been laid out or drawn for `quiet` s (a remount of tiles
        goes on after the tiles are counted)."""
        deadline = time.perf_counter() + most
        while time.perf_counter() - drawn[0] < quiet and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)

    beats: list[float] = []
    cpu: list[float] = []
    out: dict[str, Any] = {c: {"gap": [], "busy": []} for c in CASES}
    async with app.run_test(size=(240, 67) if wall else (120, 40)):
        await wait_for(lambda: output_label("value") not in (None, "–"))

        def beat() -> None:
            beats.append(time.perf_counter())
            cpu.append(time.thread_time())

        app.set_interval(0.005, beat)
        await asyncio.sleep(1.5)  # the first paint's layouts settle, the loader starts

        async def write(case: str | None, what: str, arg: object, shown: Any) -> None:
            reloads = app.reloads
            w0 = time.perf_counter()
            writer.stdin.write((json.dumps([what, arg]) + "\n").encode())  # type: ignore[union-attr]
            await writer.stdin.drain()  # type: ignore[union-attr]
            await writer.stdout.readline()  # type: ignore[union-attr]
            await wait_for(lambda: app.reloads > reloads and not app._loading and shown())
            await asyncio.sleep(0.1)
            await settled()  # what is laid out and drawn after the reload counts too
            w1 = time.perf_counter()
            if case is None:
                return
            i = [k for k, b in enumerate(beats) if w0 <= b <= w1]
            pts = beats[max(0, i[0] - 1): i[-1] + 1] if i else []
            out[case]["gap"].append(max((b - a for a, b in itertools.pairwise(pts)), default=0))
            j = range(max(0, i[0] - 1), i[-1] + 1) if i else range(0)
            out[case]["busy"].append(
                max((cpu[b] - cpu[a] for a, b in itertools.pairwise(j)), default=0.0))

        tiles = grid_size()
        # A warm-up as wide as the values to come: 999 → 1,000 made the first "value" case a
        # wider value (the wall's big digits then lay the screen out).
        await write(None, "record", 1999.0, lambda: output_label("value") == num(1999.0))
        for r in range(repeats):
            v = 1000.0 + r
            await write("value", "record", v, lambda v=v: output_label("value") == num(v))
            await write("red", "record", 50.0, lambda: output_label("value") == num(50.0))
            await write("green", "record", v, lambda v=v: output_label("value") == num(v))
            await write("action", "action", f"Probe action {r}",
                        lambda r=r: f"({r + 1} open)" in actions_title())
            await write("tile+", "kpi", f"Probe {r}", lambda: grid_size() == tiles + 1)
            await write("tile-", "archive", f"Probe {r}", lambda: grid_size() == tiles)
    writer.stdin.close()
    await writer.wait()
    return out


def run_probe(python: str, root: Path, store: Path, repeats: int, wall: bool) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    res = subprocess.run(
        [python, str(HERE / "gap_cases.py"), "--probe", str(root), str(store), str(repeats)]
        + (["wall"] if wall else []),
        env=env, cwd=str(root), capture_output=True, text=True, check=False, timeout=3600,
    )  # fmt: skip
    lines = [x for x in res.stdout.splitlines() if x.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": res.stderr[-800:]}


def ms(xs: list[float]) -> str:
    if not xs:
        return "–"
    return f"{statistics.median(xs) * 1000:.0f} ({max(xs) * 1000:.0f})"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--probe"]:
        wall = argv[4:5] == ["wall"]
        print(json.dumps(asyncio.run(probe(argv[1], Path(argv[2]), int(argv[3]), wall))))
        return 0
    sys.path.insert(0, str(HERE))
    from make_store import make_store

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="/work/main", help="the tree to compare with (main)")
    p.add_argument("--base-python", default="/work/main/.venv/bin/python")
    p.add_argument("--python", default=sys.executable, help="this tree's Python")
    p.add_argument("--sizes", default="100000,1000000", help="entries per store")
    p.add_argument("--repeats", type=int, default=3, help="writes of each case per run")
    p.add_argument("--wall", action="store_true", help="the wall board at 240x67")
    a = p.parse_args(argv)
    trees = [("after (this tree)", a.python, ROOT), ("before (base)", a.base_python,
                                                     Path(a.base))]
    t0 = time.time()
    shown = ", the wall" if a.wall else ""
    lines = [f"this tree {ROOT} against {a.base}{shown}; load average before "
             f"{os.getloadavg()[0]:.2f}", ""]
    with tempfile.TemporaryDirectory(prefix="gap-cases-") as tmp:
        for k, n in enumerate(int(x) for x in a.sizes.split(",") if x):
            runs: dict[str, dict[str, Any]] = {}
            for name, py, root in trees if k % 2 == 0 else trees[::-1]:
                store = make_store(Path(tmp) / f"s{n}-{len(runs)}.json", n)
                runs[name] = run_probe(py, root, store, a.repeats, a.wall)
                store.unlink()
            lines += [f"{n:,} entries, load average now {os.getloadavg()[0]:.2f}; UI loop's "
                      "longest gap, median (max) ms / UI thread's longest busy stretch:", "",
                      "| case | gap before | gap after | busy before | busy after |",
                      "|---|---:|---:|---:|---:|"]
            before, after = runs["before (base)"], runs["after (this tree)"]
            for name, res in runs.items():
                if "error" in res:
                    lines.append(f"{name}: error {res['error']!r}")
            for case in CASES:
                b, f = before.get(case, {}), after.get(case, {})
                lines.append(f"| {case} | {ms(b.get('gap', []))} | {ms(f.get('gap', []))} | "
                             f"{ms(b.get('busy', []))} | {ms(f.get('busy', []))} |")
            lines.append("")
            print("\n".join(lines[-(len(CASES) + 5):]), flush=True)
    lines.append(f"{time.time() - t0:.0f} s; load average after {os.getloadavg()[0]:.2f}")
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
