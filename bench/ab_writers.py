"""Writers at once, two code trees interleaved in one run: what the lock costs them, without
the start-up of a process per record.

    .venv/bin/python bench/ab_writers.py BEFORE_ROOT BEFORE_PY [--writers 8] [--size 10000]
                                         [--per-writer 15] [--rounds 2]

Each writer is a process that imports the store once, waits for the starting gun, then runs
`store.ops.record` `--per-writer` times back to back (the path `teamboard record` takes), all
writers at once on one store of `--size` entries (a fresh one per phase). Phases run before,
after, after, before (`--rounds` times), so a busy minute on a shared machine hits both trees.
Per tree: records per second (from the gun to the last writer's end), and the lock's hold
time from inside the writers (`store.lock.observe`): median and 90th percentile. Whole
processes per record, start-up included, are `bench/ab_record.py --writers`. Prints Markdown;
timings, never assertions. A writer of this tree keeps the store it wrote last between its
records (`store.fastpath._Memo`) and its proofs in a folder of the run's own (`store.checked`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_store import make_store  # noqa: E402

WRITER = """\
import json, os, sys, time
from datetime import date
root, path, go, me, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
sys.path.insert(0, root)
import store.lock
holds = []
store.lock.observe = lambda g: holds.append(g.released - g.got)
from store import ops
from store.db import Store
s = Store(path)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
day = date.today()
for i in range(n):
    ops.record(s, "Output", me * 1000 + i, day, day)
print(json.dumps(holds), flush=True)
"""


def phase(
    py: str, root: Path, tmp: Path, writers: int, size: int, per: int
) -> tuple[float, list[float]]:
    """One phase: records per second, and the lock's hold times."""
    work = Path(tempfile.mkdtemp(dir=tmp))
    store, go = work / "team.json", work / "go"
    make_store(store, size)
    env = dict(os.environ, PYTHONPATH=str(root), TEAMBOARD_CACHE=str(tmp / "proofs"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    procs = [
        subprocess.Popen(
            [py, "-c", WRITER, str(root), str(store), str(go), str(w), str(per)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(writers)
    ]
    for p in procs:
        assert p.stdout is not None
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError(p.communicate()[1][-500:])
    t = time.perf_counter()
    go.touch()
    holds: list[float] = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(err[-500:])
        holds += json.loads(out.strip().splitlines()[-1])
    took = time.perf_counter() - t
    shutil.rmtree(work, ignore_errors=True)
    return writers * per / took, holds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before_root")
    ap.add_argument("before_python")
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--per-writer", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    trees = {
        "before": (Path(a.before_root).resolve(), a.before_python),
        "after": (HERE.parent, sys.executable),
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench-writers-"))
    load0, t0 = os.getloadavg(), time.time()
    rates: dict[str, list[float]] = {}
    holds: dict[str, list[float]] = {}
    try:
        for _ in range(a.rounds):
            for name in ("before", "after", "after", "before"):
                root, py = trees[name]
                rate, held = phase(py, root, tmp, a.writers, a.size, a.per_writer)
                rates.setdefault(name, []).append(rate)
                holds.setdefault(name, []).extend(held)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def ms(x: float) -> str:
        return f"{x * 1000:,.1f} ms"

    print(f"load average before {load0[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"{time.time() - t0:.0f} s; {a.writers} writers x {a.per_writer} records on "
          f"{a.size:,} entries, {2 * a.rounds} phases per tree\n")  # fmt: skip
    print("| tree | records/s (median of phases) | lock held, median | 90th percentile |")
    print("|---|---:|---:|---:|")
    for name in ("before", "after"):
        h = sorted(holds[name])
        p90 = h[min(len(h) - 1, int(0.9 * len(h)))]
        print(f"| {name} | {statistics.median(rates[name]):.1f} | "
              f"{ms(statistics.median(h))} | {ms(p90)} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
