"""The shared folder is hostile: planted symlinks, FIFOs, devices, sockets and folders at the
store's path, a sticky folder, someone's private store, a full disk. Real users where root can
make them (tbalice, tbbob, tbmallory in group tbteam), real processes, and a timeout on every
child so that a hang fails the test instead of stalling it."""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import PRELUDE, TODAY, child_code, drop_to, fingerprint
from conftest import seeded as seeded_store

from store import Store, ops

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root to create users and device nodes")

# The child imports everything it may need as root, then becomes the user: the interpreter
# lives under /root, which other users cannot enter.
CLI = """\
import argparse, csv, gettext, io, json, locale, pwd, shlex, shutil, stat, tempfile, textwrap
import unicodedata, encodings.idna, store.backup, store.audit, store.csvio, store.demo
from tui.cli import main
"""


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    groups: list[int]

    @property
    def ids(self) -> tuple[int, int, list[int]]:
        return self.uid, self.gid, self.groups


@dataclass(frozen=True)
class Team:
    gid: int
    alice: User
    bob: User
    mallory: User


def _ensure_user(name: str, group: str) -> User:
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "-M", "-N", "-g", group, "-s", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        pw = pwd.getpwnam(name)
    gid = grp.getgrnam(group).gr_gid
    return User(name, pw.pw_uid, pw.pw_gid, [gid])


@pytest.fixture(scope="module")
def team() -> Team:
    """Three real users in one group (made once, kept for later runs)."""
    if not ROOT or shutil.which("useradd") is None:
        pytest.skip("needs root and useradd to make real users")
    with contextlib.suppress(subprocess.CalledProcessError):
        subprocess.run(["groupadd", "tbteam"], check=True, capture_output=True)
    gid = grp.getgrnam("tbteam").gr_gid
    return Team(
        gid,
        _ensure_user("tbalice", "tbteam"),
        _ensure_user("tbbob", "tbteam"),
        _ensure_user("tbmallory", "tbteam"),
    )


@pytest.fixture
def shared(shared_dir: Path, team: Team) -> Path:
    """The README's shared folder: setgid, group-writable, the team's group."""
    folder = shared_dir / "team"
    folder.mkdir()
    os.chown(folder, 0, team.gid)
    folder.chmod(0o2775)
    return folder


def teamboard(
    user: User | None, store: Path, *argv: str, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """`teamboard --store STORE ARGV...` in a child process, as `user` (None: as ourselves)."""
    body = f"sys.exit(main(['--store', {str(store)!r}, *{list(argv)!r}], today=date(2026, 11, 20)))"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _as(user) + body,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _as(user: User | None) -> str:
    """A child's start: import all it needs as root, then become `user`, under umask 002."""
    return PRELUDE + CLI + (drop_to(*user.ids) if user else "") + "os.umask(0o002)\n"


def seeded(path: Path, owner: User | None = None, group: int | None = None) -> Store:
    """conftest's store, given to `owner` and `group` with the README's mode 664."""
    store = seeded_store(path)
    os.chown(path, owner.uid if owner else 0, group if group is not None else -1)
    path.chmod(0o664)
    lock = path.with_name(path.name + ".lock")
    os.chown(lock, owner.uid if owner else 0, group if group is not None else -1)
    lock.chmod(0o664)
    return store



def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("teamboard: "), err
    return err


# --- planted and chosen symlinks at the store's path ----------------------------------------------


@needs_root
def test_a_symlink_planted_at_the_store_is_never_followed(shared: Path, team: Team) -> None:
    private = shared.parent / "alice-private.txt"
    private.write_bytes(b"alice's secrets\n")
    os.chown(private, team.alice.uid, team.alice.gid)
    private.chmod(0o600)
    before = fingerprint(private)
    store = shared / "line.json"
    seeded(store, team.alice, team.gid)
    # mallory may rename and create in the shared folder: she swaps the store for a symlink
    body = (
        f"os.rename({str(store)!r}, {str(store) + '.bak'!r}); "
        f"os.symlink({str(private)!r}, {str(store)!r})"
    )
    planted = subprocess.run(
        [sys.executable, "-c", child_code(body, team.mallory.ids)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert planted.returncode == 0, planted.stderr
    for user in (team.alice, team.bob, None):  # None: root
        for argv in (("record", "Output", "5"), ("status",), ("board", "add", "X")):
            done = teamboard(user, store, *argv)
            assert done.returncode == 1, (user, argv, done.stdout, done.stderr)
            err = one_line(done.stderr)
            assert "symbolic link" in err and "tbmallory" in err
    assert fingerprint(private) == before
    assert os.readlink(store) == str(private)
    assert sorted(p.name for p in shared.iterdir()) == [
        "line.json",
        "line.json.bak",
        "line.json.lock",
    ]


@needs_root
def test_a_store_symlink_of_your_own_shares_the_real_store_and_its_lock(
    shared: Path, team: Team
) -> None:
    store = shared / "line.json"
    seeded(store, team.alice, team.gid)
    home = shared.parent / "alice-home"
    home.mkdir()
    os.chown(home, team.alice.uid, team.alice.gid)
    home.chmod(0o755)
    link = home / "board.json"
    os.symlink(store, link)
    os.lchown(link, team.alice.uid, team.alice.gid)
    n = 15
    loop = (
        f"for i in range({n}):\n"
        "    assert main(['--store', PATH, 'record', 'Output', str(i), '--date', f'-{i}']) == 0\n"
    )
    procs = []
    for user, path in ((team.alice, link), (team.bob, store)):
        code = _as(user) + f"PATH = {str(path)!r}\n" + loop
        procs.append(
            subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
        )
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert link.is_symlink() and os.readlink(link) == str(store)
    snap = Store(store).read()
    assert sorted(e.who for e in snap.entries[1]) == ["tbalice"] * n + ["tbbob"] * n
    assert sorted(p.name for p in shared.iterdir()) == ["line.json", "line.json.lock"]
    assert sorted(p.name for p in home.iterdir()) == ["board.json"]  # no lock beside the link
    assert Store(link).path == store


def test_a_symlink_you_made_yourself_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real" / "team.json"
    real.parent.mkdir()
    seeded(real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    ops.record(Store(link), "Output", 7.0, TODAY, TODAY)
    assert link.is_symlink()
    assert Store(real).read().entries[1][-1].value == 7.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real"]


# --- FIFOs, devices, sockets and folders at the store's path --------------------------------------


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _device(path: Path) -> None:
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is


def _socket(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


def _folder(path: Path) -> None:
    path.mkdir()


NODES = {
    "a FIFO (named pipe)": _fifo,
    "a character device": _device,
    "a socket": _socket,
    "a folder": _folder,
}


@pytest.mark.parametrize("kind", sorted(NODES))
def test_what_is_not_a_regular_file_is_refused_without_blocking(tmp_path: Path, kind: str) -> None:
    if kind == "a character device" and not ROOT:
        pytest.skip("mknod of a device needs root")
    path = tmp_path / "team.json"
    NODES[kind](path)
    mode = os.lstat(path).st_mode
    for argv in (
        ("status",),
        ("record", "Output", "5"),
        ("init",),
        ("board", "add", "X"),
        ("export", "--format", "json"),
    ):
        done = teamboard(None, path, *argv, timeout=30)  # a hang fails here
        assert done.returncode == 1, (argv, done.stderr)
        assert kind in one_line(done.stderr) or "not a regular file" in done.stderr, done.stderr
    assert os.lstat(path).st_mode == mode  # still what it was: nothing replaced it
    assert sorted(p.name for p in tmp_path.iterdir()) in (
        ["team.json"],
        ["team.json", "team.json.lock"],
    )


def test_a_fifo_planted_as_a_symlink_target_is_refused_too(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "team.json"
    link.symlink_to(fifo)  # our own link to a FIFO: followed, then refused as a FIFO
    done = teamboard(None, link, "status", timeout=30)
    assert done.returncode == 1 and "FIFO" in one_line(done.stderr)


# --- folders and files others own -----------------------------------------------------------


@needs_root
def test_a_sticky_folder_says_only_the_owner_may_replace_the_store(
    shared_dir: Path, team: Team
) -> None:
    folder = shared_dir / "sticky"
    folder.mkdir()
    folder.chmod(0o1777)  # like /tmp
    store = folder / "team.json"
    seeded(store, team.alice, team.gid)
    before = fingerprint(store)
    done = teamboard(team.bob, store, "record", "Output", "5")
    assert done.returncode == 1
    err = one_line(done.stderr)
    assert "sticky" in err and "tbalice" in err and "Errno" not in err
    assert fingerprint(store) == before
    assert teamboard(team.alice, store, "record", "Output", "5").returncode == 0


@needs_root
def test_a_private_store_of_someone_else_says_so(shared: Path, team: Team) -> None:
    store = shared / "team.json"
    seeded(store, team.alice, team.gid)
    store.chmod(0o600)
    for argv in (("status",), ("record", "Output", "5")):
        done = teamboard(team.bob, store, *argv)
        assert done.returncode == 1
        err = one_line(done.stderr)
        assert "Reading works" not in err and ("permission" in err or "only tbalice" in err), err


# --- a full disk ----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, if this machine lets us mount one."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if not ROOT or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_fails_in_one_line_and_leaves_the_store_byte_identical(
    small_disk: Path,
) -> None:
    store = small_disk / "team.json"
    seeded(store)
    filler = small_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"x" * 512)
    finally:
        os.close(fd)
    before = fingerprint(store)
    done = teamboard(None, store, "record", "Output", "5", "--note", "n" * 1500)
    assert done.returncode == 1
    err = one_line(done.stderr)
    assert "no space is left on the device" in err and "unchanged" in err
    assert fingerprint(store) == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "team.json", "team.json.lock"]
    filler.unlink()
    assert teamboard(None, store, "record", "Output", "5").returncode == 0
