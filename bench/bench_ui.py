"""The board's UI loop during a reload, and write → tile, for this tree against another (main).

    .venv/bin/python bench/bench_ui.py [--base /work/main --base-python /work/main/.venv/bin/python]
        [--sizes 100000,1000000] [--writes 5] [--paint 10000] [--rounds 1]

For each store size (bench/make_store.py: 10 boards of 7 daily KPIs) it runs bench/live_probe.py
once for this tree and once for the base tree, alternating which goes first, so both meet the
same machine: first paint, write → tile (another process records; the tile shows it), and the
UI loop's longest gap (a 5 ms heartbeat) from each write until the reload ended, and while idle,
and the UI thread's longest busy stretch (its CPU time between two beats: the machine's load
stretches it less than the gap).
"write → tile" is from when the writer's `record` returned; "from the rename" from when its
rename put the new file in place (what a board can see first): the writer still syncs the folder
and works out its status line after it (at a million entries, a second or more).
Baselines of the same run: a bare `orjson.loads` of the store in this process, and the base
tree's figures. Prints Markdown with the load average; timings, never assertions.
PYTHONDONTWRITEBYTECODE is unset (else every start compiles again).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from make_store import make_store  # noqa: E402


def probe(python: str, root: Path, store: Path, writes: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run(
        [python, str(HERE / "live_probe.py"), str(root), str(store), str(writes)],
        env=env, cwd=str(root), capture_output=True, text=True, check=False, timeout=3600,
    )  # fmt: skip
    lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": out.stderr[-600:]}


def bare_load(path: Path, repeats: int = 3) -> float:
    data = path.read_bytes()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        orjson.loads(data)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def ms(x: float | None) -> str:
    return "–" if x is None else f"{x * 1000:,.0f} ms"


def med(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def row(name: str, r: dict[str, Any], load: float) -> str:
    if "error" in r:
        return f"| {name} | error: {r['error'][-200:]!r} | | | | | | | |"
    lat, stall, busy = r.get("latency", []), r.get("stall", []), r.get("busy", [])
    fresh = r.get("from_rename", [])
    ratio = f"{med(lat) / load:.2f}" if lat and load else "–"  # type: ignore[operator]
    return (f"| {name} | {ms(r.get('first_paint'))} | {ms(med(lat))} ({ms(max(lat, default=None))})"
            f" | {ms(med(fresh))} ({ms(max(fresh, default=None))})"
            f" | {ratio} | {ms(med(stall))} / {ms(max(stall, default=None))} | "
            f"{ms(med(busy))} / {ms(max(busy, default=None))} | "
            f"{ms(r.get('idle_gap'))} ({ms(r.get('idle_busy'))}) | {len(lat)} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="/work/main", help="the tree to compare with (main)")
    p.add_argument("--base-python", default="/work/main/.venv/bin/python")
    p.add_argument("--python", default=sys.executable, help="this tree's Python")
    p.add_argument("--sizes", default="100000,1000000", help="entries per store")
    p.add_argument("--paint", type=int, default=10_000, help="a store for the first paint")
    p.add_argument("--writes", type=int, default=5, help="timed writes per store (1M: 2)")
    p.add_argument("--rounds", type=int, default=1, help="runs of each tree per store")
    a = p.parse_args(argv)
    sizes = [int(x) for x in a.sizes.split(",") if x]
    if a.paint and a.paint not in sizes:
        sizes = [a.paint, *sizes]
    trees = [("after (this tree)", a.python, ROOT), ("before (base)", a.base_python,
                                                     Path(a.base))]
    t0, load0 = time.time(), os.getloadavg()
    lines = [f"this tree {ROOT} against {a.base}; load average before {load0[0]:.2f}", ""]
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        for n in sizes:
            store = make_store(Path(tmp) / f"s{n}.json", n)
            writes = 1 if n == a.paint and n != max(sizes) else (2 if n >= 1_000_000 else a.writes)
            load, mb = bare_load(store), store.stat().st_size / 1e6
            runs: list[tuple[str, dict[str, Any]]] = []
            for r in range(a.rounds):
                order = trees if (r + sizes.index(n)) % 2 == 0 else trees[::-1]
                for name, py, root in order:
                    fresh = make_store(Path(tmp) / f"s{n}-{r}-{len(runs)}.json", n)
                    runs.append((name, probe(py, root, fresh, writes)))
                    fresh.unlink()
            store.unlink()
            lines += [f"{n:,} entries ({mb:.0f} MB), bare orjson.loads {ms(load)}, "
                      f"load average now {os.getloadavg()[0]:.2f}:", "",
                      "| tree | first paint | write → tile, median (max) | from the rename, "
                      "median (max) | ÷ bare load | "
                      "UI loop's longest gap in a reload, median / max | UI thread's longest "
                      "busy stretch, median / max | idle gap (busy) | writes |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
            lines += [row(name, res, load) for name, res in sorted(runs, key=lambda x: x[0])]
            lines.append("")
            print("\n".join(lines[-(len(runs) + 5):]), flush=True)
    lines.append(f"{time.time() - t0:.0f} s; load average after {os.getloadavg()[0]:.2f}")
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
