"""`teamboard record` of two code trees, interleaved in one run, next to the same baselines.

    .venv/bin/python bench/ab_record.py BEFORE_ROOT BEFORE_PY [--sizes 0,10000,100000] [--repeats 7]
                                        [--writers 8] [--writer-size 10000] [--per-writer 5]

On a shared machine a busy minute hits one run and not the next; interleaving "before" and
"after" round by round (`python -c pass`, the floor, a bare orjson load, both records, per store)
makes their ratios comparable. The lock's hold time is timed inside each record process. A
record process is the console script's: `import re, sys`, then its target (`tui.launch.main`,
or `tui.cli.main` in a tree from before the lean start). Then `--writers` threads at once, each
running record processes back to back on one store of `--writer-size` entries, for each tree
twice (before, after, after, before): records per second, and the lock's hold time under them.
Also prints the CPU time (user + system) of the same sequential processes, steadier than wall
time on a shared machine. Prints Markdown; timings, never assertions.

"after" records as one user does again and again, so after its first record on a store it
finds the proof of the entries it checked (`store.checked`, kept in `$TEAMBOARD_CACHE`, a
folder of this run's own); "cold" is the same tree with proofs off (`TEAMBOARD_CACHE=`): a
user's first record on a store, or a store changed other than by records since.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_scale import BARE, env, timed  # noqa: E402

# A record process as the console script runs it (`import re, sys`, then its target), with the
# lock's hold time told by `store.lock.observe` (both trees have it): patching `store.db` and
# `store.fastpath` as bench_scale's HOLD does would import them into every record, and a
# record that takes the lean core (`store.quick`, issue 13) imports neither.
HOLD = """\
import re, sys
sys.path.insert(0, sys.argv[1])
try:
    from tui.launch import main
except ImportError:
    from tui.cli import main
import store.lock
holds = []
store.lock.observe = lambda g: holds.append(g.released - g.got)
code = main(sys.argv[2:])
sys.stderr.write("HOLD " + repr(holds).replace("'", '"') + "\\n")
sys.exit(code)
"""
from make_store import make_store  # noqa: E402


def cpu_of(argv: list[str], e: dict[str, str], cwd: Path, into: list[float]) -> tuple[float, str]:
    """`timed`, and the child's CPU time, user plus system, added to `into` (nothing else runs
    meanwhile): steadier than the wall time on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    got = timed(argv, e, cwd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    into.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return got


def writers(
    py: str, root: Path, store: Path, n: int, per: int, cwd: Path, e: dict[str, str]
) -> tuple[int, float, list[float]]:
    """`n` threads, each running `per` record processes back to back on `store`: the records
    done, the wall time, and the lock's hold times from inside the processes."""
    held: list[float] = []
    done: list[int] = []

    def one(w: int) -> None:
        for i in range(per):
            argv = [py, "-c", HOLD, str(root), "--store", str(store), "record", "Output",
                    str(w * 100 + i)]  # fmt: skip
            try:
                err = timed(argv, e, cwd)[1]
            except RuntimeError as exc:
                print(f"a writer failed: {exc}", file=sys.stderr)
                continue
            done.append(1)
            for line in err.splitlines():
                if line.startswith("HOLD "):
                    held.extend(json.loads(line[5:]))

    t = time.perf_counter()
    threads = [threading.Thread(target=one, args=(w,)) for w in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return len(done), time.perf_counter() - t, held


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before_root")
    ap.add_argument("before_python")
    ap.add_argument("--sizes", default="0,10000,100000")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--writers", type=int, default=8, help="writers at once (0: skip)")
    ap.add_argument("--writer-size", type=int, default=10_000, help="entries in their store")
    ap.add_argument("--per-writer", type=int, default=5, help="records each writer runs")
    a = ap.parse_args()
    trees = {
        "before": (Path(a.before_root).resolve(), a.before_python),
        "after": (HERE.parent, sys.executable),
        "cold": (HERE.parent, sys.executable),
    }
    sizes = [int(s) for s in a.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    proofs = {"after": str(tmp / "proofs"), "cold": ""}

    def env_of(name: str, root: Path) -> dict[str, str]:
        """The tree's environment, with its proofs' folder (none for "cold")."""
        e = env(root)
        if name in proofs:
            e["TEAMBOARD_CACHE"] = proofs[name]
        return e

    load0, t0 = os.getloadavg(), time.time()
    times: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    holds: dict[str, list[float]] = {}
    try:
        stores = {}
        for n in sizes:
            for name, (root, py) in trees.items():
                p = tmp / f"{name}-{n}.json"
                make_store(p, n)
                for _ in range(2):  # the migration; then the lean core's one check of the tables
                    timed([py, "-c", HOLD, str(root), "--store", str(p), "record", "Output", "1"],
                          env_of(name, root), tmp)  # fmt: skip
                stores[name, n] = p
        py0 = trees["after"][1]
        for r in range(a.repeats):
            took = cpu_of([py0, "-c", "pass"], env(HERE.parent), tmp, cpu.setdefault("pass", []))[0]
            times.setdefault("pass", []).append(took)
            took = timed([py0, "-c", "import orjson"], env(HERE.parent), tmp)[0]
            times.setdefault("orjson", []).append(took)
            for n in sizes:
                p = stores["after", n]
                times.setdefault(f"bare {n}", []).append(
                    timed([py0, "-c", BARE, str(p)], env(HERE.parent), tmp)[0]
                )
                floor = [py0, str(HERE / "floor.py"), str(p)]
                into = cpu.setdefault(f"floor {n}", [])
                took = cpu_of(floor, env(HERE.parent), tmp, into)[0]
                times.setdefault(f"floor {n}", []).append(took)
                for name, (root, py) in trees.items():
                    argv = [py, "-c", HOLD, str(root), "--store", str(stores[name, n]), "record",
                            "Output", str(10 + r)]  # fmt: skip
                    took, err = cpu_of(
                        argv, env_of(name, root), tmp, cpu.setdefault(f"{name} {n}", [])
                    )
                    times.setdefault(f"{name} {n}", []).append(took)
                    for line in err.splitlines():
                        if line.startswith("HOLD "):
                            holds.setdefault(f"{name} {n}", []).extend(json.loads(line[5:]))
        # Writers at once on one store, "before" then "after", then again the other way round.
        contended: dict[str, list[tuple[int, float, list[float]]]] = {}
        for name in ["before", "after", "after", "before"] if a.writers else []:
            root, py = trees[name]
            p = tmp / f"writers-{name}.json"
            make_store(p, a.writer_size)
            timed([py, "-c", HOLD, str(root), "--store", str(p), "record", "Output", "1"],
                  env_of(name, root), tmp)  # fmt: skip
            contended.setdefault(name, []).append(
                writers(py, root, p, a.writers, a.per_writer, tmp, env_of(name, root))
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    m = {k: statistics.median(v) for k, v in times.items()}
    h = {k: statistics.median(v) for k, v in holds.items()}

    def ms(x: float) -> str:
        return f"{x * 1000:,.0f} ms"

    print(f"load average before {load0[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"{time.time() - t0:.0f} s; {a.repeats} rounds\n")  # fmt: skip
    print("| store | `python -c pass` | bare load | floor | record before | record after | "
          "before ÷ pass | after ÷ pass | before ÷ floor | after ÷ floor | lock held before | "
          "after |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        b, f, fl = m[f"before {n}"], m[f"after {n}"], m[f"floor {n}"]
        print(f"| {n:,} | {ms(m['pass'])} | {ms(m[f'bare {n}'])} | {ms(fl)} | {ms(b)} | {ms(f)} | "
              f"{b / m['pass']:.1f} | {f / m['pass']:.1f} | {b / fl:.2f} | {f / fl:.2f} | "
              f"{ms(h[f'before {n}'])} | {ms(h[f'after {n}'])} |")  # fmt: skip
    print('\nWith no proof kept ("cold": a user\'s first record on the store), the same run:\n')
    print("| store | floor | record cold | cold ÷ floor | lock held |")
    print("|---:|---:|---:|---:|---:|")
    for n in sizes:
        k, fl = m[f"cold {n}"], m[f"floor {n}"]
        print(f"| {n:,} | {ms(fl)} | {ms(k)} | {k / fl:.2f} | {ms(h[f'cold {n}'])} |")
    c = {k: statistics.median(v) for k, v in cpu.items()}
    print("\nCPU time (user + system) of the same processes, medians:\n")
    print("| store | `python -c pass` | floor | record before | record after | before ÷ pass | "
          "after ÷ pass | before ÷ floor | after ÷ floor |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        b, f, fl = c[f"before {n}"], c[f"after {n}"], c[f"floor {n}"]
        print(f"| {n:,} | {ms(c['pass'])} | {ms(fl)} | {ms(b)} | {ms(f)} | {b / c['pass']:.1f} | "
              f"{f / c['pass']:.1f} | {b / fl:.2f} | {f / fl:.2f} |")  # fmt: skip
    print("\nCPU, cold ÷ floor: " + ", ".join(
        f"{n:,}: {c[f'cold {n}'] / c[f'floor {n}']:.2f}" for n in sizes))  # fmt: skip
    for name, runs in contended.items():
        done = sum(r[0] for r in runs)
        wall = sum(r[1] for r in runs)
        held = [x for r in runs for x in r[2]]
        print(f"\n{a.writers} writers at once, {a.writer_size:,} entries, {name}: {done} records "
              f"in {wall:.1f} s = {done / wall:.1f} records/s; lock held (median) "
              f"{ms(statistics.median(held)) if held else '–'}")  # fmt: skip
    print(f"\n`python -c 'import orjson'` (the parser alone, which every record imports): "
          f"{ms(m['orjson'])} = {m['orjson'] / m['pass']:.1f}× `python -c pass`")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
