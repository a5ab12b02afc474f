"""`record` without the whole store's read model: the command people run most, kept close to the
floor (parse the file, append one document, write it back).

The general transaction (`Store.transaction`) builds a `Snapshot` of everything (100,000 `Entry`
objects at 100,000 entries) and lets TinyDB copy the table on insert. A record needs far less:
the boards and KPIs (to find the KPI by name), the entries of that KPI and of its counter-metric
(for the status line), and the open actions. Everything else is only *checked*, with the same
conditions the decoders apply, column by column, without building objects.

What it writes is byte for byte what the general path writes: the same document under the key
TinyDB would give it, the same id sequence, the same `last_change`. Whenever the store is not
plainly well-formed (a table that is not an object, a key that is not a canonical number, an
entry the decoders would reject, a schema to migrate), it lets go of the lock and hands over to
the general path (`store.ops`), which says what is wrong exactly as before.

Checking every entry costs about half a parse at 100,000 entries, and records append. So a
record checks only the entries after those this user has checked before (`store.checked`: a
SHA-256 of their bytes in the user's own cache, `_Vouch`), and a process that records again
keeps the store it wrote (`_Memo`) and parses only what others appended since.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

import orjson

from . import checked, codec, entrycheck, schema
from .model import Entry, Kpi
from .rules import KpiView, view_kpis
from .snapshot import Snapshot
from .splice import Appended, Layout, appended, compose, layout, member
from .storage import (
    locked,
    missing,
    open_regular,
    parse,
    read_fd,
    remove_stale_temps,
    sync_folder,
    write_atomic,
)

if TYPE_CHECKING:
    from hashlib import _Hash as Hash
    from pathlib import Path

    from .db import Store

Ref = str | int
Raw = dict[str, Any]
Doc = dict[str, Any]


@dataclass(frozen=True)
class Recorded:
    entry: Entry
    view: KpiView
    superseded: Entry | None


class _Fallback(Exception):
    """The store is not one the fast path vouches for: the general path takes over."""


def record(
    store: Store,
    kpi: Ref,
    value: float,
    day: date,
    today: date,
    board: Ref | None = None,
    plan: float | None = None,
    note: str = "",
    now: datetime | None = None,
    *,
    fallback: Callable[..., Recorded],
) -> Recorded:
    """Record an actual (see `store.ops.record`, which this serves); `fallback` is the general
    path, called with the same arguments when the store needs it.

    Under the lock: the read and the write. When the file's bytes are still those `_prepare`
    worked from just before the lock, nothing else; when only records came in between (other
    writers queued with us), their entries are checked and ours is appended after them in the
    bytes (`_splice`); else the parse, checks, append and serialisation are done again there.
    Who is looked up before it, the folder synced and the status line (decoding the KPI's
    entries and judging them) worked out after it, from documents nobody else can change."""
    from .db import utcnow, whoami

    if store.engine != "file":  # another engine takes the general path (PostgreSQL: its own)
        return fallback(store, kpi, value, day, today, board, plan=plan, note=note, now=now)
    store.ready_to_write()
    who = whoami()  # a lookup in the user database: before the lock; the time is taken in it
    path = str(store.path)
    # The collector stays off from the parse to the status line: re-enabled in between, its
    # first passes would walk every freshly parsed document (millions of objects at 1,000,000
    # entries), several times. Nothing here makes cycles; refcounting frees it.
    enabled = gc.isenabled()
    gc.disable()
    try:  # used up by this record either way (its store is appended to); pop is atomic
        memo: _Memo | None = _memos.pop()
    except IndexError:
        memo = None
    try:
        early = _prepare(store.path, kpi, value, day, board, plan, note, who, memo)
        del memo
        with locked(store.path, store.lock_timeout, store.on_wait):
            fd = open_regular(store.path)
            blob, ref = read_fd(fd) if fd is not None else (b"", None)
            out: Raw | bytes
            if early is not None and blob == early.blob:
                # The bytes read before the lock: the same parse, checks, append and output.
                raw, added, out = early.raw, early.added, early.out
                at = utcnow()
                if at != early.at:  # a second passed: the write's time, as always
                    added.doc["at"] = raw["meta"]["1"]["last_change"]["at"] = at
                    out = early.output() if early.lay is not None else raw
            elif early is not None and (
                spliced := _splice(early, blob, path, kpi, value, day, board, plan, note, who)
            ):
                # Only records got in between: just their entries checked, ours appended.
                raw, (added, out) = early.raw, spliced
            else:
                early = None  # changed otherwise (or no early work): let go of it first
                if not blob.strip():
                    raise missing(store.path)
                raw = parse(store.path, blob)
                if schema.migrate(raw, path):
                    raise _Fallback("the store needs migrating")
                ok = _check(raw, path)
                at = utcnow()
                added = _add(raw, ok, kpi, value, day, board, plan, note, who, at)
                out = raw
            remove_stale_temps(store.path)
            write_atomic(store.path, out, ref, sync=False)
            written = _kept(early, out, raw, added, path)
            del blob, early
        sync_folder(store.path)  # the rename made durable: after the lock, before the answer
        if written is not None:
            if written.hasher is not None:
                checked.save(store.path, written.proof())
            if len(raw["entries"]) <= MEMO_MAX:
                _memos[:] = [written]
        del raw, out, written
        return added.recorded(day, today, now)
    except _Fallback:
        pass
    finally:
        if enabled:
            gc.enable()
    return fallback(store, kpi, value, day, today, board, plan=plan, note=note, now=now)


_Checked = tuple["EntriesTable", Snapshot]


class _Early:
    """A record worked out before the lock: the bytes it read (and their `lay`out, when they
    are canonical), the store with the entry appended, the bytes to write, and the time it
    wrote into them."""

    __slots__ = ("added", "at", "blob", "hasher", "lay", "out", "raw")

    def __init__(
        self,
        blob: bytes,
        lay: Layout | None,
        raw: Raw,
        added: _Appended,
        out: bytes,
        at: str,
        hasher: Hash | None = None,
    ) -> None:
        self.blob, self.lay, self.raw = blob, lay, raw
        self.added, self.out, self.at = added, out, at
        self.hasher = hasher  # SHA-256 of the entries table read, less its `}` (`checked`)

    def output(self) -> bytes:
        """The bytes to write, made again from `blob` (its layout known) after a change to
        the appended entry or to `meta` (the time of the write)."""
        assert self.lay is not None
        added = self.added
        return compose(self.blob, self.lay, self.raw["meta"], member(added.key, added.doc))


def _prepare(
    path: Path,
    kpi: Ref,
    value: float,
    day: date,
    board: Ref | None,
    plan: float | None,
    note: str,
    who: str,
    memo: _Memo | None = None,
) -> _Early | None:
    """The record worked out before the lock is taken, from the store as it is now (readers
    need no lock: a write replaces the file whole): read, parse, check, append, serialise.

    Under the lock the file is read again; when its bytes are still these, this is what the
    lock's holder would compute, and only the write is left; when only records came in
    between, only their entries are checked (`_splice`); else all of it is done again there.
    None at the first doubt (not a regular file, broken, to migrate, not one the fast path
    vouches for, no such KPI): then everything happens under the lock, which says what is
    wrong exactly as before.

    With a `memo` of this process's last write to the same store, and only records since,
    nothing is parsed but what they appended (`_Memo.advance`)."""
    from .db import utcnow

    try:
        fd = open_regular(path)
        if fd is None:
            return None
        blob = read_fd(fd)[0]
        if memo is not None and memo.path == str(path):
            known = memo.advance(blob)
            if known is not None:
                table, now, hasher = known
                raw, at = memo.raw, utcnow()
                added = _add(raw, (table, memo.snap), kpi, value, day, board, plan, note, who, at)
                out = compose(blob, now, raw["meta"], member(added.key, added.doc))
                return _Early(blob, now, raw, added, out, at, hasher)
            del memo
        raw = parse(path, blob)
        if schema.migrate(raw, str(path)):
            return None
        vouch = _Vouch.of(path, blob, raw)
        lay = layout(blob, raw, vouch)  # before the append: the bytes as they are
        table, hasher = check_known(raw["entries"], blob, lay, vouch)
        ok = _check(raw, str(path), table)
        at = utcnow()
        added = _add(raw, ok, kpi, value, day, board, plan, note, who, at)
        if lay is None:
            return _Early(blob, None, raw, added, orjson.dumps(raw), at)
        out = compose(blob, lay, raw["meta"], member(added.key, added.doc))
        return _Early(blob, lay, raw, added, out, at, hasher)
    except Exception:  # any doubt: the work is done under the lock instead
        return None


def _splice(
    early: _Early,
    blob: bytes,
    path: str,
    kpi: Ref,
    value: float,
    day: date,
    board: Ref | None,
    plan: float | None,
    note: str,
    who: str,
) -> tuple[_Appended, bytes] | None:
    """Under the lock, the file is no longer what `early` read: when only records came in
    between (`splice.appended`: a new `meta` alike but for the entries' id sequence and
    `last_change`, and entries appended), check just the new entries as `_check` checks
    every one, append ours after them and give the bytes to write, which are what the
    general path would write. None otherwise: then everything is done again.

    `early` is used up either way (its store is the one appended to)."""
    from .db import utcnow

    lay = early.lay
    if lay is None:
        return None
    got = appended(early.blob, lay, blob)
    if got is None:
        return None
    raw, old = early.raw, early.added
    merged = _merge(old.entries, old.snap, got, old.key)
    if merged is None:
        return None
    raw["meta"] = got.meta
    added = _add(raw, (merged, old.snap), kpi, value, day, board, plan, note, who, utcnow())
    members = orjson.dumps(got.entries)[1:-1]
    ours = member(added.key, added.doc)
    out = compose(early.blob, lay, raw["meta"], members + b"," + ours if members else ours)
    return added, out


def _merge(
    table: EntriesTable, snap: Snapshot, got: Appended, ours: str | None
) -> EntriesTable | None:
    """`table` (the checked entries of the bytes `got` was found appended to, plus our own
    early entry under the key `ours`, if any, which the file does not hold) made the file's
    table now: `got`'s new entries checked as `_check` checks every one, ours taken out and
    theirs appended, in place. None when they are not sound (then everything is done again)."""
    try:
        new = check_entries(got.entries)
        if got.entries and min(map(int, got.entries)) <= table.max_key:
            return None  # a key TinyDB would have given already
        if new.ids and min(new.ids) <= table.max_id and new.ids & _ids_less(table, ours):
            return None  # an id used twice
        if new.kpis - snap.kpis.keys():
            return None
        codec.decode_change(got.meta.get("1", {}))  # what the general path checks of meta
    except (_Fallback, codec.Malformed):
        return None
    if ours is not None:
        del table.entries[ours]
    table.entries.update(got.entries)
    return EntriesTable(
        table.entries,
        table.kpis | new.kpis,
        max(table.max_id, new.max_id),
        max(table.max_key, new.max_key),
        None,  # not needed again: a record appends one entry
    )


MEMO_MAX = 50_000
"""Entries up to which a process keeps the store it last wrote (`_Memo`): a process that
records again (a script, the board) then parses only what others appended since."""


class _Memo:
    """The store as this process's last record wrote it, all of it checked: its bytes and
    their layout, the parse (the very documents written), the checked entries and small
    tables, and the SHA-256 of its entries table less the `}` (for `checked`; None for a small
    table). Kept in memory only: nothing outside this process can change it."""

    __slots__ = ("blob", "hasher", "lay", "path", "raw", "snap", "table")

    def __init__(
        self,
        path: str,
        blob: bytes,
        lay: Layout,
        raw: Raw,
        table: EntriesTable,
        snap: Snapshot,
        hasher: Hash | None,
    ) -> None:
        self.path, self.blob, self.lay, self.raw = path, blob, lay, raw
        self.table, self.snap, self.hasher = table, snap, hasher

    def advance(self, blob: bytes) -> tuple[EntriesTable, Layout, Hash | None] | None:
        """The checked entries, layout and hash of `blob` when it is these bytes with records
        appended since (`splice.appended`; `raw` is then made its parse, in place), else None
        (`raw` may be half changed: the memo is used up either way)."""
        got = appended(self.blob, self.lay, blob)
        if got is None:
            return None
        table = _merge(self.table, self.snap, got, None)
        if table is None:
            return None
        self.raw["meta"] = got.meta
        lay, hasher = got.layout, self.hasher
        if hasher is not None:
            hasher = hasher.copy()
            hasher.update(memoryview(blob)[lay.start + self.lay.close - self.lay.start : lay.close])
        return table, lay, hasher

    def proof(self) -> checked.Proof:
        """The proof of the entries table these bytes hold (`checked`)."""
        assert self.hasher is not None
        t = self.table
        size = self.lay.close - self.lay.start
        return checked.Proof(
            size, self.hasher.digest(), len(t.entries), t.kpis, t.max_id, t.max_key
        )


_memos: list[_Memo] = []
"""The store this process's last record wrote, if kept: a list, so that two threads recording
at once never take the same one (`list.pop` is one step under the GIL)."""


def _record(
    raw: Raw,
    path: str,
    kpi: Ref,
    value: float,
    day: date,
    today: date,
    board: Ref | None,
    plan: float | None,
    note: str,
    who: str,
    at: str,
    now: datetime | None = None,
) -> Recorded:
    """Check the store, find the KPI, append the entry to `raw` (in place): what the general
    path does, less the objects nobody looks at. (`record` does the two halves apart, to let go
    of the lock in between; `store.pg.record` calls this.)"""
    return _append(raw, path, kpi, value, day, board, plan, note, who, at).recorded(day, today, now)


class _Appended:
    """An entry appended to the parsed store, and what its status line needs: the small
    tables and the entries table (read, never changed, after the write). (A plain class: a
    dataclass costs a record about a millisecond of start-up to build.)"""

    __slots__ = ("doc", "entries", "key", "kpi", "snap")

    def __init__(self, snap: Snapshot, kpi: Kpi, entries: EntriesTable, doc: Doc, key: str) -> None:
        self.snap, self.kpi, self.entries, self.doc = snap, kpi, entries, doc
        self.key = key  # its TinyDB key

    def recorded(self, day: date, today: date, now: datetime | None) -> Recorded:
        """The status line's view of the KPI, and the value this one supersedes."""
        snap, k = self.snap, self.kpi
        wanted = {k.id}
        if k.counter is not None and k.counter in snap.kpis:
            wanted.add(k.counter)
        mine: dict[int, list[Entry]] = {i: [] for i in wanted}
        for key, d in self.entries.of(wanted):
            if d is not self.doc:
                mine[d["kpi"]].append(codec.decode_entry(d, key))
        for lst in mine.values():
            lst.sort(key=lambda e: e.id)
        before = [e for e in mine[k.id] if e.day == day]
        entry = codec.decode_entry(self.doc)
        mine[k.id].append(entry)
        kpis = [snap.kpis[i] for i in sorted(wanted, key=lambda i: i != k.id)]
        names = {b.id: b.name for b in snap.boards.values()}
        view = view_kpis(
            kpis, mine, list(snap.actions.values()), names, today,
            now=now, estimates_of=snap.estimates, explanations_of=snap.explanations,
        )[0]  # fmt: skip
        return Recorded(entry, view, before[-1] if before else None)


def _append(
    raw: Raw,
    path: str,
    kpi: Ref,
    value: float,
    day: date,
    board: Ref | None,
    plan: float | None,
    note: str,
    who: str,
    at: str,
) -> _Appended:
    """Check the store, find the KPI and append the entry to `raw` (in place), as `Tx.insert`
    would; raise `_Fallback` for a store the checks do not vouch for."""
    return _add(raw, _check(raw, path), kpi, value, day, board, plan, note, who, at)


def _check(raw: Raw, path: str, table: EntriesTable | None = None) -> _Checked:
    """Every entry checked (`check_entries`, unless `table` is its answer already) and the
    small tables decoded and cross-checked by the general code; raise `_Fallback` at the first
    doubt. Changes nothing in `raw`."""
    table_of_entries = check_entries(raw["entries"]) if table is None else table
    small = dict(raw)
    small["entries"] = {}
    try:
        snap = Snapshot.from_raw(small, path)
    except Exception as exc:
        raise _Fallback("a document is malformed") from exc
    unknown = table_of_entries.kpis - snap.kpis.keys()
    if unknown:
        raise _Fallback("an entry names a KPI that does not exist")
    return table_of_entries, snap


def _add(
    raw: Raw,
    checked: _Checked,
    kpi: Ref,
    value: float,
    day: date,
    board: Ref | None,
    plan: float | None,
    note: str,
    who: str,
    at: str,
) -> _Appended:
    """Find the KPI and append the entry to the checked `raw` (in place), as `Tx.insert` would:
    our id sequence, TinyDB's next key, who and when."""
    table_of_entries, snap = checked
    k = snap.kpi_ref(kpi, board)  # a NotFound here is the same answer the general path gives
    meta = raw["meta"]["1"]
    seq = meta.setdefault("seq", {})
    if "entries" not in seq:
        seq["entries"] = table_of_entries.max_id
    seq["entries"] += 1
    doc = {"id": int(seq["entries"]), **codec.entry_doc(k.id, day, value, plan, note),
           "who": who, "at": at}  # fmt: skip
    stored = dict(doc)
    key = str(table_of_entries.max_key + 1)
    raw["entries"][key] = stored
    meta["last_change"] = {"who": who, "at": at, "what": f"recorded {k.name} = {value:g}"}
    return _Appended(snap, k, table_of_entries, stored, key)


class EntriesTable:
    """What the fast path learned while checking the entries table."""

    __slots__ = ("entries", "ids", "kpis", "max_id", "max_key")

    def __init__(
        self,
        entries: dict[str, Doc],
        kpis: set[int],
        max_id: int,
        max_key: int,
        ids: set[int] | None,
    ) -> None:
        self.entries = entries
        self.kpis = kpis  # every KPI an entry names
        self.max_id = max_id  # the largest entry id (0 when none)
        self.max_key = max_key  # the largest TinyDB key (0 when none)
        self.ids = ids  # every entry's id; None when not gathered (`check_known`)

    def of(self, wanted: set[int]) -> list[tuple[str, Doc]]:
        """The (key, document) pairs of the `wanted` KPIs' entries."""
        return [(key, d) for key, d in self.entries.items() if d["kpi"] in wanted]


def _ids_less(table: EntriesTable, key: str | None) -> set[int]:
    """The ids of `table`'s entries but the one under `key` (ours, appended since the check)."""
    if table.ids is not None:
        return table.ids
    return {d["id"] for k, d in table.entries.items() if k != key}


class _Vouch:
    """A proof this user kept (`checked`) put to `spans`: when the entries table's bytes
    begin with the proven bytes and go on with a comma (or close), its first `proof.count`
    members are the proven ones, as written, and only the rest (`tail`) need serialising to
    compare; `hasher` is then the SHA-256 of the table's bytes less its `}`.

    Why that is the table's whole comparison: the proven bytes are `{` and members exactly as
    `orjson.dumps` writes them. A parse depends only on the bytes and the parser's state, so
    the table's first members are those, and the bytes after the comma parse, from the same
    state as after a `{`, into exactly the members `tail` serialises to and the `}` that
    closes the table. No key can be there twice: the parse would have kept a repeated key in
    its first place, and `tail`, the parse's last members, would then serialise to fewer
    members than the bytes hold."""

    __slots__ = ("blob", "hasher", "proof", "tail")

    def __init__(self, proof: checked.Proof, blob: bytes) -> None:
        self.proof, self.blob = proof, blob
        self.hasher: Hash | None = None
        self.tail: dict[str, Any] = {}

    @classmethod
    def of(cls, path: Path, blob: bytes, raw: Raw) -> _Vouch | None:
        """For a big entries table and a proof kept for the store; else None."""
        entries = raw.get("entries")
        if type(entries) is not dict or len(entries) < checked.MIN:
            return None
        proof = checked.load(path)
        return None if proof is None else cls(proof, blob)

    def __call__(self, key: str, value: object, pos: int) -> int | None:
        import hashlib

        proof, blob = self.proof, self.blob
        if key != "entries" or type(value) is not dict or not 0 < proof.count <= len(value):
            return None
        end = pos + proof.size
        if end >= len(blob):
            return None
        hasher = hashlib.sha256(memoryview(blob)[pos:end])
        if hasher.digest() != proof.digest:
            return None
        later = len(value) - proof.count
        tail = dict(reversed(list(islice(reversed(value.items()), later))))
        if not tail:
            if blob[end] != _CLOSE:
                return None
            stop = end + 1
        else:
            piece = orjson.dumps(tail)  # `{` + the members + `}`
            if blob[end] != _COMMA or not blob.startswith(memoryview(piece)[1:], end + 1):
                return None
            stop = end + len(piece)
        hasher.update(memoryview(blob)[end : stop - 1])
        self.hasher, self.tail = hasher, tail
        return stop


_COMMA, _CLOSE = ord(","), ord("}")


def check_known(
    entries: object, blob: bytes, lay: Layout | None, vouch: _Vouch | None
) -> tuple[EntriesTable, Hash | None]:
    """`check_entries(entries)`, the table parsed from canonical `blob` laid out as `lay`,
    checking only the members after those a proof vouched for in the layout (`_Vouch`); and
    the SHA-256 of the table's bytes less its `}`, for the proof of the table written next
    (None for a small table or a file not canonical: no proof is used or kept).

    A proof's entries count only when every entry after them has an id above the proven
    ones (ids then cannot repeat); else every entry is checked, as without a proof."""
    if lay is None or type(entries) is not dict or len(entries) < checked.MIN:
        return check_entries(entries), None
    if vouch is None and checked.folder() is None:
        return check_entries(entries), None  # proofs are off: no hash to keep
    import hashlib

    if vouch is not None and vouch.hasher is not None:
        new, proof = check_entries(vouch.tail), vouch.proof
        if not new.ids or min(new.ids) > proof.max_id:
            kpis = proof.kpis | new.kpis
            max_id, max_key = max(proof.max_id, new.max_id), max(proof.max_key, new.max_key)
            return EntriesTable(entries, kpis, max_id, max_key, None), vouch.hasher
    return check_entries(entries), hashlib.sha256(memoryview(blob)[lay.start : lay.close])


def _kept(
    early: _Early | None, out: Raw | bytes, raw: Raw, added: _Appended, path: str
) -> _Memo | None:
    """`_written`, after the write: nothing there may turn a record done into an error."""
    if early is None:
        return None
    try:
        return _written(early, out, raw, added, path)
    except Exception:  # a memo and a proof are only ever a saving
        return None


def _written(
    early: _Early, out: Raw | bytes, raw: Raw, added: _Appended, path: str
) -> _Memo | None:
    """The store just written (`out`, composed from `early.blob`; `raw` its parse) as a
    `_Memo`; None when `out` was not composed (a store not canonical) or our entry's id is
    not above every other (only a check of every id would tell it is new). Its hash is the hash
    of the table read (`early.hasher`) and of what was appended to it."""
    lay = early.lay
    if lay is None or not isinstance(out, bytes):
        return None
    # `out` is `compose(early.blob, lay, raw["meta"], ...)`: the old table's bytes moved by
    # meta's change in size, then the separator and the members appended, then the old `}`
    # and what followed it, unchanged.
    close = len(out) - (len(early.blob) - lay.close)
    moved = len(orjson.dumps(raw["meta"])) - (lay.meta_end - lay.meta_at)
    if not lay.start + moved < lay.close + moved < close:
        return None
    table, doc = added.entries, added.doc
    if doc["id"] <= table.max_id:
        return None  # the id sequence was behind the ids (a hand edit): ours may repeat one
    hasher = early.hasher
    if hasher is not None:
        hasher = hasher.copy()
        hasher.update(memoryview(out)[lay.close + moved : close])
    table = EntriesTable(
        raw["entries"],
        table.kpis | {doc["kpi"]},
        max(table.max_id, doc["id"]),
        max(table.max_key, int(added.key)),
        None,
    )
    out_lay = Layout(lay.meta_at, lay.meta_end + moved, close, False, lay.start + moved)
    return _Memo(path, out, out_lay, raw, table, added.snap, hasher)


def check_entries(entries: object) -> EntriesTable:
    """Every entry checked as `codec.decode_entry` accepts it on its fast path, without building
    it (`entrycheck.check`); `_Fallback` at the first doubt (the general path then names what is
    wrong)."""
    try:
        kpis, max_id, max_key, ids = entrycheck.check(entries)
    except entrycheck.Doubt as exc:
        raise _Fallback(str(exc)) from exc
    return EntriesTable(entries, kpis, max_id, max_key, ids)  # type: ignore[arg-type]


__all__ = ["EntriesTable", "Recorded", "check_entries", "record"]
