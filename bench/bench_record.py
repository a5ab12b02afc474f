"""How long `teamboard record` takes, against an empty store and one of 100,000 entries.

    .venv/bin/python bench/bench_record.py [--repeats 15] [--write-docs]

Times, interleaved in one run (so a busy moment hits every command alike): `python -c pass`
(what any Python command costs), a bare orjson load of the same store (what reading it costs at
least), importing the command line, and `teamboard --store S record KPI VALUE` (the console script
of this venv; `python -c` calling store.ops.record when it is missing). Prints median and p90 and
the ratios; --write-docs puts the figures and the machine into docs/benchmarks.md, replacing only
its own sections ("## Machine" and "## teamboard record").
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_store import make_store

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
PY = sys.executable
BARE_LOAD = "import orjson,sys; orjson.loads(open(sys.argv[1],'rb').read())"
RECORD_PY = (
    "import sys; from datetime import date; from store import Store, ops; "
    "ops.record(Store(sys.argv[1]), sys.argv[2], float(sys.argv[3]), date.today(), date.today())"
)


@dataclass
class Case:
    label: str
    argv: list[str]
    store: str  # which store it runs against, for the ratios ("" for none)
    times: list[float]


def teamboard() -> str | None:
    exe = shutil.which("teamboard", path=str(Path(PY).parent))
    if exe is None:
        return None
    ok = subprocess.run([exe, "record", "--help"], capture_output=True, check=False)
    return exe if ok.returncode == 0 else None


def empty_store(path: Path) -> Path:
    from store import Store, ops

    store = Store(path)
    ops.init(store)
    ops.add_board(store, "Line 1")
    ops.add_kpi(store, "Output", None, 100.0, unit="units", amber=90.0)
    return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run(cases: list[Case], repeats: int) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    for c in cases:  # warm the page cache and the .pyc files; not timed
        subprocess.run(c.argv, stdout=subprocess.DEVNULL, check=True, env=env)
    for _ in range(repeats):
        for c in cases:
            t0 = time.perf_counter()
            done = subprocess.run(
                c.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False
            )
            c.times.append(time.perf_counter() - t0)
            if done.returncode != 0:
                raise SystemExit(f"{c.label} failed: {done.stderr.decode()}")


def ms(x: float) -> str:
    return f"{x * 1000:.0f} ms"


def report(cases: list[Case], sizes: dict[str, str], how: str, repeats: int) -> str:
    base = statistics.median(next(c for c in cases if c.label == "python -c pass").times)
    bare = {c.store: statistics.median(c.times) for c in cases if c.label.startswith("orjson load")}
    lines = [
        "## teamboard record",
        "",
        f"What one `teamboard record` costs from the shell, {how}. Each command ran {repeats} "
        "times, interleaved (every round runs each command once), after one untimed warm-up. "
        "Wall time of the whole process, as a person at a terminal waits for it.",
        "",
        "Reproduce: `.venv/bin/python bench/bench_record.py --write-docs` "
        "(`bench/make_store.py PATH N` makes the big store on its own).",
        "",
        "| command | store | median | p90 | × `python -c pass` | × bare load |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for c in cases:
        med, p90 = statistics.median(c.times), percentile(c.times, 0.9)
        vs_bare = f"{med / bare[c.store]:.1f}" if c.store in bare else ""
        store = f"{c.store} ({sizes[c.store]})" if c.store else ""
        lines.append(
            f"| {c.label} | {store} | {ms(med)} | {ms(p90)} | {med / base:.1f} | {vs_bare} |"
        )
    return "\n".join(lines) + "\n"


def machine() -> str:
    free = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    disk = describe_disk(Path(tempfile.gettempdir()))
    return (
        "## Machine\n\n"
        f"- `nproc`: {len(os.sched_getaffinity(0))}" + (f" ({cpu})" if cpu else "") + "\n"
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()}\n"
        f"- temp folder: {disk}\n"
        "- `free -h`:\n\n```\n" + free.rstrip() + "\n```\n"
    )


def describe_disk(folder: Path) -> str:
    """The filesystem and device under `folder`, and what the kernel says of rotation."""
    try:
        out = (
            subprocess.run(["df", "-T", str(folder)], capture_output=True, text=True, check=True)
            .stdout.splitlines()[1]
            .split()
        )
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"
    dev, fs = out[0], out[1]
    name = Path(dev).name
    rot = Path(f"/sys/block/{name}/queue/rotational")
    kind = ""
    if rot.exists():
        rotational = rot.read_text().strip() == "1"
        kind = " — the kernel calls it rotational" if rotational else " — non-rotational (SSD)"
        if name.startswith("vd"):
            kind += " (a virtio disk of a VM: the host's real disk type is not visible)"
    return f"{fs} on {dev}{kind}"


def replace_sections(text: str, sections: dict[str, str]) -> str:
    """Replace each `## heading` section (up to the next `## `) or add it; keep the rest."""
    for heading, body in sections.items():
        lines = text.splitlines(keepends=True)
        start = next((i for i, ln in enumerate(lines) if ln.rstrip() == heading), None)
        if start is None:
            if heading == "## Machine":  # at the top, after the title
                at = 1 if lines and lines[0].startswith("# ") else 0
                lines[at:at] = ["\n", body, "\n"] if at else [body, "\n"]
            else:
                lines += ["\n", body]
            text = "".join(lines)
            continue
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = ["\n"] if end < len(lines) else []
        lines[start:end] = [body, *tail]
        text = "".join(lines)
    return text


def timed(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def breakdown(path: Path, record: float, startup: float, repeats: int = 5) -> str:
    """Where one record's time goes: its parts timed in this process on the same store.

    `record` and `startup` are the medians of the command and of `import tui.cli` above; what
    the parts do not explain is TinyDB copying the table on insert and the views.
    """
    from store.snapshot import Snapshot
    from store.storage import parse, write_atomic

    blob = path.read_bytes()
    raw = parse(path, blob)
    scratch = path.with_name("scratch.json")
    t_parse = timed(lambda: parse(path, blob), repeats)
    t_snap = timed(lambda: Snapshot.from_raw(raw), repeats)
    t_write = timed(lambda: write_atomic(scratch, raw), repeats)
    rest = record - startup - t_parse - t_snap - t_write
    return (
        f"\nWhere the {ms(record)} of a record on the big store go (parts timed in one "
        f"process, median of {repeats}): start-up and imports {ms(startup)}; parsing the "
        f"file (orjson, GC paused) {ms(t_parse)}; building a `Snapshot` (GC paused) "
        f"{ms(t_snap)}, once: the status line reuses it; "
        f"writing it back (orjson, fsync, rename) {ms(t_write)}; "
        + (
            f"the remainder, {ms(rest)}, covers TinyDB copying the table on insert and the "
            f"views (a difference of medians: noisy). "
            if rest > 0.05 * record
            else "these parts account for all of it, within the noise. "
        )
        + "The garbage collector's walks over the live documents are inside each part, as "
        "they are in the command.\n"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()

    exe = teamboard()
    with tempfile.TemporaryDirectory(prefix="teamboard-bench-") as tmp:
        small = empty_store(Path(tmp) / "empty.json")
        big = make_store(Path(tmp) / "big.json", args.entries, date.today())
        big_name = f"{args.entries:,} entries"
        stores = {"no entries": small, big_name: big}
        sizes = {
            name: f"{p.stat().st_size / 1e6:.1f} MB"
            if p.stat().st_size > 1e5
            else f"{p.stat().st_size / 1e3:.1f} kB"
            for name, p in stores.items()
        }

        cases = [Case("python -c pass", [PY, "-c", "pass"], "", [])]
        cases.append(Case("import tui.cli (no work)", [PY, "-c", "import tui.cli"], "", []))
        for name, path in stores.items():
            cases.append(Case("orjson load (bare)", [PY, "-c", BARE_LOAD, str(path)], name, []))
            if exe:
                argv = [exe, "--store", str(path), "record", "Output", "101"]
                label = "teamboard record"
            else:
                argv = [PY, "-c", RECORD_PY, str(path), "Output", "101"]
                label = "python -c ops.record (CLI not there yet)"
            cases.append(Case(label, argv, name, []))
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        run(cases, args.repeats)
        how = (
            "through the console script" if exe else "through `python -c` calling store.ops.record"
        )
        text = report(cases, sizes, how, args.repeats)
        med = {c.label + c.store: statistics.median(c.times) for c in cases}
        rec = next(c for c in cases if c.store == big_name and "record" in c.label)
        text += breakdown(big, med[rec.label + big_name], med["import tui.cli (no work)"])
        text += (
            f"\nMeasured on {date.today().isoformat()}; the whole run took "
            f"{time.perf_counter() - t0:.0f} s; the 1-minute load average before it was "
            f"{load:.2f} on {len(os.sched_getaffinity(0))} cores (others share this machine: "
            "compare medians, and rerun before trusting a p90).\n"
        )
    print(machine())
    print(text)
    if args.write_docs:
        old = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
        DOCS.parent.mkdir(exist_ok=True)
        DOCS.write_text(
            replace_sections(old, {"## Machine": machine(), "## teamboard record": text})
        )
        print(f"wrote {DOCS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
