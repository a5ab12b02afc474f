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

import gc
import os
import stat
from pathlib import Path
from typing import Any

import orjson

from .errors import StoreCorrupt, StoreError, StoreMissing, StoreReadOnly
from .lock import LOCK_TIMEOUT as LOCK_TIMEOUT  # re-exported: db.py and tests import them here
from .lock import locked as locked
from .lockfile import _login
from .safeio import _O_PATH as _O_PATH  # the light pieces, shared with `store.quick`
from .safeio import _WRITE_ERRORS as _WRITE_ERRORS
from .safeio import _chown_quietly as _chown_quietly
from .safeio import _temp_file as _temp_file
from .safeio import _umask as _umask
from .safeio import _write_failed as _write_failed
from .safeio import kind_of as kind_of
from .safeio import not_a_store_file as not_a_store_file
from .safeio import open_regular as open_regular
from .safeio import read_fd as read_fd
from .safeio import remove_stale_temps as remove_stale_temps
from .safeio import sync_folder as sync_folder
from .safeio import write_bytes as write_bytes

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
    write_bytes(path, data if isinstance(data, bytes) else orjson.dumps(data), ref, sync=sync)
