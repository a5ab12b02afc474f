"""The lock file `<store>.lock`: its layout, opening it safely, and its byte-range and whole-file
locks. `store.lock` explains the design; this is the file under it."""

from __future__ import annotations

import errno
import fcntl
import os
import pwd
import shlex
import stat
import struct
from contextlib import suppress

from .errors import StoreBusy, StoreError, StoreReadOnly

TYPE_CHECKING = False  # `typing` and `pathlib` cost a record's start-up milliseconds
if TYPE_CHECKING:
    from pathlib import Path

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


# --- opening the lock file -----------------------------------------------------------------------


def open_lock(store: Path | str, lock_path: Path | str) -> tuple[int, bool]:
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


def _wanted_mode(store: Path | str) -> tuple[int, int]:
    """The lock's mode bits (at least) and group: the store's; group rw in a shared folder
    (and, before there is a store, the folder's group: the team's, setgid or not)."""
    try:
        ref = os.stat(store)
        mode, gid = ref.st_mode & 0o666, ref.st_gid
    except OSError:
        mode, gid = 0, -1  # no store yet: what the umask gives, see _create
    try:
        folder = os.stat(_parent(store))
    except OSError:
        return mode, gid
    if folder.st_mode & stat.S_IWGRP:
        mode |= 0o060  # a shared folder: the team must be able to join the queue
        gid = folder.st_gid if gid == -1 else gid
    return mode, gid


def _open_existing(lock_path: Path | str) -> tuple[int, bool, os.stat_result]:
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


def _reopen(lock_path: Path | str, name: str, extra: int) -> tuple[int, bool]:
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


def _refuse_odd(lock_path: Path | str, st: os.stat_result) -> None:
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


def _create(lock_path: Path | str, want: int) -> int | None:
    """A new lock file with its mode and header; None when the name exists by now."""
    fd = -1
    if _O_TMPFILE and os.path.isdir("/proc/self/fd"):
        try:
            fd = os.open(_parent(lock_path), _O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o666)
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


def _link(fd: int, lock_path: Path | str) -> None:
    """Give the unnamed file its name: linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N, which
    never follows (nor replaces) whatever is at the name. (os.link calls plain link(), which
    does not follow /proc's link, unless it is given a folder descriptor.)"""
    dfd = os.open(_parent(lock_path), _O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        name = os.path.basename(lock_path)
        os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dfd, follow_symlinks=True)
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


def _no_folder_access(lock_path: Path | str) -> None:
    raise StoreReadOnly(
        f"cannot create the lock {lock_path}: the folder is not writable for you "
        "(chmod g+w on the folder lets the team write)"
    )


_fs_cache: dict[int, bool] = {}


def _local(fd: int, lock_path: Path | str) -> bool:
    """Whether the lock file is on a local filesystem (mountinfo), where the queue is safe."""
    dev = os.fstat(fd).st_dev
    if dev not in _fs_cache:
        _fs_cache[dev] = _fs_type(dev, lock_path) in LOCAL_FS
    return _fs_cache[dev]


def _fs_type(dev: int, lock_path: Path | str) -> str:
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    key = f"{os.major(dev)}:{os.minor(dev)}"
    best, best_len = "", -1
    folder = os.path.realpath(_parent(lock_path))
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


def _login(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _parent(path: Path | str) -> str:
    """`path.parent` for a `Path` or a `str` (the lean record passes a `str`: no `pathlib`)."""
    return os.path.dirname(os.fspath(path)) or "."


def _q(path: Path | str) -> str:
    return shlex.quote(str(path))

