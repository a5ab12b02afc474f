"""Issue 13's figures, each next to its baselines from the same run, at every store size.

    .venv/bin/python bench/bench_scale.py [--root DIR] [--python PY] [--sizes 1000,...]
                                          [--repeats 5] [--json OUT]

`--root` is the code tree to measure (default: this one; main's checkout gives "before"),
`--python` the interpreter whose packages it uses. Stores come from bench/make_store.py (10
boards × 7 daily KPIs; "Output" on "Line 1" is recorded against) and get one untimed record
first (it migrates the schema). Every command is a whole process, interleaved round by round
with its baselines, so a busy moment hits them alike:

- `python -c pass`, `import tui.cli`, a bare orjson load of the store, bench/floor.py (parse,
  serialise, temp file, fsync, rename), and `teamboard record` (the console script's `main`);
- the lock: how long one record holds it (timed inside the process), and 8 writers running
  record processes back to back on the 10,000-entry store (records per second);
- the live board (bench/live_probe.py): first paint, write → tile, the UI loop's longest gap
  during a reload (5 ms heartbeat), and its longest gap while idle.

Prints Markdown; timings, never assertions. PYTHONDONTWRITEBYTECODE is unset (else every start
compiles again).
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
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_store import make_store  # noqa: E402

# As the console script: `import re, sys`, then its target, `tui.launch.main` (the lean start of
# issue 13; a tree from before it has `tui.cli.main`).
HOLD = """\
import re, sys, time, json
sys.path.insert(0, sys.argv[1])
try:
    from tui.launch import main
except ImportError:
    from tui.cli import main
import store.db
mods = [store.db]
try:
    import store.fastpath
    mods.append(store.fastpath)
except ImportError:
    pass
holds = []
for mod in mods:
    orig = mod.locked
    def timed(*a, _orig=orig, **k):
        import contextlib
        @contextlib.contextmanager
        def cm():
            with _orig(*a, **k):
                t = time.perf_counter()
                try:
                    yield
                finally:
                    holds.append(time.perf_counter() - t)
        return cm()
    mod.locked = timed
code = main(sys.argv[2:])
sys.stderr.write("HOLD " + json.dumps(holds) + "\\n")
sys.exit(code)
"""
CLI = """\
import re, sys
sys.path.insert(0, sys.argv.pop(1))
try:
    from tui.launch import main
except ImportError:
    from tui.cli import main
sys.exit(main())
"""
BARE = "import orjson,sys; orjson.loads(open(sys.argv[1],'rb').read())"


def env(root: Path) -> dict[str, str]:
    e = dict(os.environ)
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    e["PYTHONPATH"] = str(root)
    e["TEAMBOARD_WAIT"] = "600"
    return e


def timed(argv: list[str], e: dict[str, str], cwd: Path) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run(argv, env=e, cwd=cwd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"{argv}: {done.returncode} {done.stderr[-500:]}")
    return took, done.stderr


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def ms(x: float) -> str:
    return "–" if x != x else f"{x * 1000:,.0f} ms" if x >= 0.0095 else f"{x * 1000:.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=str(HERE.parent))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--writes", type=int, default=5, help="live writes per size (fewer at 1M)")
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--json", help="also write the raw figures here")
    a = ap.parse_args()
    root, py = Path(a.root).resolve(), a.python
    e = env(root)
    sizes = [int(s) for s in a.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    cwd = tmp
    load_before = os.getloadavg()
    t_start = time.time()
    res: dict[str, object] = {"root": str(root), "sizes": sizes}
    try:
        stores: dict[int, Path] = {}
        for n in [0, *sizes]:
            p = tmp / f"s{n}.json"
            make_store(p, n)
            timed([py, "-c", CLI, str(root), "--store", str(p), "record", "Output", "1"], e, cwd)
            stores[n] = p
        import orjson

        inproc: dict[int, float] = {}
        for n, p in stores.items():
            xs = []
            for _ in range(3 if n < 1_000_000 else 1):
                t = time.perf_counter()
                orjson.loads(p.read_bytes())
                xs.append(time.perf_counter() - t)
            inproc[n] = med(xs)
        res["loads"] = inproc
        # 1. processes, interleaved per round
        cases: dict[str, list[float]] = {}
        holds: dict[int, list[float]] = {}

        def run(label: str, argv: list[str]) -> str:
            took, err = timed(argv, e, cwd)
            cases.setdefault(label, []).append(took)
            return err

        for r in range(a.repeats):
            run("pass", [py, "-c", "pass"])
            run("import", [py, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import tui.cli",
                           str(root)])  # fmt: skip
            for n, p in stores.items():
                if n >= 1_000_000 and r >= 2:
                    continue  # a million entries: 2 rounds are enough (and minutes long)
                run(f"bare {n}", [py, "-c", BARE, str(p)])
                run(f"floor {n}", [py, str(HERE / "floor.py"), str(p)])
                err = run(f"record {n}", [py, "-c", HOLD, str(root), "--store", str(p), "record",
                                          "Output", str(10 + r)])  # fmt: skip
                for line in err.splitlines():
                    if line.startswith("HOLD "):
                        holds.setdefault(n, []).extend(json.loads(line[5:]))
        res["cases"], res["holds"] = cases, holds
        # 2. writers on the 10,000-entry store
        if 10_000 in stores:
            per = 5
            p = stores[10_000]
            fails: list[str] = []

            def writer(w: int) -> None:
                for i in range(per):
                    try:
                        timed([py, "-c", CLI, str(root), "--store", str(p), "record", "Output",
                               str(w * 100 + i)], e, cwd)  # fmt: skip
                    except RuntimeError as exc:
                        fails.append(str(exc))

            t = time.perf_counter()
            threads = [threading.Thread(target=writer, args=(w,)) for w in range(a.writers)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            wall = time.perf_counter() - t
            res["writers"] = {"n": a.writers, "records": a.writers * per - len(fails),
                              "seconds": wall, "failed": len(fails)}  # fmt: skip
        # 3. the live board
        live: dict[int, object] = {}
        for n in sizes:
            writes = 2 if n >= 1_000_000 else a.writes
            out = subprocess.run(
                [py, str(HERE / "live_probe.py"), str(root), str(stores[n]), str(writes)],
                env=e, cwd=cwd, capture_output=True, text=True, check=False,
            )  # fmt: skip
            lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
            live[n] = json.loads(lines[-1]) if lines else {"error": out.stderr[-800:]}
        res["live"] = live
        res["sizes_mb"] = {n: p.stat().st_size / 1e6 for n, p in stores.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res["load_before"], res["load_after"] = load_before, os.getloadavg()
    res["seconds"] = time.time() - t_start
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    print(report(res))
    return 0


def loads(res: dict, n: int) -> float:  # type: ignore[type-arg]
    return float(res["loads"].get(str(n), res["loads"].get(n, float("nan"))))


def report(res: dict) -> str:  # type: ignore[type-arg]
    c = {k: med(v) for k, v in res["cases"].items()}
    lines = [f"code: {res['root']}; load average before {res['load_before'][0]:.2f}, after "
             f"{res['load_after'][0]:.2f}; {res['seconds']:.0f} s", ""]  # fmt: skip
    lines += ["| store | file | bare orjson load | floor | record | record ÷ floor | "
              "record ÷ `python -c pass` | lock held (median) |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for n in [0, *res["sizes"]]:
        key = str(n) if str(n) in res["holds"] else n
        hold = med(res["holds"].get(key, []))
        mb = res["sizes_mb"].get(str(n), res["sizes_mb"].get(n, 0))
        lines.append(
            f"| {n:,} entries | {mb:.1f} MB | {ms(c[f'bare {n}'])} | {ms(c[f'floor {n}'])} | "
            f"{ms(c[f'record {n}'])} | {c[f'record {n}'] / c[f'floor {n}']:.2f} | "
            f"{c[f'record {n}'] / c['pass']:.1f} | {ms(hold)} |"
        )
    lines += ["", f"`python -c pass` {ms(c['pass'])}; `import tui.cli` {ms(c['import'])} "
              f"({c['import'] / c['pass']:.1f}×)."]  # fmt: skip
    w = res.get("writers")
    if w:
        lines.append(f"{w['n']} writers on 10,000 entries: {w['records']} records in "
                     f"{w['seconds']:.1f} s = {w['records'] / w['seconds']:.1f} records/s "
                     f"({w['failed']} failed).")  # fmt: skip
    lines += ["", "Live board (÷ bare load: an in-process `orjson.loads` of the file):", "",
              "| store | first paint | write → tile median | max | ÷ bare load | "
              "UI loop's longest gap in a reload, median / max | idle gap |",
              "|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for n in res["sizes"]:
        live = res["live"].get(str(n), res["live"].get(n, {}))
        if "error" in live:
            lines.append(f"| {n:,} | error: {live['error'][-200:]!r} |")
            continue
        lat, st = live["latency"], live["stall"]
        lines.append(
            f"| {n:,} entries | {ms(live['first_paint'])} | {ms(med(lat))} | {ms(max(lat))} | "
            f"{med(lat) / loads(res, n):.2f} | {ms(med(st))} / {ms(max(st))} | "
            f"{ms(live['idle_gap'])} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
