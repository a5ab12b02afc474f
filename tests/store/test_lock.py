"""The write lock (store/lock.py): a planted lock file is refused, the lock is shared under any
umask, writers are served in order, and a waiting writer says whom it waits for.

Real processes and, as root, real users (tbalice, tbbob, tbmallory in group tbteam). Nothing
sleeps in the hope that something happened: every wait is on a condition, with a deadline.
"""

from __future__ import annotations

import fcntl
import grp
import json
import os
import pwd
import queue
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import PRELUDE, TODAY, drop_to, fingerprint, seeded, wait_for

import store.lock as lock_mod
import store.lockfile as lockfile_mod
from store import Store, ops
from store.errors import StoreBusy
from store.lock import Grant, locked
from store.lockfile import MAGIC, TICKETS, LockRefused

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from make_store import make_store

ROOT = os.geteuid() == 0
REPO = Path(__file__).resolve().parents[2]
DEADLINE = 30.0  # seconds any one wait may take before the test fails
TEAM = "tbteam"
ME = pwd.getpwuid(os.getuid()).pw_name  # the login a holder's line shows for our children

# What the command line imports lazily, loaded before a child drops to another user (the
# interpreter lives under /root, where the others cannot read).
CLI_IMPORTS = """\
import csv, io, locale, shlex, stat, tempfile
from confusable_homoglyphs import categories, confusables
from store import validate
validate._confusables()
from tui.cli import main
"""


# --- users, processes, waiting -------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    groups: list[int]

    def creds(self) -> tuple[int, int, list[int]]:
        return self.uid, self.gid, self.groups


@pytest.fixture(scope="session")
def team() -> dict[str, User]:
    """tbalice, tbbob and tbmallory, all in group tbteam (made once, left for the next run)."""
    if not ROOT:
        pytest.skip("needs root to create the users tbalice, tbbob and tbmallory")
    if shutil.which("useradd") is None or shutil.which("groupadd") is None:
        pytest.skip("needs useradd and groupadd to create the test users")
    nologin = shutil.which("nologin") or "/bin/false"
    if not _exists(grp.getgrnam, TEAM):
        subprocess.run(["groupadd", TEAM], capture_output=True, check=False)
    users: dict[str, User] = {}
    for name in ("tbalice", "tbbob", "tbmallory"):
        if not _exists(pwd.getpwnam, name):
            subprocess.run(
                ["useradd", "--no-create-home", "--shell", nologin, "--user-group", name],
                capture_output=True,
                check=False,
            )
        if name not in grp.getgrnam(TEAM).gr_mem:
            subprocess.run(["usermod", "-aG", TEAM, name], capture_output=True, check=True)
        pw = pwd.getpwnam(name)
        users[name] = User(name, pw.pw_uid, pw.pw_gid, [pw.pw_gid, grp.getgrnam(TEAM).gr_gid])
    return users


def _exists(look: Callable[[str], object], name: str) -> bool:
    try:
        look(name)
    except KeyError:
        return False
    return True


def team_gid() -> int:
    return grp.getgrnam(TEAM).gr_gid


@pytest.fixture
def base() -> Iterator[Path]:
    """A folder under /tmp that every test user can reach (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="teamboard-lock-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def shared_folder(base: Path) -> Path:
    """The README's team folder: setgid, group-writable, group tbteam."""
    folder = base / "shared"
    subprocess.run(["install", "-d", "-m", "2775", "-g", TEAM, str(folder)], check=True)
    return folder


def teamboard(
    argv: list[str], user: User | None = None, umask: int | None = None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run the command line (`tui.cli.main`) in a child, as `user` when given."""
    code = PRELUDE + CLI_IMPORTS + (drop_to(*user.creds()) if user else "")
    code += (f"os.umask({umask:#o})\n" if umask is not None else "") + f"sys.exit(main({argv!r}))\n"
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )


def as_user(user: User, body: str) -> None:
    """Run a few lines of Python as `user`; they must succeed."""
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + drop_to(*user.creds()) + body],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


class Child:
    """A child process whose stdout lines are collected by a thread, to wait on with deadlines."""

    def __init__(self, body: str, *args: str, user: User | None = None, **popen: Any) -> None:
        code = PRELUDE + "from pathlib import Path\nfrom store.lock import locked\n"
        code += (drop_to(*user.creds()) if user else "") + body
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **popen,
        )
        self.pid = self.proc.pid
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("<eof>")

    def expect(self, prefix: str, deadline: float = DEADLINE) -> str:
        """The next line starting with `prefix` (other lines are skipped)."""
        end = time.monotonic() + deadline
        while True:
            try:
                line = self.lines.get(timeout=max(end - time.monotonic(), 0.001))
            except queue.Empty:
                raise AssertionError(f"pid {self.pid}: no {prefix!r} in {deadline} s") from None
            if line == "<eof>":
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"pid {self.pid} ended before {prefix!r}: {err}")
            if line.startswith(prefix):
                return line

    def state(self) -> str:
        with open(f"/proc/{self.pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0].decode()

    def finish(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGCONT)
            self.proc.kill()
        self.proc.wait(timeout=DEADLINE)




# A writer that takes the lock, says so, and keeps it until a file appears; then says "released".
# Its extra arguments make a recognisable command line.
LOCKER = """
path, release, timeout = sys.argv[-3], sys.argv[-2], float(sys.argv[-1])
try:
    with locked(Path(path), timeout, lambda line: print("WAIT " + line, flush=True)):
        print("got", flush=True)
        while release and not os.path.exists(release):
            time.sleep(0.005)
except StoreError as exc:
    print("ERROR " + str(exc), flush=True)
    sys.exit(1)
print("released", flush=True)
"""


def locker(
    path: Path, release: Path | None, *words: str, timeout: float = 60.0, **kw: Any
) -> Child:
    return Child(LOCKER, *words, str(path), str(release or ""), str(timeout), **kw)


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    try:
        yield started
    finally:
        for c in started:
            c.finish()




# --- the planted lock file -----------------------------------------------------------------------


@pytest.mark.parametrize("writer", ["tbalice", "root"])
@pytest.mark.parametrize("victim", ["alice's private file", "root's 600 file", "a new file"])
def test_a_planted_symlink_hands_over_nothing(
    team: dict[str, User], base: Path, writer: str, victim: str
) -> None:
    alice, mallory = team["tbalice"], team["tbmallory"]
    folder = shared_folder(base)
    old = os.umask(0o002)
    try:
        store = seeded(folder / "team.json")
    finally:
        os.umask(old)
    (base / "alice").mkdir(mode=0o700)
    os.chown(base / "alice", alice.uid, alice.gid)
    (base / "root").mkdir(mode=0o700)
    targets = {
        "alice's private file": base / "alice" / "diary.txt",
        "root's 600 file": base / "root" / "shadow",
        "a new file": base / "root" / "cron-job",  # does not exist: O_CREAT would make it
    }
    target = targets[victim]
    if victim != "a new file":
        target.write_text("private\n")
        target.chmod(0o600)
        if victim.startswith("alice"):
            os.chown(target, alice.uid, alice.gid)
    before = fingerprint(target) if target.exists() else None
    store_before = fingerprint(store.path)
    lock = folder / "team.json.lock"
    as_user(mallory, f"os.unlink({str(lock)!r}); os.symlink({str(target)!r}, {str(lock)!r})\n")

    argv = ["--store", str(store.path), "record", "Output", "3"]
    if writer == "root":  # as an admin would type it
        done = subprocess.run(
            [sys.executable, "-m", "tui.cli", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            check=False,
        )
    else:
        done = teamboard(argv, alice)
    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr)
    assert f"{lock} is a symbolic link, not teamboard's lock file" in line
    assert "someone may be trying to take over files" in line and f"rm {lock}" in line
    if before is None:
        assert not os.path.lexists(target)
    else:
        assert fingerprint(target) == before
    assert os.readlink(lock) == str(target)  # left for the team to look at
    assert fingerprint(store.path) == store_before  # nothing written


def _plant(kind: str, lock: Path, base: Path) -> Path | None:
    """Put `kind` at the lock's name; return the file a hard link points to, if any."""
    if kind == "fifo":
        os.mkfifo(lock)
    elif kind == "folder":
        lock.mkdir()
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(lock))
        s.close()
    elif kind == "device":
        os.mknod(lock, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null
    elif kind in ("hard link", "foreign file"):
        victim = base / "someones.txt"
        victim.write_text("someone's data\n")
        victim.chmod(0o600)
        if kind == "foreign file":
            os.replace(victim, lock)
            return lock
        os.link(victim, lock)
        return victim
    return None


ODD = {
    "fifo": "is a FIFO (named pipe), not teamboard's lock file",
    "folder": "is a folder, not teamboard's lock file",
    "socket": "is a socket, not teamboard's lock file",
    "device": "is a character device, not teamboard's lock file",
    "hard link": "is a file with 2 names (a hard link",
    "foreign file": "holds something other than teamboard's lock",
}


@pytest.mark.parametrize("kind", list(ODD))
def test_anything_but_a_lock_file_is_refused_without_blocking(base: Path, kind: str) -> None:
    if kind == "device" and not ROOT:
        pytest.skip("mknod of a character device needs root")
    store = seeded(base / "team.json")
    lock = base / "team.json.lock"
    lock.unlink()
    victim = _plant(kind, lock, base)
    before = fingerprint(victim) if victim else None
    store_before = fingerprint(store.path)
    # A hang (opening a FIFO or a device) fails here instead of blocking the suite.
    done = teamboard(["--store", str(store.path), "record", "Output", "3"], timeout=20)
    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr)
    assert ODD[kind] in line and "try again" in line
    if victim is not None:
        assert fingerprint(victim) == before
    assert fingerprint(store.path) == store_before


def test_without_o_path_and_o_tmpfile_the_same_refusals(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback for systems without O_PATH: lstat, then open with O_NOFOLLOW|O_NONBLOCK."""
    monkeypatch.setattr(lockfile_mod, "_O_PATH", 0)
    monkeypatch.setattr(lockfile_mod, "_O_TMPFILE", 0)
    path = base / "team.json"
    with locked(path, 5):  # made with O_CREAT|O_EXCL|O_NOFOLLOW
        pass
    lock = base / "team.json.lock"
    assert lock.read_bytes().startswith(MAGIC)
    for kind in ("fifo", "hard link"):
        lock.unlink()
        _plant(kind, lock, base)
        with pytest.raises(LockRefused, match=re.escape(ODD[kind])), locked(path, 5):
            pass
    lock.unlink()
    os.symlink(base / "elsewhere", lock)
    with pytest.raises(LockRefused, match="is a symbolic link"), locked(path, 5):
        pass
    assert not (base / "elsewhere").exists()


# --- modes: the README's sharing steps under umask 077 --------------------------------------------


def test_the_readme_sharing_steps_work_under_umask_077(team: dict[str, User], base: Path) -> None:
    """sudo install -d -m 2775 -g line2 DIR; teamboard init; chmod 664 STORE; then teammates."""
    alice, bob = team["tbalice"], team["tbbob"]
    folder = shared_folder(base)
    store = folder / "line2.json"

    def run(user: User, *argv: str) -> None:
        done = teamboard(["--store", str(store), *argv], user, umask=0o077)
        assert done.returncode == 0, done.stderr

    run(alice, "init")
    as_user(alice, f"os.chmod({str(store)!r}, 0o664)\n")
    run(bob, "board", "add", "Line 2")
    run(alice, "kpi", "add", "OEE", "--board", "Line 2", "--target", "85")
    run(bob, "record", "OEE", "80")
    run(alice, "record", "OEE", "81", "--date", "yesterday")
    run(bob, "record", "OEE", "82", "--date", "-2")

    lock = os.stat(folder / "line2.json.lock")
    # 0660 when made under umask 077; alice's later writes add the store's o+r (chmod 664).
    assert stat.S_IMODE(lock.st_mode) in (0o660, 0o664) and lock.st_gid == team_gid()
    assert lock.st_uid == alice.uid  # made by the first write, whatever the umask
    st = os.stat(store)
    assert stat.S_IMODE(st.st_mode) == 0o664 and st.st_gid == team_gid()
    snap = Store(store).read()
    who = sorted(e.who for entries in snap.entries.values() for e in entries)
    assert who == ["tbalice", "tbbob", "tbbob"]


def test_the_lean_record_core_keeps_a_shared_store_s_mode_group_and_who(
    team: dict[str, User], base: Path
) -> None:
    """`teamboard record` on a small store takes the lean core (`store.quick`): as real users in
    the README's shared folder, it keeps the store's mode and group, writes who recorded, and
    keeps each user's checked tables in their own private cache (none readable by the other)."""
    alice, bob = team["tbalice"], team["tbbob"]
    folder = shared_folder(base)
    store = folder / "line2.json"
    done = teamboard(["--store", str(store), "init"], alice, umask=0o077)
    assert done.returncode == 0, done.stderr
    as_user(alice, f"os.chmod({str(store)!r}, 0o664)\n")
    for argv in (["board", "add", "Line 2"], ["kpi", "add", "OEE", "--board", "Line 2",
                                               "--target", "85"]):  # fmt: skip
        assert teamboard(["--store", str(store), *argv], bob).returncode == 0
    caches = {}
    for user in (alice, bob):
        caches[user.name] = cache = base / f"cache-{user.name}"
        cache.mkdir()
        os.chown(cache, user.uid, user.gid)
    # What the lean core may import on its way (the interpreter is unreadable to the users).
    imports = "import _sha256, copy, hashlib, math, pwd, shlex, stat, unicodedata\n"
    imports += "import store.entrycheck, store.lock, store.quick, store.safeio, store.schema\n"
    imports += "import store.snapshot, store.validate, tui.lean\n"
    imports += "from tui.launch import lean_record\n"
    for user, value in ((bob, "80"), (alice, "81"), (bob, "82")):
        body = (
            f"os.environ['TEAMBOARD_CACHE'] = {str(caches[user.name])!r}\nos.umask(0o077)\n"
            f"code = lean_record({{'store': {str(store)!r}, 'kpi': 'OEE', 'value': {value!r}}})\n"
            "print('lean', code)\n"
        )
        got = subprocess.run(
            [sys.executable, "-c", PRELUDE + imports + drop_to(*user.creds()) + body],
            capture_output=True, text=True, timeout=DEADLINE, cwd=REPO, check=False,
        )  # fmt: skip
        assert got.returncode == 0 and "lean 0" in got.stdout, got.stdout + got.stderr
    st = os.stat(store)
    assert stat.S_IMODE(st.st_mode) == 0o664 and st.st_gid == team_gid()
    snap = Store(store).read()
    assert [(e.who, e.value) for e in snap.entries[1]] == [
        ("tbbob", 80.0), ("tbalice", 81.0), ("tbbob", 82.0)
    ]
    for user in (alice, bob):
        seals = os.stat(caches[user.name] / "checked")
        assert seals.st_uid == user.uid and stat.S_IMODE(seals.st_mode) == 0o600


@pytest.mark.parametrize(("folder_mode", "want"), [(0o2775, 0o660), (0o775, 0o660), (0o700, 0o600)])
def test_a_new_lock_is_group_writable_in_a_shared_folder_whatever_the_umask(
    base: Path, folder_mode: int, want: int
) -> None:
    folder = base / "f"
    folder.mkdir()
    folder.chmod(folder_mode)
    old = os.umask(0o077)
    try:
        with locked(folder / "new.json", 5):  # no store yet: the umask, plus g+rw when shared
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(folder / "new.json.lock").st_mode) == want


def test_someone_elses_lock_file_is_never_changed(team: dict[str, User], base: Path) -> None:
    """Only our own lock file gets a wider mode; root leaves alice's alone."""
    alice = team["tbalice"]
    folder = shared_folder(base)
    store = seeded(folder / "team.json")
    lock = folder / "team.json.lock"
    os.chown(lock, alice.uid, team_gid())
    lock.chmod(0o640)
    ops.record(store, "Output", 1.0, TODAY, TODAY)
    st = os.stat(lock)
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (alice.uid, 0o640)


# --- fair: 32 writers in order ------------------------------------------------------------


QUEUED_WRITER = """
import store.lock as lock_mod
path, go, me, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
grants = []
lock_mod.observe = grants.append
store = Store(path)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
for i in range(n):
    ops.record(store, "Output", me * 1000 + i, date(2026, 11, 20), date(2026, 11, 20))
print(json.dumps([[g.ticket, g.asked, g.got, g.released] for g in grants]), flush=True)
"""


@pytest.mark.slow  # 6-7 minutes on 2 busy cores: ~125 ms per record inside the lock at 10k
def test_32_writers_by_100_records_on_10000_entries_are_served_in_order(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_store(base / "team.json", 10_000, TODAY)
    # bench's store is of an older schema (main's code reads it too, for A/B runs): bring it to
    # this one first, or every writer queued behind the first would find it unmigrated, hand
    # its record to the general path and queue once more (a second grant each).
    with Store(path).transaction() as tx:
        tx.touch("migrated")
    n_writers, n_records = 32, 100
    go = base / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                PRELUDE + QUEUED_WRITER,
                str(path),
                str(go),
                str(w),
                str(n_records),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(n_writers)
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        t0 = time.monotonic()
        go.touch()
        grants: list[Grant] = []
        for p in procs:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err  # no StoreBusy, nothing else either
            grants += [Grant(*g) for g in json.loads(out.strip().splitlines()[-1])]
        elapsed = time.monotonic() - t0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()

    snap = Store(path).read()
    assert snap.entry_count == 10_000 + n_writers * n_records
    assert len(grants) == n_writers * n_records
    tickets = [g.ticket for g in grants]
    assert None not in tickets and len(set(tickets)) == len(tickets)
    by_ticket = sorted(grants, key=lambda g: g.ticket or 0)
    # FIFO: every writer got the lock after every writer with an earlier ticket...
    late = [(a, b) for a, b in pairwise(by_ticket) if b.got < a.got]
    assert late == [], late[:3]
    # ...and after that writer let go of it: one holder at a time.
    overlaps = [(a, b) for a, b in pairwise(by_ticket) if b.got < a.released]
    assert overlaps == [], overlaps[:3]
    waits = sorted(g.got - g.asked for g in grants)
    holds = sorted(g.released - g.got for g in grants)
    # How well the ticket order follows the order of asking (a writer may be descheduled
    # between asking and taking its ticket; not asserted).
    by_asked = sorted(grants, key=lambda g: g.asked)
    inversions = sum(1 for a, b in pairwise(by_asked) if (b.ticket or 0) < (a.ticket or 0))
    with capsys.disabled():
        print(
            f"\n  {n_writers}x{n_records} on 10k entries: {elapsed:.0f} s, "
            f"{len(grants) / elapsed:.1f} records/s; wait p50 {waits[len(waits) // 2]:.2f} s, "
            f"max {waits[-1]:.2f} s; hold p50 {holds[len(holds) // 2] * 1000:.0f} ms, "
            f"max {holds[-1] * 1000:.0f} ms; {inversions} neighbours in asking order "
            "got tickets the other way round"
        )


def test_threads_of_one_process_exclude_each_other(base: Path) -> None:
    """OFD locks and flock belong to the open file: threads (the app's workers) take turns."""
    path = base / "team.json"
    inside, most, errors = [0], [0], []
    guard = threading.Lock()

    def work() -> None:
        try:
            for _ in range(25):
                with locked(path, DEADLINE):
                    with guard:
                        inside[0] += 1
                        most[0] = max(most[0], inside[0])
                    time.sleep(0.001)
                    with guard:
                        inside[0] -= 1
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    assert errors == [] and most[0] == 1


def test_a_garbled_counter_or_an_old_empty_lock_file_still_works(base: Path) -> None:
    path = base / "team.json"
    lock = base / "team.json.lock"
    lock.write_bytes(b"")  # as the previous version left it
    grants: list[Grant] = []
    lock_mod.observe = grants.append
    try:
        with locked(path, 5):
            pass
        assert lock.read_bytes()[:8] == MAGIC
        with open(lock, "r+b") as f:
            f.seek(8)
            f.write(b"\xff" * 8)  # a counter from nowhere
        for _ in range(3):
            with locked(path, 5):
                pass
    finally:
        lock_mod.observe = None
    # The first made the file a lock file; the garbled counter wraps round to 0.
    assert [g.ticket for g in grants] == [0, TICKETS - 1, 0, 1]


def test_a_previous_versions_flock_still_excludes_us_and_is_named(base: Path) -> None:
    """A teamboard of the previous version only flocks: we wait for it and name its pid."""
    path = base / "team.json"
    lock = base / "team.json.lock"
    lock.write_bytes(b"")
    old = Child(
        "fd = os.open(sys.argv[1], os.O_RDWR); import fcntl; fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('got', flush=True); sys.stdin.readline()\n",
        str(lock),
        stdin=subprocess.PIPE,
    )
    try:
        old.expect("got")
        lines: list[str] = []
        with pytest.raises(StoreBusy) as err, locked(path, 1.5, lines.append):
            pass
        assert len(lines) == 1 and f"waiting for pid {old.pid} ({ME}: python" in lines[0]
        assert f"stayed locked for 1.5 s: pid {old.pid}" in str(err.value)
        assert f"ps -fp {old.pid}" in str(err.value)
    finally:
        old.finish()
    with locked(path, 5):  # and our flock excludes it
        fd = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)


# --- patient and visible: stopped, killed, timed out ---------------------------------------


WAITING_WRITER = """
store = Store(sys.argv[1], on_wait=lambda line: print("WAIT " + line, flush=True),
              lock_timeout=float(sys.argv[2]))
try:
    ops.record(store, "Output", 7.0, date(2026, 11, 20), date(2026, 11, 20))
    print("done", flush=True)
except StoreError as exc:
    print("ERROR " + str(exc), flush=True)
"""


def test_a_stopped_holder_makes_others_wait_and_say_so(base: Path, children: list[Child]) -> None:
    store = seeded(base / "team.json")
    release = base / "release"
    holder = locker(store.path, release, "record", "OEE", "3")
    children.append(holder)
    holder.expect("got")
    os.kill(holder.pid, signal.SIGSTOP)
    wait_for("the holder to stop", lambda: holder.state() == "T")
    writer = Child(WAITING_WRITER, str(store.path), "60")
    children.append(writer)
    line = writer.expect("WAIT ")
    assert line.startswith(f"WAIT pid {holder.pid} ({ME}: -c record OEE 3 ")
    assert line.endswith(
        f") is stopped (Ctrl+Z?): it holds the lock until it is resumed "
        f"(kill -CONT {holder.pid}) or ends"
    )
    os.kill(holder.pid, signal.SIGCONT)
    release.touch()
    holder.expect("released")
    writer.expect("done")
    assert [e.value for e in store.read().entries[1]] == [7.0]


def test_a_killed_holder_lets_the_next_writer_in_at_once(base: Path, children: list[Child]) -> None:
    store = seeded(base / "team.json")
    holder = locker(store.path, base / "never", "record", "OEE", "3")
    children.append(holder)
    holder.expect("got")
    writer = Child(WAITING_WRITER, str(store.path), "60")
    children.append(writer)
    line = writer.expect("WAIT ")
    assert f"waiting for pid {holder.pid} ({ME}: -c record OEE 3 " in line
    assert "has held the lock for" in line
    t0 = time.monotonic()
    os.kill(holder.pid, signal.SIGKILL)
    writer.expect("done", deadline=10)  # generous: it is a matter of milliseconds
    assert time.monotonic() - t0 < 10


def test_a_timeout_names_the_holder_and_how_to_find_it(base: Path, children: list[Child]) -> None:
    path = base / "team.json"
    holder = locker(path, base / "never", "record", "OEE", "3")
    children.append(holder)
    holder.expect("got")
    lines: list[str] = []
    with pytest.raises(StoreBusy) as err, locked(path, 1.5, lines.append):
        pass
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{path} stayed locked for 1.5 s: ")
    assert f"pid {holder.pid} ({ME}: -c record OEE 3 " in msg and "has held it for" in msg
    assert f"see it with `ps -fp {holder.pid}`" in msg
    assert len(lines) == 1  # told once, after about a second


def test_waiting_restores_the_callers_alarm_handler_and_timer(
    base: Path, children: list[Child]
) -> None:
    path = base / "team.json"
    release = base / "release"
    holder = locker(path, release)
    children.append(holder)
    holder.expect("got")
    fired: list[int] = []

    def mine(signum: int, frame: object) -> None:
        fired.append(signum)

    old = signal.signal(signal.SIGALRM, mine)
    signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        with locked(path, DEADLINE, lambda line: release.touch()):  # released once we wait
            pass
        assert signal.getsignal(signal.SIGALRM) is mine
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 20.0 < left < 30.0 and fired == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_ctrl_z_on_a_waiter_lets_the_queue_go_on(base: Path, children: list[Child]) -> None:
    """A waiter stopped with Ctrl+Z (SIGTSTP) leaves the queue, and rejoins when continued."""
    path = base / "team.json"
    release = base / "release"
    holder = locker(path, release)
    children.append(holder)
    holder.expect("got")
    first = locker(path, None, process_group=0)  # a job of its own, as a shell makes it
    children.append(first)
    first.expect("WAIT ")  # in the queue
    second = locker(path, None)
    children.append(second)
    assert "1 writer queued ahead of us" in second.expect("WAIT ")
    os.kill(first.pid, signal.SIGTSTP)
    wait_for("the first waiter to stop", lambda: first.state() == "T")
    release.touch()
    second.expect("got")  # did not wait for the stopped one
    assert first.state() == "T"
    os.kill(first.pid, signal.SIGCONT)
    first.expect("got")


def test_a_sigstopped_waiter_ahead_is_named(base: Path, children: list[Child]) -> None:
    """SIGSTOP cannot be caught: the queue behind a stopped waiter waits, and says why."""
    path = base / "team.json"
    release = base / "release"
    holder = locker(path, release)
    children.append(holder)
    holder.expect("got")
    first = locker(path, None, "record", "Scrap", "2")
    children.append(first)
    first.expect("WAIT ")
    os.kill(first.pid, signal.SIGSTOP)
    wait_for("the waiter to stop", lambda: first.state() == "T")
    release.touch()
    holder.expect("released")
    second = locker(path, None)
    children.append(second)
    line = second.expect("WAIT ")
    assert f"pid {first.pid} ({ME}: -c record Scrap 2 " in line
    assert "is stopped while queued ahead of us" in line and f"kill -CONT {first.pid}" in line
    os.kill(first.pid, signal.SIGCONT)
    first.expect("got")
    second.expect("got")


def test_a_teammate_who_may_only_read_the_lock_file_still_waits_and_sees_who(
    team: dict[str, User], base: Path, children: list[Child]
) -> None:
    """A lock file left 0644 by its owner: flock on a read-only descriptor, no queue."""
    bob = team["tbbob"]
    folder = shared_folder(base)
    old = os.umask(0o002)
    try:
        store = seeded(folder / "team.json")
    finally:
        os.umask(old)
    (folder / "team.json.lock").chmod(0o644)
    release = base / "release"
    holder = locker(store.path, release, "record", "OEE", "3")
    children.append(holder)
    holder.expect("got")
    writer = Child(WAITING_WRITER, str(store.path), "60", user=bob)
    children.append(writer)
    line = writer.expect("WAIT ")
    assert f"waiting for pid {holder.pid} ({ME}: -c" in line
    release.touch()
    writer.expect("done")
    assert [e.who for e in store.read().entries[1]] == ["tbbob"]


def test_on_a_network_filesystem_flock_alone_still_excludes_and_names_the_holder(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where flock may be a whole-file POSIX lock (NFS), the queue is off; the record stays."""
    monkeypatch.setattr(lockfile_mod, "LOCAL_FS", frozenset())
    monkeypatch.setattr(lockfile_mod, "_fs_cache", {})
    path = base / "team.json"
    grants: list[Grant] = []
    monkeypatch.setattr(lock_mod, "observe", grants.append)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with locked(path, DEADLINE):
            held.set()
            release.wait(DEADLINE)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(DEADLINE)
        lines: list[str] = []
        with pytest.raises(StoreBusy) as err, locked(path, 1.5, lines.append):
            pass
        assert f"pid {os.getpid()} ({ME}: " in lines[0] and "has held the lock for" in lines[0]
        assert f"ps -fp {os.getpid()}" in str(err.value)
    finally:
        release.set()
        holder.join(DEADLINE)
    with locked(path, 5):
        pass
    assert [g.ticket for g in grants] == [None, None]
