"""The one place that touches the store file: a TinyDB `Storage`, the lock, and atomic replacement.

Plain TinyDB rewrites its file in place and caches ids and queries per instance, which tears and
loses writes when several processes share a file (see STACK-NOTES). Here every change is:
take an exclusive `flock` on a side file, parse the store once, let a fresh TinyDB work on that
dict in memory, then write a temp file in the same folder, fsync it, give it the store's mode,
owner and group, and `os.replace` it over the store. Readers never take the lock: a rename is
atomic, so they see the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from .errors import StoreBusy, StoreCorrupt, StoreMissing, StoreReadOnly

Raw = dict[str, Any]

LOCK_TIMEOUT = 15.0


class MemoryStorage(Storage):  # type: ignore[misc]
    """A TinyDB storage over a dict parsed once per transaction; writes mark it dirty.

    TinyDB reads the whole document on every operation; with this storage a transaction of
    several inserts parses the file once and writes it once.
    """

    def __init__(self, data: Raw) -> None:
        self.data = data
        self.dirty = False

    def read(self) -> Raw:
        return self.data

    def write(self, data: Raw) -> None:
        self.data = data
        self.dirty = True


def parse(path: Path, blob: bytes) -> Raw:
    """Parse the store's bytes; a broken file raises `StoreCorrupt` with line and column."""
    if not blob.strip():
        return {}
    enabled = gc.isenabled()
    gc.disable()  # halves orjson's parse time on large files: no cycles to find in fresh JSON
    try:
        data = orjson.loads(blob)
    except orjson.JSONDecodeError as exc:
        raise StoreCorrupt(str(path), exc.msg, exc.lineno, exc.colno) from None
    finally:
        if enabled:
            gc.enable()
    if not isinstance(data, dict):
        raise StoreCorrupt(str(path), "the top level is not a JSON object")
    return data


def read_raw(path: Path) -> Raw:
    """Read the store without the lock (safe: writers replace it atomically)."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except FileNotFoundError:
        raise StoreMissing(
            f"no store at {path}: create one with `teamboard --store {path} init` "
            "(or `init --demo` to try teamboard with sample data)"
        ) from None
    except IsADirectoryError:
        raise StoreMissing(f"{path} is a folder, not a store file: name a .json file") from None
    except PermissionError:
        raise StoreReadOnly(
            f"cannot read {path}: permission denied (ask its owner for g+r)"
        ) from None
    return parse(path, blob)


def _umask() -> int:
    """The process's umask, without the race of setting it (Linux reports it in /proc)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_writable(path: Path) -> None:
    """Fail early, with one clear line, when this user cannot change the store."""
    folder = path.parent
    file_ok = not path.exists() or os.access(path, os.W_OK)
    if not file_ok or not os.access(folder, os.W_OK | os.X_OK):
        what = "the store" if not file_ok else "its folder"  # a rename writes the folder
        raise StoreReadOnly(
            f"cannot write {path}: {what} is read-only for you. Reading works; to write, ask "
            f"its owner to make the file and folder group-writable (chmod g+w), or use --store."
        )


@contextmanager
def locked(
    path: Path, timeout: float = LOCK_TIMEOUT, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """An exclusive cross-process lock on `<store>.lock`, created with the store's mode.

    The lock file is never removed: removing it would let two writers lock two different inodes.
    """
    lock_path = path.with_name(path.name + ".lock")
    try:
        ref = os.stat(path)
        mode, gid = ref.st_mode & 0o666, ref.st_gid
    except FileNotFoundError:
        mode, gid = 0o666 & ~_umask(), -1
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
    except PermissionError:
        fd = _open_lock_read_only(lock_path)
    try:
        st = os.fstat(fd)
        if st.st_uid == os.geteuid() and (st.st_mode & 0o666) != mode:
            # umask made it narrower than the store: others in the group could not lock it.
            os.fchmod(fd, mode)
            if gid != -1 and st.st_gid != gid:
                _try_chown(fd, -1, gid)
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            if time.monotonic() > deadline:
                raise StoreBusy(
                    f"{path} stayed locked for {timeout:.0f} s by another writer; try again"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open_lock_read_only(lock_path: Path) -> int:
    """Open a lock file we may not write: `flock` needs no write access.

    A store opened up to the group after it was created (chmod g+w) keeps a lock file as narrow
    as the umask made it until its owner writes again; the team must still be able to lock it.
    """
    try:
        return os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise StoreReadOnly(
            f"cannot create the lock {lock_path}: the folder is not writable for you "
            "(chmod g+w on the folder lets the team write)"
        ) from None
    except PermissionError:
        raise StoreReadOnly(
            f"cannot open the lock {lock_path}: ask its owner to give the team access "
            "(chmod g+rw on it)"
        ) from None


def _try_chown(fd: int, uid: int, gid: int) -> None:
    # Not a member of that group: the file keeps ours, as the OS allows.
    with contextlib.suppress(PermissionError):
        os.fchown(fd, uid, gid)


def remove_stale_temps(path: Path) -> None:
    """Remove temp files a killed writer left behind. Call only under the lock: then no other
    writer can be half-way through one."""
    prefix, suffix = f".{path.name}.", ".tmp"
    with os.scandir(path.parent) as entries:
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(suffix):
                with contextlib.suppress(FileNotFoundError, PermissionError):
                    os.unlink(entry.path)


def write_atomic(path: Path, data: Raw) -> None:
    """Replace the store with `data`: temp file, fsync, same mode/owner/group, rename, fsync dir."""
    blob = orjson.dumps(data)
    try:
        ref: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        ref = None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            if ref is not None:
                os.fchmod(f.fileno(), ref.st_mode & 0o7777)
                if os.geteuid() == 0:
                    _try_chown(f.fileno(), ref.st_uid, ref.st_gid)
                elif ref.st_gid != os.getegid():
                    _try_chown(f.fileno(), -1, ref.st_gid)
            else:
                os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
