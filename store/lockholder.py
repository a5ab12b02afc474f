"""Who holds the lock, and who is queued: the records writers leave in the lock file, checked
as untrusted (a teammate may write anything there), and what /proc says of a pid."""

from __future__ import annotations

import os
import sys
import time
from contextlib import suppress

from .lockfile import (
    _HAVE_OFD,
    CMD_CHARS,
    HOLDER_AT,
    RECORD,
    RING,
    RING_AT,
    SLOTS,
    TICKETS,
    _held_by_other,
    _login,
    _q,
    _slot,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

# --- who holds it --------------------------------------------------------------------------------


class _Who:
    """Who holds or waits for the lock, from its record. (Plain classes here: a dataclass
    costs every record about a millisecond of start-up to build, for a line it rarely says.)"""

    __slots__ = ("cmd", "host", "login", "pid", "since", "state")

    def __init__(
        self, pid: int, login: str, cmd: str, host: str, since: float | None, state: str
    ) -> None:
        self.pid, self.login, self.cmd = pid, login, cmd
        self.host = host  # "" when it is this machine
        self.since = since  # wall-clock time it got the lock (or asked), when known
        self.state = state  # "running", "stopped", or "" (another host: cannot tell)

    def name(self) -> str:
        where = f" on {self.host}" if self.host else ""
        return f"pid {self.pid}{where} ({self.login}: {self.cmd})"

    def held_for(self) -> str:
        return "" if self.since is None else _duration(max(time.time() - self.since, 0.0))


class _Blocker:
    """Whom a waiting writer waits for, and how many are ahead of it."""

    __slots__ = ("ahead", "role", "who")

    def __init__(self, who: _Who | None, role: str, ahead: int) -> None:
        self.who = who
        self.role = role  # "holds" the lock, or is "queued" ahead of us
        self.ahead = ahead  # other writers queued ahead of us

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

    def busy(self, store: Path | str, lock_path: Path | str, timeout: float) -> str:
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
    blob = _dumps(doc)
    while len(blob) >= RECORD:  # a long login or host; the command line gives way
        doc["cmd"] = str(doc["cmd"])[: len(str(doc["cmd"])) // 2] + "…"
        blob = _dumps(doc)
    with suppress(OSError):
        os.pwrite(fd, blob.ljust(RECORD, b"\0"), at)


def _dumps(doc: object) -> bytes:
    """`orjson.dumps(doc)` for a record's plain values (ints, a rounded time, strings made
    visible), without importing orjson: `teamboard record`'s lean start does without it."""
    import json

    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _read_record(fd: int, at: int) -> tuple[int | None, _Who] | None:
    """A record as (ticket, who), or None when empty or not believable."""
    import orjson  # only a waiter reads records

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


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"
