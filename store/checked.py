"""Entries tables this user's `record` has already checked, remembered by the SHA-256 of their
bytes, so that the next record on a big store checks only the entries appended since.

Before it appends, `record`'s fast path (`store.fastpath`) checks every entry of the store as
the decoders would (types, ranges, dates, unique ids, canonical keys): at 100,000 entries that
is about half the cost of the parse. But records append: the entries table a record reads is,
byte for byte, the one the previous record wrote, with a few members more.

A `Proof` says: "the bytes `{` + members whose SHA-256 is `digest`, `size` bytes long, are
`count` members that passed `check_entries`, naming these KPIs, these largest id and key".
It is a statement about bytes, true of any store that holds them, so it is kept per store only
to keep one for each. When a canonical store's entries table begins with exactly those bytes
followed by a comma (or its closing brace), its first `count` members are those (the parse of
a prefix depends only on its bytes, and a canonical file holds no key twice), and only the rest
need checking (`fastpath.check_known`).

Trust: a proof lives in the user's own cache folder (`$TEAMBOARD_CACHE`, else
`$XDG_CACHE_HOME/teamboard`, else `~/.cache/teamboard`), never beside the shared store, and is
read only from a regular file (not a link) that the user owns and nobody else may write. Only
this module writes one, right after a check passed. A file that is not exactly what `save`
writes is ignored; any trouble with the folder means no proof (the whole check), never an
error. `VERSION` changes whenever the checks do, so a proof made by other checks is ignored.
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import TYPE_CHECKING

import orjson

from .safeio import CACHE_ENV, cache_folder

if TYPE_CHECKING:
    from pathlib import Path

VERSION = 1  # of `fastpath.check_entries`' conditions; a proof of another version is ignored
MIN = 4096
"""Entries below which no proof is used or kept: the whole check costs less than the hash."""
ENV = CACHE_ENV


class Proof:
    """Checked entries: see the module's docstring."""

    __slots__ = ("count", "digest", "kpis", "max_id", "max_key", "size")

    def __init__(
        self, size: int, digest: bytes, count: int, kpis: set[int], max_id: int, max_key: int
    ) -> None:
        self.size, self.digest, self.count = size, digest, count
        self.kpis, self.max_id, self.max_key = kpis, max_id, max_key


def folder() -> str | None:
    """The user's cache folder for proofs (`safeio.cache_folder`)."""
    return cache_folder()


def _name(store: Path) -> str | None:
    import hashlib

    where = folder()
    if where is None:
        return None
    key = hashlib.sha256(os.fsencode(os.path.abspath(store))).hexdigest()[:32]
    return os.path.join(where, f"entries-{key}.json")


def load(store: Path) -> Proof | None:
    """The proof kept for `store`, when there is one this user wrote and it reads exactly as
    `save` writes it; else None."""
    name = _name(store)
    if name is None:
        return None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_uid != os.geteuid()
            or st.st_mode & 0o022
            or st.st_size > 65536
        ):
            return None
        got = orjson.loads(os.read(fd, 65536))
    except (OSError, orjson.JSONDecodeError):
        return None
    finally:
        os.close(fd)
    return _proof(got)


def _proof(got: object) -> Proof | None:
    """A `Proof` from what `save` wrote, checked field by field."""
    if type(got) is not dict or got.get("version") != VERSION:
        return None
    size, digest, count = got.get("size"), got.get("sha256"), got.get("count")
    kpis, max_id, max_key = got.get("kpis"), got.get("max_id"), got.get("max_key")
    ints = (size, count, max_id, max_key)
    if not all(type(i) is int and i >= 0 for i in ints) or type(kpis) is not list:
        return None
    if not all(type(k) is int for k in kpis) or type(digest) is not str or len(digest) != 64:
        return None
    try:
        raw = bytes.fromhex(digest)
    except ValueError:
        return None
    assert type(size) is int and type(count) is int  # for mypy: checked above
    assert type(max_id) is int and type(max_key) is int
    return Proof(size, raw, count, set(kpis), max_id, max_key)


def save(store: Path, proof: Proof) -> None:
    """Keep `proof` for `store` (replacing the last one), quietly: a proof not kept costs the
    next record the whole check, nothing else."""
    name = _name(store)
    if name is None:
        return
    doc = {
        "version": VERSION,
        "size": proof.size,
        "sha256": proof.digest.hex(),
        "count": proof.count,
        "kpis": sorted(proof.kpis),
        "max_id": proof.max_id,
        "max_key": proof.max_key,
    }
    where = os.path.dirname(name)
    tmp = f"{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        os.makedirs(where, mode=0o700, exist_ok=True)
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        try:
            os.write(fd, orjson.dumps(doc))
        finally:
            os.close(fd)
        os.replace(tmp, name)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


__all__ = ["ENV", "MIN", "VERSION", "Proof", "folder", "load", "save"]
