"""Opening, reading and replacing the store file safely: the pieces of `store.storage` that need
nothing but `os`, so that `teamboard record`'s lean core (`store.quick`) and the full path share
one copy of them (the full path reaches them through `store.storage`).

The folder is shared, so any name in it may be a symlink, a FIFO or a device someone planted:
the store is opened without following a link or blocking (`open_regular`), only a regular file
is read or replaced, and nothing is chmod-ed or chown-ed through a path. Paths may be `str` or
`Path` (the lean core does without `pathlib`'s import).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

from .errors import StoreError, StoreReadOnly
from .lockfile import file_kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    PathLike = str | Path


def kind_of(mode: int) -> str:
    """What a file that is not a regular one is, in words."""
    return file_kind(mode) or "a regular file"


def not_a_store_file(path: PathLike, mode: int) -> StoreError:
    if stat.S_ISLNK(mode):
        return StoreError(
            f"{path} became a symbolic link after teamboard resolved the store's path: someone "
            "may be redirecting the team's writes. Look at it (ls -l) and put the real file back"
        )
    return StoreError(
        f"{path} is {kind_of(mode)}, not a store file: teamboard reads and writes only a regular "
        "file. Remove it, or name another file with --store"
    )


_O_PATH = getattr(os, "O_PATH", 0)


def open_regular(path: PathLike, flags: int = os.O_RDONLY) -> int | None:
    """Open `path` only if it is a regular file, without following a symlink and without
    blocking on a FIFO or a device; None when it does not exist.

    On Linux the path is first opened with O_PATH (which opens nothing but the name), checked
    with fstat, then the same inode is reopened through /proc: no race between check and open.
    """
    try:
        if _O_PATH and os.path.isdir("/proc/self/fd"):
            pfd = os.open(path, _O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                st = os.fstat(pfd)
                if not stat.S_ISREG(st.st_mode):
                    raise not_a_store_file(path, st.st_mode)
                return os.open(f"/proc/self/fd/{pfd}", flags | os.O_CLOEXEC)
            finally:
                os.close(pfd)
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except PermissionError:
        raise StoreReadOnly(
            f"cannot read {path}: permission denied (ask its owner for g+r)"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise not_a_store_file(path, stat.S_IFLNK) from None
        if exc.errno == errno.ENXIO:
            raise not_a_store_file(path, stat.S_IFSOCK) from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise not_a_store_file(path, st.st_mode)
    return fd


def read_fd(fd: int) -> tuple[bytes, os.stat_result]:
    """All of an open file, and its stat; closes the descriptor."""
    with os.fdopen(fd, "rb") as f:
        return f.read(), os.fstat(f.fileno())


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


def _split(path: PathLike) -> tuple[str, str]:
    """The folder and the name of a store path (`Path.parent`, `Path.name`)."""
    folder, name = os.path.split(os.fspath(path))
    return folder or ".", name


def remove_stale_temps(path: PathLike) -> None:
    """Remove temp files a killed writer left behind. Call only under the lock: then no other
    writer can be half-way through one. (unlink never follows a symlink.)"""
    folder, name = _split(path)
    prefix, suffix = f".{name}.", ".tmp"
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(suffix):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


_WRITE_ERRORS = {
    errno.ENOSPC: "no space is left on the device",
    errno.EDQUOT: "your disk quota is used up",
    errno.EROFS: "the filesystem is read-only",
    errno.EIO: "the disk reported an I/O error",
    errno.EFBIG: "the file is too large for the filesystem",
}


def _temp_file(path: PathLike) -> tuple[int, str]:
    """`tempfile.mkstemp` in the store's folder (mode 0600, never an existing name or a link),
    without importing `tempfile` and `random`: start-up time every record pays."""
    folder, name = _split(path)
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", folder)


def write_bytes(
    path: PathLike, blob: bytes, ref: os.stat_result | None = None, *, sync: bool = True
) -> None:
    """Replace the store with `blob`: temp file, fsync, the old file's mode, owner and group
    (`ref`, from fstat of the file we read: never a stat through a path), rename, fsync dir
    (see `store.storage.write_atomic`, which serialises a parsed store and calls this)."""
    try:
        fd, tmp = _temp_file(path)
    except OSError as exc:
        raise _write_failed(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            if ref is not None:
                os.fchmod(f.fileno(), ref.st_mode & 0o7777)
                if os.geteuid() == 0:
                    _chown_quietly(f.fileno(), ref.st_uid, ref.st_gid)
                elif ref.st_gid != os.getegid():
                    _chown_quietly(f.fileno(), -1, ref.st_gid)
            else:
                os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRORS:
            raise _write_failed(path, exc) from None
        raise
    if sync:
        sync_folder(path)


def sync_folder(path: PathLike) -> None:
    """fsync the store's folder, so the rename that replaced the store survives a crash."""
    dfd = os.open(_split(path)[0], os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dfd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # some filesystems cannot sync a folder
            raise _write_failed(path, exc, written=True) from None
    finally:
        os.close(dfd)


def _chown_quietly(fd: int, uid: int, gid: int) -> None:
    # Not a member of that group: the file keeps ours, as the OS allows.
    with contextlib.suppress(PermissionError):
        os.fchown(fd, uid, gid)


def _write_failed(path: PathLike, exc: OSError, written: bool = False) -> StoreError:
    why = _WRITE_ERRORS.get(exc.errno or 0) or exc.strerror or str(exc)
    if written:
        return StoreError(f"wrote {path} but could not sync its folder: {why}; check the disk")
    return StoreError(
        f"could not write {path}: {why}. The store is unchanged; free some space or fix the "
        "disk, then try again"
    )


CACHE_ENV = "TEAMBOARD_CACHE"


def cache_folder() -> str | None:
    """The user's own folder for what `record` remembers between runs (`store.checked`'s proofs,
    `store.quick`'s checked tables): `$TEAMBOARD_CACHE`, else `$XDG_CACHE_HOME/teamboard`, else
    `~/.cache/teamboard`; never beside the shared store. None: none to use (an empty
    `$TEAMBOARD_CACHE` turns both off; a relative one is not trusted)."""
    given = os.environ.get(CACHE_ENV)
    if given is not None:
        return given if os.path.isabs(given) else None
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "teamboard") if os.path.isabs(base) else None
