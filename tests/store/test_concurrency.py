"""Several real processes on one store: no lost write, no torn read, kills, a second user."""

from __future__ import annotations

import grp
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import orjson
import pytest
from conftest import NOBODY, TODAY, child_code, run_child, seeded

from store import Store, ops
from store.demo import build

ROOT = os.geteuid() == 0
DEADLINE = 45.0  # seconds any one wait may take before the test fails





def spawn(body: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", child_code(body), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def readline(stream: IO[str] | None) -> str:
    assert stream is not None
    return stream.readline().strip()


# A reader that never takes the lock, like the board: parse the raw bytes as fast as it can.
READER = """
path, stop = sys.argv[1], sys.argv[2]
reads = failures = 0
counts = []
print("ready", flush=True)
while not os.path.exists(stop):
    blob = open(path, "rb").read()
    reads += 1
    try:
        counts.append(len(orjson.loads(blob)["entries"]))
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        failures += 1
        print("torn:", exc, file=sys.stderr)
monotonic = all(a <= b for a, b in zip(counts, counts[1:]))
print(json.dumps({"reads": reads, "failures": failures, "monotonic": monotonic,
                  "last": counts[-1] if counts else None}), flush=True)
"""

# A writer: wait for the starting gun, then record N values of its own.
WRITER = """
path, go, me, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store = Store(path)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
for i in range(n):
    ops.record(store, "Output", me * 1000 + i, date(2026, 11, 20), date(2026, 11, 20))
print("done", flush=True)
"""


def run_writers_with_reader(
    tmp_path: Path, start_writers: Callable[[Path], list[subprocess.Popen[str]]]
) -> dict[str, object]:
    """Start the reader, then the writers; wait for all; return the reader's report."""
    stop = tmp_path / "stop"
    reader = spawn(READER, str(tmp_path / "team.json"), str(stop))
    try:
        assert readline(reader.stdout) == "ready", reader.stderr
        writers = start_writers(tmp_path / "go")
        for w in writers:
            out, err = w.communicate(timeout=DEADLINE)
            assert w.returncode == 0, err
        stop.touch()
        out, err = reader.communicate(timeout=DEADLINE)
        assert reader.returncode == 0, err
        report: dict[str, object] = orjson.loads(out.strip().splitlines()[-1])
        return report
    finally:
        stop.touch()
        for p in [reader]:
            if p.poll() is None:
                p.kill()


def test_eight_writers_lose_nothing_and_a_reader_never_sees_a_torn_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = seeded(tmp_path / "team.json")
    n_writers, n_records = 8, 100

    def start(go: Path) -> list[subprocess.Popen[str]]:
        procs = [
            spawn(WRITER, str(store.path), str(go), str(w), str(n_records))
            for w in range(n_writers)
        ]
        for p in procs:  # everyone has imported everything: start them at once
            assert readline(p.stdout) == "ready"
        go.touch()
        return procs

    t0 = time.monotonic()
    report = run_writers_with_reader(tmp_path, start)
    elapsed = time.monotonic() - t0

    snap = store.read()
    entries = snap.entries[snap.kpi_named("Output").id]
    assert len(entries) == n_writers * n_records == snap.entry_count
    assert sorted(e.value for e in entries) == sorted(
        float(w * 1000 + i) for w in range(n_writers) for i in range(n_records)
    )
    assert sorted(e.id for e in entries) == list(range(1, n_writers * n_records + 1))
    assert report["failures"] == 0 and report["monotonic"] is True
    assert report["last"] == n_writers * n_records
    assert isinstance(report["reads"], int) and report["reads"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "go",
        "stop",
        "team.json",
        "team.json.lock",
    ]
    with capsys.disabled():
        print(
            f"\n  {n_writers}x{n_records} records in {elapsed:.1f} s; "
            f"reader parsed {report['reads']} times, {report['failures']} torn"
        )


def teamboard_cli() -> str | None:
    """The console script of this venv, when the command line has landed and works."""
    exe = shutil.which("teamboard", path=str(Path(sys.executable).parent))
    if exe is None:
        return None
    done = subprocess.run([exe, "record", "--help"], capture_output=True, timeout=30, check=False)
    return exe if done.returncode == 0 else None


def test_cli_writers_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """4 x 25 `teamboard record` processes, as people at four terminals would run them."""
    exe = teamboard_cli()
    if exe is None:
        pytest.skip("the teamboard console script is not installed in this venv yet")
    store = seeded(tmp_path / "team.json")
    n_shells, n_records = 4, 25
    # Each "shell" runs its records one after another, the four shells at once.
    shell = "\n".join(
        [
            "path, go, me, n, exe = sys.argv[1], sys.argv[2], int(sys.argv[3]), "
            "int(sys.argv[4]), sys.argv[5]",
            "import subprocess",
            'print("ready", flush=True)',
            "while not os.path.exists(go):",
            "    time.sleep(0.001)",
            "for i in range(n):",
            "    subprocess.run([exe, '--store', path, 'record', 'Output', str(me * 1000 + i),",
            "                    '--date', '2026-11-20'], check=True, capture_output=True)",
            'print("done", flush=True)',
        ]
    )

    def start(go: Path) -> list[subprocess.Popen[str]]:
        procs = [
            spawn(shell, str(store.path), str(go), str(w), str(n_records), exe)
            for w in range(n_shells)
        ]
        for p in procs:
            assert readline(p.stdout) == "ready"
        go.touch()
        return procs

    t0 = time.monotonic()
    report = run_writers_with_reader(tmp_path, start)
    elapsed = time.monotonic() - t0
    snap = store.read()
    values = sorted(e.value for lst in snap.entries.values() for e in lst)
    assert values == sorted(float(w * 1000 + i) for w in range(n_shells) for i in range(n_records))
    assert report["failures"] == 0
    with capsys.disabled():
        print(
            f"\n  {n_shells}x{n_records} CLI records in {elapsed:.1f} s; "
            f"reader parsed {report['reads']} times, {report['failures']} torn"
        )


KILLABLE = """
path = sys.argv[1]
store = Store(path)
i = 0
while True:
    ops.record(store, "Output", 100000 + i, date(2026, 11, 20), date(2026, 11, 20))
    print(i, flush=True)  # acknowledged: the record call returned
    i += 1
"""


@pytest.mark.parametrize("acks", [3, 17, 40])
def test_a_writer_killed_mid_write_loses_no_acknowledged_write(tmp_path: Path, acks: int) -> None:
    # A bigger file makes each write take longer, so the kill often lands inside one.
    store = Store(tmp_path / "team.json")
    build(store, TODAY)
    ops.add_kpi(store, "Output", "Line 2 Assembly", 100.0, force=True)
    before = store.read().entry_count
    writer = spawn(KILLABLE, str(store.path))
    acked: list[int] = []
    try:
        while len(acked) < acks:
            line = readline(writer.stdout)
            assert line, f"the writer died early: {writer.stderr.read() if writer.stderr else ''}"
            acked.append(int(line))
        # It is now somewhere inside the next record: parsing, writing or renaming.
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=DEADLINE)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == -signal.SIGKILL
    # Lines it printed that were not read yet are acknowledged too: it may have run ahead of
    # the reading by a record or more before the kill landed.
    assert writer.stdout is not None
    acked += [int(line) for line in writer.stdout.read().split()]
    raw = orjson.loads(store.path.read_bytes())  # parses
    values = {e["value"] for e in raw["entries"].values()}
    assert {100000.0 + i for i in acked} <= values
    assert len(raw["entries"]) in (before + len(acked), before + len(acked) + 1)
    # The kill released the lock: the next writer gets in at once.
    t0 = time.monotonic()
    ops.record(store, "Output", 1.0, TODAY, TODAY)
    assert time.monotonic() - t0 < 5.0
    assert store.read().entry_count == len(raw["entries"]) + 1
    # A temp file may stay behind after SIGKILL (nothing can clean up); it is never the store.
    strays = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert all(p.name.startswith(".team.json.") for p in strays)


# --- a second user in the team's group -------------------------------------------------------


SECOND_USER = """
store = Store(sys.argv[1])
rec = ops.record(store, "Output", float(sys.argv[2]), date(2026, 11, 20), date(2026, 11, 20))
print(json.dumps({"who": rec.entry.who, "id": rec.entry.id}), flush=True)
"""


def team_group() -> int:
    for name in ("users", "staff"):
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            continue
    return 4321  # any gid works for root to hand out


@pytest.mark.skipif(not ROOT, reason="needs root to act as a second user (uid 65534, nobody)")
@pytest.mark.parametrize("setup", ["umask 002", "chmod after init"])
def test_mode_and_group_survive_a_write_by_another_user(shared_dir: Path, setup: str) -> None:
    gid = team_group()
    folder = shared_dir / "team"
    folder.mkdir()
    os.chown(folder, 0, gid)
    folder.chmod(0o2775)  # setgid: new files get the team's group
    path = folder / "team.json"
    if setup == "umask 002":
        old = os.umask(0o002)  # how an admin sets up a shared store
        try:
            store = seeded(path)
        finally:
            os.umask(old)
    else:
        store = seeded(path)  # created 0644 under umask 022, then opened up by hand
        path.chmod(0o664)
    assert path.stat().st_gid == gid

    def as_nobody(value: float) -> dict[str, object]:
        done = run_child(
            f"sys.argv[1:] = [{str(path)!r}, {str(value)!r}]\n" + SECOND_USER,
            (NOBODY, NOBODY, [gid]),
        )
        assert done.returncode == 0, done.stderr
        result: dict[str, object] = orjson.loads(done.stdout)
        return result

    def check(lock_too: bool = True) -> None:
        st = path.stat()
        assert stat.S_IMODE(st.st_mode) == 0o664 and st.st_gid == gid
        lock = path.with_name("team.json.lock").stat()
        assert lock.st_gid == gid
        if lock_too:
            assert stat.S_IMODE(lock.st_mode) == 0o664

    first = as_nobody(1.0)
    assert first["who"] == "nobody"
    # After a chmod by hand the lock is still 0644 (root's): nobody locks it read-only...
    check(lock_too=setup == "umask 002")
    ops.record(store, "Output", 2.0, TODAY, TODAY)  # root still writes
    check()  # ...and root's next write gives the lock the store's mode
    second = as_nobody(3.0)
    check()
    snap = store.read()
    got = [(e.value, e.who) for e in snap.entries[1]]
    assert got == [(1.0, "nobody"), (2.0, "root"), (3.0, "nobody")]
    assert second["id"] == 3
    assert sorted(p.name for p in folder.iterdir()) == ["team.json", "team.json.lock"]


# A writer whose first record waits, after its read before the lock, until every writer has
# read: all but the first to get the lock then find the file changed by records alone, and
# append to it (`fastpath._splice`). It acknowledges each record that returned.
SPLICING_WRITER = """
path, go, me, n, barrier, writers, kpi = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
    int(sys.argv[4]), sys.argv[5], int(sys.argv[6]), sys.argv[7])
from store import fastpath
real_prepare, real_splice = fastpath._prepare, fastpath._splice
spliced = []
def prepare(*a):
    early = real_prepare(*a)
    if not os.path.exists(os.path.join(barrier, str(me))):
        open(os.path.join(barrier, str(me)), "w").close()
        while len(os.listdir(barrier)) < writers:
            time.sleep(0.001)
    return early
def splice(*a):
    got = real_splice(*a)
    spliced.append(got is not None)
    return got
fastpath._prepare, fastpath._splice = prepare, splice
store = Store(path)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
for i in range(n):
    done = ops.record(store, kpi, me * 1000 + i, date(2026, 11, 20), date(2026, 11, 20))
    print("ack", done.entry.id, done.entry.value, flush=True)
print("spliced", sum(spliced), flush=True)
"""


def test_writers_whose_reads_went_stale_append_and_lose_nothing(tmp_path: Path) -> None:
    """8 processes, records on four KPIs of a store with history: every acknowledged record is
    in the file once, under the next key and id, and the file is what teamboard writes
    (canonical, and it reads without a complaint). The first records' reads before the lock
    all go stale on purpose, so that the splice is taken (and counted)."""
    store = Store(tmp_path / "team.json")
    build(store, TODAY)
    before = orjson.loads(store.path.read_bytes())["entries"]
    kpis = ["Daily output", "Scrap cost", "On-time delivery", "Units per hour"]
    n_writers, n_records = 8, 12
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    go = tmp_path / "go"
    procs = [
        spawn(
            SPLICING_WRITER,
            str(store.path),
            str(go),
            str(w),
            str(n_records),
            str(barrier),
            str(n_writers),
            kpis[w % len(kpis)],
        )
        for w in range(n_writers)
    ]
    try:
        for p in procs:
            assert readline(p.stdout) == "ready"
        go.touch()
        outs = []
        for p in procs:
            out, err = p.communicate(timeout=DEADLINE * 2)
            assert p.returncode == 0, err
            outs.append(out.splitlines())
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    acks = [line.split() for out in outs for line in out if line.startswith("ack ")]
    spliced = sum(int(out[-1].split()[1]) for out in outs)
    assert len(acks) == n_writers * n_records
    assert spliced >= n_writers - 1
    blob = store.path.read_bytes()
    raw = orjson.loads(blob)
    assert orjson.dumps(raw) == blob
    entries = raw["entries"]
    new = {k: d for k, d in entries.items() if k not in before}
    assert list(entries)[: len(before)] == list(before)
    assert [int(k) for k in new] == list(range(len(before) + 1, len(entries) + 1))
    assert sorted((d["id"], d["value"]) for d in new.values()) == sorted(
        (int(i), float(v)) for _, i, v in acks
    )
    assert raw["meta"]["1"]["seq"]["entries"] == max(d["id"] for d in entries.values())
    snap = store.read()  # every check the board makes
    assert snap.entry_count == len(before) + n_writers * n_records
