"""Where `teamboard record`'s start-up goes on a small store: a ladder of whole processes, each
next to `python -c pass` from the same run.

    .venv/bin/python bench/bench_startup.py [--repeats 15] [--before-root /work/main
                                            --before-python /work/main/.venv/bin/python]

Rungs, interleaved round by round: `python -c pass`; `import re` (the console script's own);
`import orjson` (it imports dataclasses, inspect, json, uuid, platform, enum); the store's
modules a record loads (`import store.ops`); `import tui.lean` (the lean record's, all of the
above); `import tui.cli` (argparse and every command's module); and `teamboard record` itself on
a 0-entry store, through the console script's target (`tui.launch.main`), with the before tree's
record next to it when given. Prints Markdown; timings, never assertions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_scale import CLI, env, timed  # noqa: E402
from make_store import make_store  # noqa: E402

RUNGS = {
    "`python -c pass`": "pass",
    "`import re` (the console script)": "import re",
    "`import re, orjson`": "import re, orjson",
    "`import re, store.ops` (the store a record loads)": "import re, store.ops",
    "`import re, tui.lean` (all the lean record imports)": "import re, tui.lean",
    "`import re, tui.cli` (the full command line)": "import re, tui.cli",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--before-root")
    ap.add_argument("--before-python")
    a = ap.parse_args()
    root, py = HERE.parent, sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    load0, t0 = os.getloadavg(), time.time()
    trees = {"after": (root, py)}
    if a.before_root:
        trees["before"] = (Path(a.before_root).resolve(), a.before_python or py)
    times: dict[str, list[float]] = {}
    try:
        stores = {}
        for name, (r, p) in trees.items():
            stores[name] = tmp / f"{name}.json"
            make_store(stores[name], 0)
            timed([p, "-c", CLI, str(r), "--store", str(stores[name]), "record", "Output", "1"],
                  env(r), tmp)  # fmt: skip  (the first record migrates the schema)
        for i in range(a.repeats):
            for label, code in RUNGS.items():
                times.setdefault(label, []).append(timed([py, "-c", code], env(root), tmp)[0])
            for name, (r, p) in trees.items():
                argv = [p, "-c", CLI, str(r), "--store", str(stores[name]), "record", "Output",
                        str(i)]  # fmt: skip
                times.setdefault(f"`teamboard record`, 0 entries, {name}", []).append(
                    timed(argv, env(r), tmp)[0]
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    m = {k: statistics.median(v) for k, v in times.items()}
    base = m["`python -c pass`"]
    print(f"load average before {load0[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"{time.time() - t0:.0f} s; {a.repeats} rounds\n")  # fmt: skip
    print("| process | median | ÷ `python -c pass` |\n|---|---:|---:|")
    for k, v in m.items():
        print(f"| {k} | {v * 1000:,.1f} ms | {v / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
