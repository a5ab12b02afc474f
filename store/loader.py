"""The board's loader process: parses the store off the app's process and hands back changes.

orjson holds the GIL for the whole parse (about 90 ms at 100,000 entries, a second at a
million), so a parse in a thread of the app freezes its event loop for as long. Here a child
process (`python -m store.loader PATH`, started by `tui.loader`) does the reading:

- it reads only when the file's identity (inode, mtime_ns, size) changed since the last good
  read (or when that read came within 2 s of a change: see `Reader.unchanged`), and otherwise
  answers "same";
- it builds the `Snapshot` as `Store.read` does, reusing the previous one: when the file is the
  last read's with documents appended to its entries table (what a record writes), it parses
  only the bytes that are new (`store.reread`, which proves it or declines) and decodes only
  the new entries; else it parses the whole file, and when the entries of the last read are
  still the first documents of the table, unchanged, it still decodes only the new ones;
- it sends the small tables whole and the entries as a delta (new or changed entries, ids gone),
  in chunks small enough that unpickling one never holds the app's GIL for long.

Protocol: the app writes one line per request (`load`); every reply is a frame (4-byte
big-endian length, then a pickle) of `("same",)`, `("failed", kind, text)` or
`("snap", full, Snapshot-without-entries, removed_ids, chunks, how)` followed by `chunks` frames,
each a list of entries as tuples (`pack`); `how` is `Reader.how` (the app keeps it, for tests and
for a look with a debugger: was the file parsed whole?).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import struct
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from . import reread, schema
from .db import Store
from .errors import StoreCorrupt, StoreError
from .model import Entry
from .snapshot import Snapshot
from .storage import parse, read_blob

CHUNK = 2000  # entries per frame: unpickling one takes a few ms
HEADER = struct.Struct(">I")

Fingerprint = tuple[int, int, int]
RACY_NS = 2_000_000_000  # coarser than any filesystem's timestamps (FAT: 2 s)


def fingerprint(path: Path) -> Fingerprint | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class Reader:
    """Reads a store again and again, as cheaply as the last read allows (`Store.read`'s answer,
    always: the same snapshot, or the same error)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.snapshot: Snapshot | None = None
        self.seen: Fingerprint | None = None
        self._table: dict[str, Any] = {}  # the entries table of the last good read
        self._layout: reread.Layout | None = None  # where it lies in that read's bytes
        self._pending: tuple[bytes, Any] | None = None  # a whole read's bytes and parse (`prime`)
        self.spent: dict[str, Any] = {}
        """The read before the last's documents: freed by `drop_spent` after the answer is
        sent (freeing a parse of 100,000 documents is tens of milliseconds)."""
        self._ids: set[int] | None = None  # the ids of `snapshot`'s entries (built when asked)
        self._read_at = 0  # time.time_ns() when the last read began
        self.appended: list[Entry] | None = None
        """After a read that only appended to the previous one: the new entries (else None)."""
        self.how = ""
        """How the last good read went: "spliced" (only the new bytes parsed), "appended" (the
        whole file parsed, only the new entries decoded) or "whole"."""

    def unchanged(self) -> bool:
        """Is the file surely the one last read? Its identity is the same, and it had not been
        modified for a while when it was read: a write in place within the filesystem's
        timestamp tick keeps inode, mtime and (often) size (git's "racily clean" rule)."""
        return (
            self.snapshot is not None
            and self.seen is not None
            and self.seen[1] < self._read_at - RACY_NS
            and fingerprint(self.store.path) == self.seen
        )

    def read(self) -> Snapshot:
        """The store now (raises `StoreError` as `Store.read` does); remembers it."""
        self._read_at = time.time_ns()
        seen = fingerprint(self.store.path)
        self.store._check_path()
        blob = read_blob(self.store.path)
        self.appended = None
        snap, how = self._spliced(blob), "spliced"
        if snap is None:
            raw = parse(self.store.path, blob)
            snap, how = self._incremental(raw), "appended"
            if snap is None:
                snap, how = self._whole(raw), "whole"
            self.spent, self._table = self._table, raw["entries"]
            self._layout, self._pending = None, (blob, raw)
        self.how = how
        if self.appended is None:
            self._ids = None
        elif self._ids is not None:
            self._ids.update(e.id for e in self.appended)
        self.snapshot, self.seen = snap, seen
        return snap

    def drop_spent(self) -> None:
        self.spent = {}

    def prime(self) -> None:
        """Work out where the last whole read's entries lie in its bytes (one serialisation of
        the store: `store.reread.layout`), so that the next read can parse only what is new.
        The server calls it after its answer is sent; a read does it first if it was not."""
        if self._pending is not None:
            blob, raw = self._pending
            self._pending = None
            self._layout = reread.layout(blob, raw)
        if self._ids is None and self.snapshot is not None:  # what the next append checks
            self._ids = set(self.snapshot.entries_by_id())

    def _spliced(self, blob: bytes) -> Snapshot | None:
        """The snapshot when the file is the last read's with entries appended, read from the
        new bytes only (`store.reread`); else None (then the whole file is parsed)."""
        self.prime()
        prev, base = self.snapshot, self._layout
        if prev is None or base is None:
            return None
        try:
            got = reread.splice(base, blob)
            if got is None:
                return None
            raw, table = got.raw, self._table
            new = raw["entries"]
            if any(key in table for key in new):
                return None  # a key twice: the later document would replace the earlier
            if schema.migrate(raw, str(self.store.path)):
                return None  # a store to migrate: read whole, as before
            snap = self._merge(prev, raw, got.layout.count)
        except Exception:  # whatever it is, the whole read meets it and says it
            self.appended = None
            return None
        if snap is None:
            return None
        table.update(new)
        self._layout = got.layout
        return snap

    def _whole(self, raw: dict[str, Any]) -> Snapshot:
        """`Store.read` on the parsed file."""
        path = str(self.store.path)
        version = schema.for_reading(raw, path)
        reuse = self.snapshot.entries_by_id() if self.snapshot is not None else None
        try:
            return Snapshot.from_raw(raw, path, reuse)
        except StoreCorrupt:
            if version > schema.SCHEMA:
                raise schema.too_new(version, path) from None
            raise

    def _incremental(self, raw: dict[str, Any]) -> Snapshot | None:
        """The snapshot when the last read's entries lead the table unchanged; else None (and
        then `_whole` decides, errors included)."""
        prev, old = self.snapshot, self._table
        if prev is None or not old or type(raw) is not dict:
            return None
        try:
            schema.for_reading(raw, str(self.store.path))
        except StoreError:
            return None
        table = raw.get("entries")
        if type(table) is not dict or len(table) < len(old):
            return None
        docs = list(table.values())
        if docs[: len(old)] != list(old.values()):  # compared in C: one pass, no objects built
            return None
        keys = list(table)
        tail = dict(zip(keys[len(old) :], docs[len(old) :], strict=True))
        return self._merge(prev, {**raw, "entries": tail}, len(table))

    def _merge(self, prev: Snapshot, raw: dict[str, Any], count: int) -> Snapshot | None:
        """`prev` with the entries of `raw` (the store's tables, its entries table holding only
        the documents appended since `prev`) added: the snapshot of the store whose entries
        table has `count` documents; None when the whole read must decide (errors included)."""
        try:
            part = Snapshot.from_raw(raw, str(self.store.path))
        except StoreError:
            return None
        if not prev.entries.keys() <= part.kpis.keys():
            return None  # a KPI the old entries name is gone: the whole check says so
        if self._ids is None:  # once after a whole read; then kept up to date with each append
            self._ids = set(prev.entries_by_id())
        ids = self._ids
        entries = dict(prev.entries)
        for kpi, new in part.entries.items():
            if any(e.id in ids for e in new):
                return None  # an id used twice: the whole check names it
            lst = [*entries.get(kpi, ()), *new]
            if len(lst) > len(new) and lst[len(lst) - len(new) - 1].id > new[0].id:
                lst.sort(key=lambda e: e.id)
            entries[kpi] = lst
        self.appended = [e for lst in part.entries.values() for e in lst]
        return replace(part, entries=entries, entry_count=count)


def delta(before: Snapshot | None, after: Snapshot) -> tuple[list[int], list[Entry]]:
    """Entry ids gone, and entries new or changed (by identity: reused entries are the same
    objects), from `before` to `after`."""
    old = before.entries_by_id() if before is not None else {}
    added: list[Entry] = []
    for lst in after.entries.values():
        for e in lst:
            if old.pop(e.id, None) is not e:
                added.append(e)
    return list(old), added


Row = tuple[int, int, int, float, float | None, str, str, str]


def pack(e: Entry) -> Row:
    """An entry as plain values (pickling a slots dataclass is ten times slower)."""
    return (e.id, e.kpi, e.day.toordinal(), e.value, e.plan, e.note, e.who, e.at)


def unpack(rows: list[Row]) -> list[Entry]:
    day = date.fromordinal
    return [Entry(i, k, day(d), v, p, n, w, a) for i, k, d, v, p, n, w, a in rows]


def write_frame(out: BinaryIO, obj: object) -> None:
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(HEADER.pack(len(blob)) + blob)


def serve(path: str, inp: BinaryIO, out: BinaryIO) -> None:
    """Answer each request line until the app closes the pipe."""
    # The collector off for good: every read makes a million fresh objects at 1,000,000
    # entries, and its passes would walk them (and the kept snapshot) again and again. A read
    # makes no cycles; a failed one may (a traceback), so a failure is followed by a collection.
    gc.disable()
    reader = Reader(Store(path))
    sent: Snapshot | None = None
    with contextlib.suppress(Exception):  # read ahead: the first request is then answered at once
        reader.read()
        reader.prime()
    for line in inp:
        if line.strip() != b"load":
            continue
        if reader.unchanged() and sent is not None:
            write_frame(out, ("same",))
            out.flush()
            continue
        before = reader.snapshot
        try:
            snap = reader.snapshot if reader.unchanged() else reader.read()
            assert snap is not None
        except StoreError as exc:
            write_frame(out, ("failed", "store", str(exc)))
            gc.collect()
        except Exception as exc:  # what a bad file raises, told to the app as it was
            write_frame(out, ("failed", type(exc).__name__, str(exc)))
            gc.collect()
        else:
            removed: list[int] = []
            if reader.appended is not None and sent is not None and before is sent:
                added = reader.appended  # known without comparing every entry
            else:
                removed, added = delta(sent, snap)
            rows = [pack(e) for e in added]
            chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
            head = replace(snap, entries={})
            write_frame(out, ("snap", sent is None, head, removed, len(chunks), reader.how))
            for chunk in chunks:
                write_frame(out, chunk)
            sent = snap
        out.flush()
        reader.drop_spent()
        reader.prime()  # after the answer: the next read of an append then parses only it


def main() -> int:
    path = sys.argv[1]
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        serve(path, sys.stdin.buffer, sys.stdout.buffer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
