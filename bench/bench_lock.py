"""The write lock under contention: `teamboard record` processes from 1, 8 and 32 writers at once.

    .venv/bin/python bench/bench_lock.py [--sizes 1000,10000] [--writers 1,8,32] [--write-docs]

Each writer is a shell-like loop that runs whole `record` processes one after another, all
writers at once against one store (a fresh copy per phase). Per phase: throughput (records/s,
from the starting gun to the last writer's end), process latency p50/p99, failures, and from
inside each process the lock's wait and hold times and how often a writer got the lock before
someone who had asked earlier. Two locks in the same run, phases interleaved: "before", the
previous version's `flock` polled with LOCK_NB and a 15 s limit (its source from git), and
"after", store/lock.py's queue. A record process is `python -c` calling `tui.cli.main` with the
lock wrapped in a timer (the console script does the same import); `python -c pass` is timed in
the same run as the floor. --write-docs puts the section "## Lock: fairness and throughput" into
docs/benchmarks.md (only that section).
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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_record import percentile, replace_sections
from make_store import make_store

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
PY = sys.executable
OLD_REV = "b92b4ff~1"  # the commit before store/lock.py: `locked` still in store/storage.py
PER_WRITER = {1: 40, 8: 6, 32: 4}  # records each writer runs, per phase

# One `teamboard record`, its lock timed: asked, got, released (monotonic, system-wide).
RECORD = r"""
import importlib.util, os, sys, time
from contextlib import contextmanager
impl, log = sys.argv[1], sys.argv[2]
del sys.argv[1:3]
import store.db, store.fastpath
try:
    from tui.launch import main  # the console script's target (issue 13's lean start)
except ImportError:
    from tui.cli import main
if impl == "before":
    spec = importlib.util.spec_from_file_location("store._old_storage", os.environ["TB_OLD"])
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    def inner(path, timeout, on_wait):
        return old.locked(path, 15.0)  # the previous version: 15 s, nobody told
else:
    inner = store.db.locked
@contextmanager
def timed(path, timeout=120.0, on_wait=None):
    asked = time.monotonic()
    with inner(path, timeout, on_wait):
        got = time.monotonic()
        try:
            yield
        finally:
            done = time.monotonic()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"{asked} {got} {done}\n".encode())
    os.close(fd)
store.db.locked = timed
store.fastpath.locked = timed  # `record`'s fast path takes it too
sys.exit(main())
"""

# A writer: after the starting gun, N record processes one after another.
SHELL = r"""
import json, os, subprocess, sys, time
go, n, me, cmd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
out = []
for i in range(n):
    t0 = time.monotonic()
    done = subprocess.run(cmd + [str(me * 1000 + i)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    why = done.stderr.strip().splitlines()[-1] if done.returncode and done.stderr else ""
    out.append([time.monotonic() - t0, done.returncode, why])
print(json.dumps(out), flush=True)
"""


@dataclass
class Phase:
    impl: str
    size: int
    writers: int
    elapsed: float = 0.0
    latency: list[float] = field(default_factory=list)
    failed: int = 0
    grants: list[tuple[float, float, float]] = field(default_factory=list)
    errors: set[str] = field(default_factory=set)

    @property
    def ok(self) -> int:
        return len(self.latency) - self.failed

    def jumped(self) -> tuple[float, float]:
        """The share of grants that got the lock before someone who had asked earlier, and the
        largest such lead (how much earlier the overtaken one had asked), in seconds."""
        by_got = sorted(self.grants, key=lambda g: g[1])
        jumps, lead, earliest_later = 0, 0.0, float("inf")
        for asked, _, _ in reversed(by_got):
            if asked > earliest_later:
                jumps += 1
                lead = max(lead, asked - earliest_later)
            earliest_later = min(earliest_later, asked)
        return (jumps / len(by_got) if by_got else 0.0), lead


SRC: Path | None = None  # the committed tree the processes import (set in main)


def env() -> dict[str, str]:
    """Bytecode cached (see bench_record); the code from the snapshot of the tree, so that
    others editing the working tree during the run cannot break or change it."""
    e = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if SRC is not None:
        e["PYTHONPATH"] = str(SRC)
    return e


def snapshot(rev: str, dest: Path) -> None:
    """`rev`'s store/, tui/ and widgets/ into dest (imported ahead of the editable install)."""
    dest.mkdir()
    archive = subprocess.run(
        ["git", "archive", rev, "store", "tui", "widgets"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def run_phase(phase: Phase, template: Path, tmp: Path, old_src: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"{phase.impl}-{phase.writers}-", dir=tmp))
    store = folder / "team.json"
    shutil.copyfile(template, store)
    log = folder / "grants.log"
    cmd = [PY, "-c", RECORD, phase.impl, str(log), "--store", str(store), "record", "Output"]
    go = folder / "go"
    n = PER_WRITER.get(phase.writers, 4)
    e = {**env(), "TB_OLD": str(old_src)}
    shells = [
        subprocess.Popen(
            [PY, "-c", SHELL, str(go), str(n), str(w), json.dumps(cmd)],
            stdout=subprocess.PIPE,
            text=True,
            env=e,
        )
        for w in range(phase.writers)
    ]
    for s in shells:
        assert s.stdout is not None and s.stdout.readline().strip() == "ready"
    t0 = time.monotonic()
    go.touch()
    for s in shells:
        out, _ = s.communicate()
        for wall, rc, why in json.loads(out.strip().splitlines()[-1]):
            phase.latency.append(wall)
            phase.failed += rc != 0
            if why:
                phase.errors.add(why.replace(str(store), store.name)[:200])
    phase.elapsed = time.monotonic() - t0
    for line in log.read_text().splitlines():
        asked, got, done = (float(x) for x in line.split())
        phase.grants.append((asked, got, done))
    shutil.rmtree(folder)


def warm_up(template: Path, tmp: Path, old_src: Path) -> None:
    """Compile the .pyc files and fill the page cache; not timed."""
    for impl in ("before", "after"):
        store = tmp / f"warm-{impl}.json"
        shutil.copyfile(template, store)
        subprocess.run(
            [
                PY,
                "-c",
                RECORD,
                impl,
                str(tmp / "warm.log"),
                "--store",
                str(store),
                "record",
                "Output",
                "1",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**env(), "TB_OLD": str(old_src)},
        )


def floor(repeats: int = 20) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([PY, "-c", "pass"], check=True, env=env())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ms(x: float) -> str:
    return f"{x * 1000:,.0f} ms"


def table(phases: list[Phase]) -> list[str]:
    rows = [
        "| store | writers | lock | records | failed | records/s | latency p50 | p99 | "
        "lock wait p50 | p99 | max | hold p50 | p99 | overtook an earlier asker | "
        "by at most |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in phases:
        waits = [g[1] - g[0] for g in p.grants]
        share, lead = p.jumped()
        holds = [g[2] - g[1] for g in p.grants]
        rows.append(
            f"| {p.size:,} | {p.writers} | {p.impl} | {len(p.latency)} | {p.failed} | "
            f"{p.ok / p.elapsed:.1f} | {ms(percentile(p.latency, 0.5))} | "
            f"{ms(percentile(p.latency, 0.99))} | {ms(percentile(waits, 0.5))} | "
            f"{ms(percentile(waits, 0.99))} | {ms(max(waits))} | {ms(percentile(holds, 0.5))} | "
            f"{ms(percentile(holds, 0.99))} | {share:.0%} | {ms(lead)} |"
        )
    return rows


def section(
    phases: list[Phase], base: float, load: tuple[float, float], took: float, rev: str
) -> str:
    cores = len(os.sched_getaffinity(0))
    per_writer = ", ".join(f"{v} each for {k}" for k, v in PER_WRITER.items())
    lines = [
        "## Lock: fairness and throughput",
        "",
        "`teamboard record` from 1, 8 and 32 writers at once on one store, each writer running "
        "whole record processes one after another (as people at terminals, a cron job and the "
        f"app would). Records per writer: {per_writer}. "
        "**before**: the previous version's lock (`flock` polled with LOCK_NB, backing off to "
        "20 ms, giving up after 15 s; its source from git, "
        f"`{OLD_REV}:store/storage.py`); **after**: `store/lock.py` (a FIFO queue on OFD "
        "byte-range locks, then `flock`; blocking in the kernel, up to 120 s). The phases ran "
        f"interleaved in one run, each on a fresh copy of the store; the code of commit {rev}.",
        "",
        "Latency: wall time of one record process. Lock wait, hold: inside each process, from "
        "asking for the lock to getting it, and from getting it to letting go. *Overtook an "
        "earlier asker*: the share of grants that got the lock before someone who had asked "
        "for it earlier, and by how much earlier that one had asked, at most. Floor: "
        f"`python -c pass` took {ms(base)} (median of 20) in the same run.",
        "",
        "Reproduce: `.venv/bin/python bench/bench_lock.py --write-docs`.",
        "",
        *table(phases),
        "",
        *[
            f"- {p.size:,} entries, {p.writers} writers, {p.impl}: {p.failed} failed: {why}"
            for p in phases
            for why in sorted(p.errors)
        ],
        "",
        f"Measured on {date.today().isoformat()} on {cores} cores (`nproc`); the 1-minute load "
        f"average was {load[0]:.2f} before and {load[1]:.2f} after the run, which took "
        f"{took:.0f} s (other sessions share this machine: compare the two locks within a row "
        "pair, not across runs).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--writers", default="1,8,32")
    ap.add_argument("--rev", default="HEAD", help="the commit whose code runs (default HEAD)")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    writer_counts = [int(w) for w in args.writers.split(",")]

    load_before = os.getloadavg()[0]
    t_start = time.monotonic()
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="teamboard-bench-lock-") as tmp_name:
        tmp = Path(tmp_name)
        old_src = tmp / "old_storage.py"
        src = subprocess.run(
            ["git", "show", f"{OLD_REV}:store/storage.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        old_src.write_text(src)
        global SRC
        SRC = tmp / "src"
        snapshot(args.rev, SRC)
        base = floor()
        for size in sizes:
            template = make_store(tmp / f"store-{size}.json", size, date.today())
            warm_up(template, tmp, old_src)
            for writers in writer_counts:
                for impl in ("before", "after"):
                    phase = Phase(impl, size, writers)
                    run_phase(phase, template, tmp, old_src)
                    phases.append(phase)
                    print("\n".join(table([phase])[2:]), flush=True)
                    for why in sorted(phase.errors):
                        print(f"  failed: {why}", flush=True)
    took = time.monotonic() - t_start
    rev = subprocess.run(
        ["git", "rev-parse", "--short", args.rev], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    text = section(phases, base, (load_before, os.getloadavg()[0]), took, rev)
    print()
    print(text)
    if args.write_docs:
        old = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
        DOCS.write_text(replace_sections(old, {"## Lock: fairness and throughput": text}))
        print(f"wrote {DOCS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
