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

import fcntl
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial

from .errors import StoreBusy
from .lockfile import (
    _HAVE_OFD,
    HOLDER_AT,
    MUTEX,
    RECORD,
    RING,
    RING_AT,
    _enqueue,
    _flock,
    _local,
    _ofd,
    _pass,
    _slot,
    open_lock,
)
from .lockholder import _Blocker, _find_blocker, _write_record

TYPE_CHECKING = False  # `typing` costs a record's start-up a few milliseconds
if TYPE_CHECKING:
    from pathlib import Path
    from types import FrameType
    from typing import Any

LOCK_TIMEOUT = 120.0  # seconds a write waits for the lock by default
NOTICE_AFTER = 1.0  # seconds of waiting before `on_wait` hears whom we wait for
TICK = 0.25  # how often a blocked main thread wakes to look at the clock


class Grant:
    """One acquisition, for tests and benchmarks (`observe`): monotonic seconds, system-wide.
    (A plain class: a dataclass costs every record about a millisecond of start-up.)"""

    __slots__ = ("asked", "got", "released", "ticket")

    def __init__(self, ticket: int | None, asked: float, got: float, released: float) -> None:
        self.ticket = ticket  # None: flock alone (read-only lock file, network filesystem)
        self.asked, self.got, self.released = asked, got, released


observe: Callable[[Grant], None] | None = None  # told of every release; tests and benches set it


@contextmanager
def locked(
    path: Path | str, timeout: float = LOCK_TIMEOUT, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the store's exclusive cross-process lock, `<store>.lock`, granted in arrival order.

    Waits up to `timeout` seconds, then raises StoreBusy naming the holder; after about a second
    of waiting, `on_wait` gets one line saying whom we wait for. The lock file is never removed:
    removing it would let two writers lock two different inodes.
    """
    asked = time.monotonic()
    lock_path = path + ".lock" if isinstance(path, str) else path.with_name(path.name + ".lock")
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



# --- waiting ------------------------------------------------------------------------------------


class _Tick(Exception):
    """SIGALRM woke a blocked lock request: time to look at the clock."""


class _Suspend(Exception):
    """Ctrl+Z while waiting: leave the queue, stop, rejoin when continued."""


class _Wait:
    """One acquisition's waiting: signals (main thread) or polling, deadline, `on_wait`."""

    def __init__(
        self,
        store: Path | str,
        lock_path: Path | str,
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
