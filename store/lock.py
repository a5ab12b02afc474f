"""The store's write lock, `<store>.lock`: opened safely, granted in order, and saying who holds it.

Why it looks like this:

Opening. The lock file lives in a folder the whole team can write, so a teammate may have put
anything at its name: a symlink to someone's private file (opening it with O_CREAT and changing its
mode would hand that file over), a FIFO or a device (opening it would block or talk to a driver),
a hard link to someone's file. So the name is opened with O_PATH|O_NOFOLLOW (opens nothing, follows
nothing, never blocks), checked with fstat (a regular file with one name, empty or starting with
MAGIC), and that same inode is reopened through /proc/self/fd. A missing lock file is made as an
unnamed file (O_TMPFILE), given its mode and header, and linked into place: link() never follows a
symlink and fails if the name exists, and then we start over. Where O_TMPFILE is missing it is
O_CREAT|O_EXCL|O_NOFOLLOW; without O_PATH, lstat and then open with O_NOFOLLOW|O_NONBLOCK and
check that it is still the same inode. A mode or group is changed only through that descriptor,
only on a file we own with one name: never through a path.

Mode. In a group-writable folder (a shared one, setgid or not) the lock is made group-readable and
writable whatever the umask, so a teammate can join the queue; elsewhere it follows the store's
mode (or the umask when there is no store yet). A lock file we may only read still works: flock
needs no write access; then we skip the queue (see below).

The queue: a CLH queue lock on byte ranges of the lock file, with Linux OFD locks (they belong to
the open file description: two threads of one process exclude each other; and the kernel drops
them, like flock, when the last descriptor closes, so a process that dies releases at once).

    bytes 0-7 MAGIC, 8-15 the next ticket (little-endian), 512-1023 the holder's record,
    1024-32767 a ring of queued writers' records; OFD lock on byte 0: the ticket mutex;
    OFD lock on byte SLOTS + t: the slot of ticket t (locks may lie beyond the end of a file).

    acquire: 1. lock byte 0 (waiting)  2. read the counter c; take the first t >= c whose slot we
             can lock without waiting (normally c itself); write t + 1  3. unlock byte 0
             4. wait until no one else holds a lock on [SLOTS, SLOTS + t): every earlier ticket
             is gone  5. flock(LOCK_EX) (waiting)  6. write our record at the holder's place
    release: clear the holder's record, flock(LOCK_UN), unlock our slot, close

Why it is right, interleaving by interleaving:
- Mutual exclusion comes from flock alone (step 5), so it holds whatever happens to the queue: a
  garbled counter, a crashed queue member, a teamboard of the previous version that only flocks,
  a teammate who can only read the lock file. The queue decides the order, not the exclusion.
- Ticket taken but slot not yet locked: cannot be seen. Steps 2 and 3 happen under the byte-0
  mutex and the slot is locked before the mutex is released, so whoever takes the next ticket
  finds every earlier live ticket's slot already locked.
- FIFO: tickets are handed out in the order writers pass the mutex (held for microseconds; who
  of several arriving at once passes first is the kernel's choice). A writer with ticket t passes
  step 4 only when every slot below t is free; a live writer frees its slot only after its flock
  (release) or when it gives up. So writers take flock in ticket order, and the only flock waiter
  is normally the head of the queue: the kernel's unordered wake-ups never choose.
- A predecessor dies (SIGKILL, crash) holding or waiting: the kernel drops its slot and flock with
  its last descriptor. We wait for the whole range below us, not only for t - 1, so a dead or
  departed waiter lets nobody overtake a live writer further ahead.
- Death inside steps 1-3: byte 0 is dropped by the kernel; the counter was written whole or not
  at all (one 8-byte pwrite inside one page, read only under the mutex). Any counter value is
  safe: step 2 skips slots still held, and a counter that went backwards (a hand edit) lets
  newcomers overtake until it passes the live tickets again: order, never exclusion. After a
  crash of the machine no lock survives, so whatever the counter says is fine.
- No deadlock: a queued writer holds only its slot and waits for lower slots or for flock; a
  flock holder waits for nothing. Waits go strictly downwards, so there is no cycle.
- Stopped: a stopped holder keeps everything; waiters say so (pid, Ctrl+Z?, kill -CONT). A waiter
  stopped with Ctrl+Z (SIGTSTP, in a main thread that had the default disposition) leaves the
  queue before it stops and rejoins at the end when continued; SIGSTOP cannot be caught, so the
  writers behind a SIGSTOPped waiter wait, and say whom they wait for.
- Network filesystems: Linux's NFS client turns flock into a whole-file POSIX lock, which
  conflicts with the slot locks (a holder would wait for flock behind its successors' slots: a
  deadlock). The queue runs only on local filesystems; elsewhere it is flock alone, as before,
  and the holder's record still names it (its state on another host cannot be seen).

Waiting: the main thread blocks in the kernel (F_OFD_SETLKW, flock) and a one-shot SIGALRM every
0.25 s interrupts it to check the deadline and to tell `on_wait` (once, after about a second) whom
we wait for; other threads (the app writes from thread workers) poll without blocking, with a
backoff from 1 ms to 10 ms. The old SIGALRM handler and timer are restored afterwards.

Records are written by teammates, so a reader trusts nothing in them: every field is checked,
control characters are shown escaped, and a record counts only while its ticket's slot is held.
"""

from __future__ import annotations

import errno
import fcntl
import os
import pwd
import shlex
import signal
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from .errors import StoreBusy, StoreError, StoreReadOnly

LOCK_TIMEOUT = 120.0  # seconds a write waits for the lock by default
NOTICE_AFTER = 1.0  # seconds of waiting before `on_wait` hears whom we wait for
TICK = 0.25  # how often a blocked main thread wakes to look at the clock

MAGIC = b"TBLOCK1\n"
COUNTER_AT = 8
HOLDER_AT = 512
RING_AT = 1024
RECORD = 512
RING = 62  # records in the ring: RING_AT + RING * RECORD == 32 KiB
SIZE = RING_AT + RING * RECORD
MUTEX = 0
SLOTS = 1 << 32
TICKETS = 1 << 40  # tickets wrap here (far beyond anything a team writes)
CMD_CHARS = 120

# Filesystems where flock and byte-range locks are independent, as the queue needs.
LOCAL_FS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "ramfs", "f2fs", "zfs", "bcachefs"}
    | {"jfs", "reiserfs", "nilfs2", "overlay"}
)

_HAVE_OFD = all(hasattr(fcntl, n) for n in ("F_OFD_SETLK", "F_OFD_SETLKW", "F_OFD_GETLK"))
_O_PATH = getattr(os, "O_PATH", 0)
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_FLOCK = struct.Struct("hhqqi4x")  # struct flock on 64-bit Linux (l_pid is 0 for OFD locks)
_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


class LockRefused(StoreError):
    """Something at the lock file's name is not teamboard's lock file; nothing was opened."""


@dataclass(frozen=True)
class Grant:
    """One acquisition, for tests and benchmarks (`observe`): monotonic seconds, system-wide."""

    ticket: int | None  # None: flock alone (read-only lock file, network filesystem)
    asked: float
    got: float
    released: float


observe: Callable[[Grant], None] | None = None  # told of every release; tests and benches set it


@contextmanager
def locked(
    path: Path, timeout: float = LOCK_TIMEOUT, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the store's exclusive cross-process lock, `<store>.lock`, granted in arrival order.

    Waits up to `timeout` seconds, then raises StoreBusy naming the holder; after about a second
    of waiting, `on_wait` gets one line saying whom we wait for. The lock file is never removed:
    removing it would let two writers lock two different inodes.
    """
    asked = time.monotonic()
    lock_path = path.with_name(path.name + ".lock")
    fd, writable = open_lock(path, lock_path)
    try:
        queue = writable and _HAVE_OFD and _local(fd, lock_path)
        with _Wait(path, lock_path, fd, timeout, on_wait) as wait:
            ticket = wait.acquire(queue)
        got = time.monotonic()
        if writable:
            _write_record(fd, HOLDER_AT, ticket, time.time())
        try:
            yield
        finally:
            done = time.monotonic()  # before letting go: the next holder's `got` comes after
            if writable:
                with suppress(OSError):
                    os.pwrite(fd, bytes(RECORD), HOLDER_AT)
            fcntl.flock(fd, fcntl.LOCK_UN)
            if ticket is not None:
                _ofd(fd, fcntl.F_UNLCK, _slot(ticket), 1)
            if observe is not None:
                observe(Grant(ticket, asked, got, done))
    finally:
        os.close(fd)  # drops whatever is still held


# --- opening the lock file -----------------------------------------------------------------------


def open_lock(store: Path, lock_path: Path) -> tuple[int, bool]:
    """Open (or make) the lock file without following or blocking on anything planted there.

    Returns the descriptor and whether it is writable.
    """
    want, gid = _wanted_mode(store)
    for _ in range(100):  # a name that keeps appearing and vanishing: someone is playing
        try:
            fd, writable, st = _open_existing(lock_path)
        except FileNotFoundError:
            made = _create(lock_path, want)
            if made is None:
                continue  # someone else made it first: open theirs
            fd, writable, st = made, True, os.fstat(made)
        if st.st_uid == os.geteuid() and st.st_nlink == 1:
            _widen(fd, st, want, gid)
        return fd, writable
    raise StoreBusy(f"{lock_path} keeps appearing and disappearing; try again")


def _wanted_mode(store: Path) -> tuple[int, int]:
    """The lock's mode bits (at least) and group: the store's; group rw in a shared folder
    (and, before there is a store, the folder's group: the team's, setgid or not)."""
    try:
        ref = os.stat(store)
        mode, gid = ref.st_mode & 0o666, ref.st_gid
    except OSError:
        mode, gid = 0, -1  # no store yet: what the umask gives, see _create
    try:
        folder = os.stat(store.parent)
    except OSError:
        return mode, gid
    if folder.st_mode & stat.S_IWGRP:
        mode |= 0o060  # a shared folder: the team must be able to join the queue
        gid = folder.st_gid if gid == -1 else gid
    return mode, gid


def _open_existing(lock_path: Path) -> tuple[int, bool, os.stat_result]:
    if _O_PATH and os.path.isdir("/proc/self/fd"):
        pfd = os.open(lock_path, _O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            st = os.fstat(pfd)
            _refuse_odd(lock_path, st)
            fd, writable = _reopen(lock_path, f"/proc/self/fd/{pfd}", 0)
        finally:
            os.close(pfd)
    else:
        st = os.lstat(lock_path)
        _refuse_odd(lock_path, st)
        fd, writable = _reopen(lock_path, str(lock_path), os.O_NOFOLLOW | os.O_NONBLOCK)
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            os.close(fd)
            raise FileNotFoundError(lock_path)  # replaced in between: look again
        st = now
    try:
        _refuse_odd(lock_path, os.fstat(fd))
        head = os.pread(fd, len(MAGIC), 0)
        if head and head != MAGIC:
            raise LockRefused(
                f"{lock_path} holds something other than teamboard's lock ({st.st_size} bytes, "
                f"owned by {_login(st.st_uid)}): someone may be trying to take over files; look "
                f"at it, move it away (mv {_q(lock_path)} {_q(str(lock_path) + '.suspect')}) "
                "and try again"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, writable, st


def _reopen(lock_path: Path, name: str, extra: int) -> tuple[int, bool]:
    try:
        return os.open(name, os.O_RDWR | os.O_CLOEXEC | extra), True
    except PermissionError:
        pass
    try:
        # A store opened up to the group after it was made (chmod g+w) keeps a lock file as
        # narrow as the umask made it until its owner writes again: flock needs no write access.
        return os.open(name, os.O_RDONLY | os.O_CLOEXEC | extra), False
    except PermissionError:
        raise StoreReadOnly(
            f"cannot open the lock {lock_path}: ask its owner to give the team access "
            "(chmod g+rw on it)"
        ) from None


def _refuse_odd(lock_path: Path, st: os.stat_result) -> None:
    """Refuse, in one line, anything but a regular file with one name."""
    what = file_kind(st.st_mode)
    how = f"rmdir {_q(lock_path)}" if stat.S_ISDIR(st.st_mode) else f"rm {_q(lock_path)}"
    if what is None and st.st_nlink != 1:
        what = f"a file with {st.st_nlink} names (a hard link, owned by {_login(st.st_uid)})"
        how += ": its other names keep the file"
    if what is not None:
        raise LockRefused(
            f"{lock_path} is {what}, not teamboard's lock file: someone may be trying to take "
            f"over files; remove it ({how}) and try again"
        )


def file_kind(mode: int) -> str | None:
    """What a file is, in words ('a FIFO (named pipe)', 'a folder', ...); None: a regular file."""
    for test, words in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return None if stat.S_ISREG(mode) else "not a regular file"


def _create(lock_path: Path, want: int) -> int | None:
    """A new lock file with its mode and header; None when the name exists by now."""
    fd = -1
    if _O_TMPFILE and os.path.isdir("/proc/self/fd"):
        try:
            fd = os.open(lock_path.parent, _O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o666)
        except PermissionError:
            _no_folder_access(lock_path)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise
    if fd >= 0:
        try:
            _prepare(fd, want)
            _link(fd, lock_path)
        except FileExistsError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return fd
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(lock_path, flags, 0o666)
    except FileExistsError:
        return None
    except PermissionError:
        _no_folder_access(lock_path)
    try:
        _prepare(fd, want)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _link(fd: int, lock_path: Path) -> None:
    """Give the unnamed file its name: linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N, which
    never follows (nor replaces) whatever is at the name. (os.link calls plain link(), which
    does not follow /proc's link, unless it is given a folder descriptor.)"""
    dfd = os.open(lock_path.parent, _O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.link(f"/proc/self/fd/{fd}", lock_path.name, dst_dir_fd=dfd, follow_symlinks=True)
    finally:
        os.close(dfd)


def _prepare(fd: int, want: int) -> None:
    st = os.fstat(fd)  # the umask made it 0o666 & ~umask
    if want & ~st.st_mode & 0o666:
        os.fchmod(fd, (st.st_mode | want) & 0o666)
    os.pwrite(fd, MAGIC + bytes(SIZE - len(MAGIC)), 0)  # room for every record, now


def _widen(fd: int, st: os.stat_result, want: int, gid: int) -> None:
    """Give our own lock file the bits the team needs (umask made it narrower), and its group."""
    if want & ~st.st_mode & 0o666:
        os.fchmod(fd, (st.st_mode | want) & 0o666)
    if gid != -1 and st.st_gid != gid:
        with suppress(PermissionError):  # not in that group: it keeps ours, as the OS allows
            os.fchown(fd, -1, gid)


def _no_folder_access(lock_path: Path) -> None:
    raise StoreReadOnly(
        f"cannot create the lock {lock_path}: the folder is not writable for you "
        "(chmod g+w on the folder lets the team write)"
    )


_fs_cache: dict[int, bool] = {}


def _local(fd: int, lock_path: Path) -> bool:
    """Whether the lock file is on a local filesystem (mountinfo), where the queue is safe."""
    dev = os.fstat(fd).st_dev
    if dev not in _fs_cache:
        _fs_cache[dev] = _fs_type(dev, lock_path) in LOCAL_FS
    return _fs_cache[dev]


def _fs_type(dev: int, lock_path: Path) -> str:
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    key = f"{os.major(dev)}:{os.minor(dev)}"
    best, best_len = "", -1
    folder = os.path.realpath(lock_path.parent)
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or not tail:
            continue
        if fields[2] == key:
            return tail[0]
        mount = fields[4].replace("\\040", " ")
        inside = folder == mount or folder.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) > best_len:  # btrfs subvolumes have devices of their own
            best, best_len = tail[0], len(mount)
    return best


# --- byte-range and whole-file locks -------------------------------------------------------------


def _slot(ticket: int) -> int:
    return SLOTS + ticket % TICKETS


def _ofd(fd: int, kind: int, start: int, length: int, block: bool = False) -> bool:
    """One OFD lock request on [start, start + length); False when a non-blocking one is busy."""
    cmd = fcntl.F_OFD_SETLKW if block else fcntl.F_OFD_SETLK
    try:
        fcntl.fcntl(fd, cmd, _FLOCK.pack(kind, os.SEEK_SET, start, length, 0))
    except OSError as exc:
        if not block and exc.errno in _BUSY:
            return False
        raise
    return True


def _held_by_other(fd: int, start: int, length: int) -> tuple[int, int] | None:
    """The (start, length) of a lock someone else holds on the range, or None."""
    got = fcntl.fcntl(
        fd, fcntl.F_OFD_GETLK, _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
    )
    kind, _, s, n, _ = _FLOCK.unpack(got)
    return None if kind == fcntl.F_UNLCK else (s, n)


def _flock(fd: int, block: bool) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if block else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if not block and exc.errno in _BUSY:
            return False
        raise
    return True


def _enqueue(fd: int) -> int:
    """Steps 2-3 (the caller holds byte 0): take a ticket and lock its slot."""
    head = os.pread(fd, COUNTER_AT + 8, 0)
    ok = head[: len(MAGIC)] == MAGIC and len(head) == COUNTER_AT + 8
    ticket = int.from_bytes(head[COUNTER_AT:], "little") % TICKETS if ok else 0
    for _ in range(4096):
        if _ofd(fd, fcntl.F_WRLCK, _slot(ticket), 1):
            break
        ticket = (ticket + 1) % TICKETS  # a garbled counter: skip slots still held
    else:
        raise StoreBusy("teamboard's lock queue is jammed (4096 slots held); try again")
    nxt = ((ticket + 1) % TICKETS).to_bytes(8, "little")
    with suppress(OSError):  # a full disk: the order suffers, exclusion does not
        os.pwrite(fd, MAGIC + nxt if not ok else nxt, 0 if not ok else COUNTER_AT)
    return ticket


def _pass(fd: int, ticket: int, block: bool) -> bool:
    """Step 4: True once no one else holds a slot below ours (lock the range, let it go)."""
    below = ticket % TICKETS
    if below == 0:
        return True
    if not _ofd(fd, fcntl.F_WRLCK, SLOTS, below, block):
        return False
    _ofd(fd, fcntl.F_UNLCK, SLOTS, below)
    return True


# --- waiting ------------------------------------------------------------------------------------


class _Tick(Exception):
    """SIGALRM woke a blocked lock request: time to look at the clock."""


class _Suspend(Exception):
    """Ctrl+Z while waiting: leave the queue, stop, rejoin when continued."""


class _Wait:
    """One acquisition's waiting: signals (main thread) or polling, deadline, `on_wait`."""

    def __init__(
        self,
        store: Path,
        lock_path: Path,
        fd: int,
        timeout: float,
        on_wait: Callable[[str], None] | None,
    ) -> None:
        self.store, self.lock_path, self.fd = store, lock_path, fd
        self.timeout, self.on_wait = timeout, on_wait
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.told = False
        self.ticket: int | None = None
        self.main = threading.current_thread() is threading.main_thread()
        self._armed = False
        self._suspend = False
        self._old: dict[int, Any] = {}
        self._old_timer = (0.0, 0.0)
        self._saved_at = 0.0

    def __enter__(self) -> _Wait:
        if self.main:
            self._old_timer = signal.setitimer(signal.ITIMER_REAL, 0)
            self._saved_at = time.monotonic()
            self._old[signal.SIGALRM] = signal.signal(signal.SIGALRM, self._on_signal)
            if signal.getsignal(signal.SIGTSTP) == signal.SIG_DFL:
                self._old[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.main:
            return
        signal.setitimer(signal.ITIMER_REAL, 0)  # first: no alarm may reach the old handler
        for signum, old in self._old.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)
        delay, interval = self._old_timer
        if delay > 0:
            left = delay - (time.monotonic() - self._saved_at)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), interval)
        if self._suspend:  # Ctrl+Z came as we got the lock: stop now, as we would have
            os.kill(os.getpid(), signal.SIGTSTP)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGTSTP:
            self._suspend = True
        if self._armed:
            self._armed = False
            raise _Suspend if self._suspend else _Tick

    def acquire(self, queue: bool) -> int | None:
        """Take the lock (steps 1-5); the ticket, or None for flock alone."""
        fd = self.fd
        while True:
            try:
                if not queue:
                    self.until(lambda block: _flock(fd, block))
                    return None
                self.until(lambda block: _ofd(fd, fcntl.F_WRLCK, MUTEX, 1, block))
                try:
                    ticket = _enqueue(fd)
                finally:
                    _ofd(fd, fcntl.F_UNLCK, MUTEX, 1)
                self.ticket = ticket
                _write_record(fd, RING_AT + ticket % RING * RECORD, ticket, time.time())
                self.until(partial(_pass, fd, ticket))
                self.until(lambda block: _flock(fd, block))
                return ticket
            except _Suspend:
                if queue:
                    _ofd(fd, fcntl.F_UNLCK, 0, 0)  # every byte: the queue goes on without us
                fcntl.flock(fd, fcntl.LOCK_UN)
                self.ticket = None
                self._stop()

    def until(self, take: Callable[[bool], bool]) -> None:
        """Call `take` until it gets its lock: blocking (woken by SIGALRM) in the main thread,
        polling elsewhere; between tries, tell `on_wait` and watch the deadline."""
        pause = 0.001
        while True:
            if self.main:
                try:
                    try:
                        self._armed = True
                        signal.setitimer(signal.ITIMER_REAL, self._next_wake())
                        got = take(True)
                    finally:
                        self._armed = False
                        signal.setitimer(signal.ITIMER_REAL, 0)
                except _Tick:
                    got = False  # a lock got just before the alarm is taken again: idempotent
            else:
                got = take(False)
            if got:
                return
            self._between()
            if not self.main:
                time.sleep(pause)
                pause = min(pause * 2, 0.01)

    def _next_wake(self) -> float:
        now = time.monotonic()
        soon = min(TICK, self.deadline - now)
        if not self.told and self.on_wait is not None:
            soon = min(soon, self.started + NOTICE_AFTER - now)
        return max(soon, 0.001)

    def _between(self) -> None:
        if self._suspend:
            raise _Suspend
        now = time.monotonic()
        if not self.told and self.on_wait is not None and now - self.started >= NOTICE_AFTER:
            self.told = True
            self.on_wait(self._blocker().waiting())
        if now >= self.deadline:
            raise StoreBusy(self._blocker().busy(self.store, self.lock_path, self.timeout))

    def _stop(self) -> None:
        """Stop as Ctrl+Z asked (we left the queue first); the stopped time is not waiting."""
        self._suspend = False
        t0 = time.monotonic()
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        try:
            os.kill(os.getpid(), signal.SIGTSTP)  # returns when continued
        finally:
            signal.signal(signal.SIGTSTP, self._on_signal)
        away = time.monotonic() - t0
        self.deadline += away
        self.started += away

    def _blocker(self) -> _Blocker:
        try:
            return _find_blocker(self.fd, self.ticket)
        except OSError:
            return _Blocker(None, "holds", 0)


# --- who holds it --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Who:
    pid: int
    login: str
    cmd: str
    host: str  # "" when it is this machine
    since: float | None  # wall-clock time it got the lock (or asked), when known
    state: str  # "running", "stopped", or "" (another host: cannot tell)

    def name(self) -> str:
        where = f" on {self.host}" if self.host else ""
        return f"pid {self.pid}{where} ({self.login}: {self.cmd})"

    def held_for(self) -> str:
        return "" if self.since is None else _duration(max(time.time() - self.since, 0.0))


@dataclass(frozen=True)
class _Blocker:
    who: _Who | None
    role: str  # "holds" the lock, or is "queued" ahead of us
    ahead: int  # other writers queued ahead of us

    def waiting(self) -> str:
        w = self.who
        if w is not None and w.state == "stopped":
            if self.role == "holds":
                return (
                    f"{w.name()} is stopped (Ctrl+Z?): it holds the lock until it is resumed "
                    f"(kill -CONT {w.pid}) or ends"
                )
            return (
                f"{w.name()} is stopped while queued ahead of us: the queue waits until it is "
                f"resumed (kill -CONT {w.pid}) or ends"
            )
        more = f"; {_writers(self.ahead)} queued ahead of us" if self.ahead else ""
        if w is not None:
            held = f"has held the lock for {w.held_for()}" if w.since else "holds the lock"
            return f"waiting for {w.name()}, which {held}{more}"
        if self.ahead:
            return f"waiting for the lock: {_writers(self.ahead)} queued ahead of us"
        return "waiting for the lock: another writer holds it and does not say who"

    def busy(self, store: Path, lock_path: Path, timeout: float) -> str:
        head = f"{store} stayed locked for {timeout:g} s"
        w = self.who
        if w is None:
            more = f" ({_writers(self.ahead)} queued ahead of us)" if self.ahead else ""
            return (
                f"{head} by another writer that does not say who{more}; `fuser -v "
                f"{_q(lock_path)}` lists the processes that have the lock open; try again later"
            )
        find = (
            f"log in to {w.host} and see it with `ps -fp {w.pid}`"
            if w.host
            else f"see it with `ps -fp {w.pid}`"
        )
        if w.state == "stopped":
            doing = (
                "is stopped holding the lock"
                if self.role == "holds"
                else ("is stopped while queued ahead of us")
            )
            return f"{head}: {w.name()} {doing}; resume it (kill -CONT {w.pid}) or end it; {find}"
        held = f"has held it for {w.held_for()}" if w.since else "holds it"
        return f"{head}: {w.name()} {held}; {find}; try again later"


def _writers(n: int) -> str:
    return f"{n} writer" + ("s" if n != 1 else "")


def _find_blocker(fd: int, ticket: int | None) -> _Blocker:
    """Whom we wait for: the holder's record while it is live, else the kernel's flock holder
    on this machine (/proc/locks), else a stopped writer queued ahead of us."""
    ahead = _held_tickets(fd, ticket) if ticket is not None and _HAVE_OFD else []
    pid = _flock_holder(fd)
    rec = _read_record(fd, HOLDER_AT)
    if rec is not None:
        t, who = rec
        # t is None: flock alone (network filesystem), nothing to check the record against
        live = t is None or (_HAVE_OFD and _held_by_other(fd, _slot(t), 1) is not None)
        if live and (pid is None or pid == who.pid):
            return _Blocker(who, "holds", len([a for a in ahead if a != t]))
    if pid is not None:
        return _Blocker(_who_from_proc(pid), "holds", max(len(ahead) - 1, 0))
    for t in ahead:
        found = _read_record(fd, RING_AT + t % RING * RECORD)
        if found is not None and found[0] == t and found[1].state == "stopped":
            return _Blocker(found[1], "queued", len(ahead) - 1)
    return _Blocker(None, "holds", len(ahead))


def _held_tickets(fd: int, ticket: int) -> list[int]:
    """The tickets below ours whose slots others hold, lowest first. F_OFD_GETLK reports one
    conflicting lock, not the lowest, so look on both sides of each one found."""
    found: list[int] = []
    todo = [(SLOTS, _slot(ticket))]
    while todo and len(found) < 256:
        lo, hi = todo.pop()
        lock = _held_by_other(fd, lo, hi - lo) if lo < hi else None
        if lock is None:
            continue
        start, length = lock
        end = min(start + length if length > 0 else hi, hi)
        found.append(end - 1 - SLOTS)  # a waiter's passing range ends at its own slot
        todo += [(lo, max(start, lo)), (end, hi)]
    return sorted(found)


def _flock_holder(fd: int) -> int | None:
    """The pid holding flock on our lock file, if on this machine (from /proc/locks)."""
    st = os.fstat(fd)
    key = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        with open("/proc/locks") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5] == key:
                    pid = int(parts[4])
                    return pid if pid > 0 else None
    except (OSError, ValueError):
        pass
    return None


def _who_from_proc(pid: int) -> _Who:
    login, cmd = "?", "?"
    with suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                login = _login(int(line.split()[1]))
                break
    with suppress(OSError):
        with open(f"/proc/{pid}/cmdline", "rb") as fb:
            argv = fb.read().decode(errors="replace").split("\0")
        cmd = _command(argv[:-1] if argv and argv[-1] == "" else argv)
    return _Who(pid, login, cmd, "", None, _state(pid))


def _write_record(fd: int, at: int, ticket: int | None, since: float) -> None:
    """Our login, pid, host, time and command line, for waiters to read (best effort)."""
    doc = {
        "t": ticket,
        "pid": os.getpid(),
        "login": _login(os.getuid()),
        "host": os.uname().nodename,
        "at": round(since, 3),
        "cmd": _command(sys.argv),
    }
    blob = orjson.dumps(doc)
    while len(blob) >= RECORD:  # a long login or host; the command line gives way
        doc["cmd"] = str(doc["cmd"])[: len(str(doc["cmd"])) // 2] + "…"
        blob = orjson.dumps(doc)
    with suppress(OSError):
        os.pwrite(fd, blob.ljust(RECORD, b"\0"), at)


def _read_record(fd: int, at: int) -> tuple[int | None, _Who] | None:
    """A record as (ticket, who), or None when empty or not believable."""
    try:
        blob = os.pread(fd, RECORD, at).split(b"\0", 1)[0]
        doc = orjson.loads(blob) if blob else None
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(doc, dict):
        return None
    t, pid, at_ = doc.get("t"), doc.get("pid"), doc.get("at")
    login, host, cmd = doc.get("login"), doc.get("host"), doc.get("cmd")
    if not (isinstance(pid, int) and 0 < pid < 1 << 22):
        return None
    if not (t is None or (isinstance(t, int) and 0 <= t < TICKETS)):
        return None
    if not all(isinstance(x, str) for x in (login, host, cmd)):
        return None
    since = float(at_) if isinstance(at_, int | float) and at_ > 0 else None
    here = str(host) == os.uname().nodename
    who = _Who(
        pid,
        _visible(str(login))[:32],
        _visible(str(cmd))[: CMD_CHARS + 1],
        "" if here else _visible(str(host))[:64],
        since,
        _state(pid) if here else "",
    )
    return t, who


def _state(pid: int) -> str:
    """ "stopped" when /proc says T (stopped) or t (stopped by a tracer), else "running"."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return "running"
    return "stopped" if fields and fields[0] in (b"T", b"t") else "running"


def _command(argv: list[str]) -> str:
    """A command line to show: the program's base name and its arguments, control characters
    escaped, at most CMD_CHARS characters."""
    if not argv:
        return "?"
    words = [os.path.basename(argv[0]) or argv[0], *argv[1:]]
    text = _visible(" ".join(words))
    return text if len(text) <= CMD_CHARS else text[: CMD_CHARS - 1] + "…"


def _visible(text: str) -> str:
    """Control and invisible characters as escapes: a record may come from anyone."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _login(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def _q(path: Path | str) -> str:
    return shlex.quote(str(path))
