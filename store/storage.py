"""The one place that touches the store file: a TinyDB `Storage`, the lock, and atomic replacement.

Plain TinyDB rewrites its file in place and caches ids and queries per instance, which tears and
loses writes when several processes share a file (see STACK-NOTES). Here every change is:
take the store's lock (`store.lock`), parse the store once, let a fresh TinyDB work on that dict
in memory, then write a temp file in the same folder, fsync it, give it the mode, owner and group
of the file that was read, and `os.replace` it over the store. Readers never take the lock: a
rename is atomic, so they see the old file or the new one, never half of one.

The folder is shared, so any name in it may be a symlink, a FIFO or a device someone planted:
the store is opened without following a link or blocking (`open_regular`), only a regular file
is read or replaced, and nothing is chmod-ed or chown-ed through a path.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import stat
from pathlib import Path
from typing import Any

import orjson

from .errors import StoreCorrupt, StoreError, StoreMissing, StoreReadOnly
from .lock import LOCK_TIMEOUT as LOCK_TIMEOUT  # re-exported: db.py and tests import them here
from .lock import locked as locked
from .lockfile import _login, file_kind

Raw = dict[str, Any]


def parse(path: Path, blob: bytes) -> Raw:
    """Parse the store's bytes; a broken file raises `StoreCorrupt` with line and column.

    The result may be any JSON value: `store.schema.identify` says what it is.
    """
    enabled = gc.isenabled()
    gc.disable()  # halves orjson's parse time on large files: no cycles to find in fresh JSON
    try:
        data = orjson.loads(blob)
    except orjson.JSONDecodeError as exc:
        raise StoreCorrupt(str(path), exc.msg, exc.lineno, exc.colno) from None
    finally:
        if enabled:
            gc.enable()
    return data  # type: ignore[no-any-return]


def missing(path: Path) -> StoreMissing:
    return StoreMissing(
        f"no store at {path}: create one with `teamboard --store {path} init` "
        "(or `init --demo` to try teamboard with sample data)"
    )


def kind_of(mode: int) -> str:
    """What a file that is not a regular one is, in words."""
    return file_kind(mode) or "a regular file"


def not_a_store_file(path: Path, mode: int) -> StoreError:
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


def open_regular(path: Path, flags: int = os.O_RDONLY) -> int | None:
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


def read_raw(path: Path) -> Raw:
    """Read the store without the lock (safe: writers replace it atomically).

    A missing or zero-byte file is no store yet; anything but a regular file is refused.
    """
    return parse(path, read_blob(path))  # type: ignore[no-any-return]


def read_blob(path: Path) -> bytes:
    """`read_raw`'s bytes, before the parse (the board's loader may parse only part of them)."""
    fd = open_regular(path)
    if fd is None:
        raise missing(path)
    blob, _ = read_fd(fd)
    if not blob.strip():
        raise missing(path)
    return blob


# --- the store's path ------------------------------------------------------------------------


def _trusted_link(link: Path, st: os.stat_result) -> bool:
    """Follow a symlink that we, root or the folder's owner made, or one in a folder only its
    owner can write; not one a teammate planted in the shared folder (it could point anywhere)."""
    if st.st_uid in (os.geteuid(), 0):
        return True
    folder = os.stat(link.parent)
    return st.st_uid == folder.st_uid or not folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def resolve(path: Path) -> Path:
    """The real file behind the store path the user gave.

    The user's own symlinks are followed, so every path to one store reaches one file and one
    lock; a symlink someone else made in a folder the team can write is refused in one line.
    Parts that do not exist yet are kept as they are (`init` creates them).
    """
    current = Path(path.anchor or "/") if path.is_absolute() else Path.cwd()
    todo = list(path.parts[1:] if path.is_absolute() else path.parts)
    hops = 0
    while todo:
        name = todo.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            current = current.parent
            continue
        step = current / name
        try:
            st = os.lstat(step)
        except OSError:  # missing, or not ours to look into: opening it later says which
            return step.joinpath(*todo)
        if not stat.S_ISLNK(st.st_mode):
            current = step
            continue
        hops += 1
        if hops > 40:
            raise StoreError(f"{path}: too many levels of symbolic links; name the real file")
        target = Path(os.readlink(step))
        if not _trusted_link(step, st):
            owner = _login(st.st_uid)
            raise StoreError(
                f"{step} is a symbolic link that {owner} made in a folder the team can write: "
                "teamboard does not follow such links (they could send everyone's writes "
                f"elsewhere). If you trust it, name its target: --store {target}"
            )
        todo = list(target.parts[1:] if target.is_absolute() else target.parts) + todo
        if target.is_absolute():
            current = Path(target.anchor)
    return current


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
    try:
        st: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not os.access(path, os.R_OK):
        raise StoreReadOnly(
            f"cannot read or write {path}: only {_login(st.st_uid)} may (mode "
            f"{stat.S_IMODE(st.st_mode):o}); ask them to share it with the team (chmod g+rw)"
        )
    file_ok = st is None or os.access(path, os.W_OK)
    if not file_ok or not os.access(folder, os.W_OK | os.X_OK):
        what = "the store" if not file_ok else "its folder"  # a rename writes the folder
        raise StoreReadOnly(
            f"cannot write {path}: {what} is read-only for you. Reading works; to write, ask "
            f"its owner to make the file and folder group-writable (chmod g+w), or use --store."
        )
    me = os.geteuid()
    if st is not None and me != 0 and st.st_uid != me:
        fst = os.stat(folder)
        if fst.st_mode & stat.S_ISVTX and fst.st_uid != me:
            raise StoreReadOnly(
                f"cannot write {path}: its folder is sticky (like /tmp), so only "
                f"{_login(st.st_uid)}, who owns the store, may replace it. Keep a shared store "
                "in a group folder without the sticky bit (see the README: Sharing one store)"
            )


def remove_stale_temps(path: Path) -> None:
    """Remove temp files a killed writer left behind. Call only under the lock: then no other
    writer can be half-way through one. (unlink never follows a symlink.)"""
    prefix, suffix = f".{path.name}.", ".tmp"
    with os.scandir(path.parent) as entries:
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


def _temp_file(path: Path) -> tuple[int, str]:
    """`tempfile.mkstemp` in the store's folder (mode 0600, never an existing name or a link),
    without importing `tempfile` and `random`: start-up time every record pays."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        tmp = os.path.join(path.parent, f".{path.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def write_atomic(
    path: Path, data: Raw | bytes, ref: os.stat_result | None = None, *, sync: bool = True
) -> None:
    """Replace the store with `data`: temp file, fsync, the old file's mode, owner and group
    (`ref`, from fstat of the file we read: never a stat through a path), rename, fsync dir.

    `data` is the store, or its serialisation by `orjson.dumps` (made before the lock).
    A write that cannot complete leaves the store byte-identical, removes its temp file and
    raises one line saying why. With `sync` False the folder is not synced: the caller calls
    `sync_folder` itself, once it has let go of the lock (a writer that comes next reads the
    renamed file either way, and syncs the folder before it reports its own write).
    """
    blob = data if isinstance(data, bytes) else orjson.dumps(data)
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


def sync_folder(path: Path) -> None:
    """fsync the store's folder, so the rename that replaced the store survives a crash."""
    dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
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


def _write_failed(path: Path, exc: OSError, written: bool = False) -> StoreError:
    why = _WRITE_ERRORS.get(exc.errno or 0) or exc.strerror or str(exc)
    if written:
        return StoreError(f"wrote {path} but could not sync its folder: {why}; check the disk")
    return StoreError(
        f"could not write {path}: {why}. The store is unchanged; free some space or fix the "
        "disk, then try again"
    )
