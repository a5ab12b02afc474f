"""Where a store's canonical bytes hold its `meta` document and the end of its entries table,
so that `record` can append to the file without serialising (or, under the lock, parsing) the
whole store again.

Every teamboard write stores `orjson.dumps(store)`: `{"meta":{..},"boards":{..},..,
"entries":{..,"N":{..}},..}`, each table serialised on its own and joined. A record changes two
places in it: the `meta` document (the id sequence and `last_change`) and the end of the
entries table (one member more). When the bytes read are exactly that canonical form (checked
table by table, `layout`), a record's output is the file's own bytes with those two places
changed (`compose`), which is what serialising the changed store would give, byte for byte.

Under the lock the file may have changed since it was read (another writer got in first). When
the only changes are a new `meta` document and members appended to the entries table, which is
what records do (`appended` checks exactly that, with byte comparisons, which are type-exact),
only those new members need checking: everything else is byte for byte what was checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

Raw = dict[str, Any]
Vouch = Callable[[str, object, int], "int | None"]
"""Given a table's name, its parsed value and its offset in the blob: the offset where its
bytes end when they are vouched to be exactly `orjson.dumps(value)`, else None (compare)."""

_HEAD = 256  # bytes of the part after `meta` searched for in a changed file


class Layout:
    """Offsets in canonical bytes: `meta`'s value is blob[meta_at:meta_end]; the entries
    table's value is blob[start:close + 1] (its closing brace at blob[close]); `empty`: the
    table had no member."""

    __slots__ = ("close", "empty", "meta_at", "meta_end", "start")

    def __init__(
        self, meta_at: int, meta_end: int, close: int, empty: bool, start: int = -1
    ) -> None:
        self.meta_at, self.meta_end, self.close, self.empty = meta_at, meta_end, close, empty
        self.start = start


def spans(
    blob: bytes, raw: object, vouch: Vouch | None = None
) -> dict[str, tuple[int, int]] | None:
    """Where each table's value lies in `blob` (`blob[start:end]`), when `blob` is exactly
    `orjson.dumps(raw)` of a dict; None otherwise (any other spelling of the same data, a hand
    edit, a value orjson reads but does not write back). Compared table by table at their
    offsets: no copy of the file is made, and `raw` is serialised once (less a table `vouch`
    vouches for: `record`'s proofs, `store.fastpath`). The one proof both `record`'s splice
    (`layout`) and the loader's re-read (`store.reread`) stand on."""
    if type(raw) is not dict or not blob.startswith(b"{"):
        return None
    pos, found = 1, {}
    try:
        for n, (key, value) in enumerate(raw.items()):
            if n:
                if not blob.startswith(b",", pos):
                    return None
                pos += 1
            name = orjson.dumps(key) + b":"
            if not blob.startswith(name, pos):
                return None
            pos += len(name)
            end = None if vouch is None else vouch(key, value, pos)
            if end is None:
                piece = orjson.dumps(value)
                if not blob.startswith(piece, pos):
                    return None
                end = pos + len(piece)
            found[key] = (pos, end)
            pos = end
    except (orjson.JSONEncodeError, TypeError):
        return None
    if blob[pos:] != b"}":
        return None
    return found


def layout(blob: bytes, raw: Raw, vouch: Vouch | None = None) -> Layout | None:
    """The layout of `blob` when it is exactly `orjson.dumps(raw)` and `meta` comes before
    `entries` (a store teamboard wrote); None otherwise (any other spelling of the same data,
    a hand edit). Serialises each table once, which the caller's output is then made of."""
    where = spans(blob, raw, vouch)
    if where is None or "meta" not in where or "entries" not in where:
        return None
    (meta_at, meta_end), (at, end) = where["meta"], where["entries"]
    if at < meta_at or type(raw["entries"]) is not dict:
        return None  # entries before meta: not the shape records splice
    return Layout(meta_at, meta_end, end - 1, not raw["entries"], at)


def compose(blob: bytes, lay: Layout, meta: object, members: bytes) -> bytes:
    """`blob` with `meta` serialised in place of its meta document and `members` (serialised
    `"key":{...}` pairs, comma-separated) appended to its entries table."""
    sep = b"," if members and not lay.empty else b""
    return b"".join(
        (
            blob[: lay.meta_at],
            orjson.dumps(meta),
            blob[lay.meta_end : lay.close],
            sep,
            members,
            blob[lay.close :],
        )
    )


def member(key: str, doc: object) -> bytes:
    """One member of a table, serialised as `orjson.dumps` of the table would write it."""
    return orjson.dumps(key) + b":" + orjson.dumps(doc)


def _without_ours(meta: object) -> bytes | None:
    """`meta` less what a record changes in it (the entries' id sequence, `last_change`),
    serialised; None when it is not shaped as teamboard writes it."""
    if type(meta) is not dict or type(meta.get("1")) is not dict:
        return None
    one = dict(meta["1"])
    one.pop("last_change", None)
    seq = one.get("seq")
    if type(seq) is dict and "entries" in seq:
        seq = dict(seq)
        del seq["entries"]
        one["seq"] = seq
    rest = dict(meta)
    rest["1"] = one
    return orjson.dumps(rest)


class Appended:
    """What changed between the bytes a record read and the file now, when only records
    happened in between: the new `meta` document, the entries appended (in file order), and
    the file's own `layout`."""

    __slots__ = ("entries", "layout", "meta", "now")

    def __init__(self, now: bytes, meta: Raw, entries: dict[str, Any], lay: Layout) -> None:
        self.now, self.meta, self.entries, self.layout = now, meta, entries, lay


def appended(old: bytes, lay: Layout, now: bytes) -> Appended | None:
    """`now` read as `old` (canonical, laid out as `lay`) with a new `meta` document, alike
    but for the id sequence of entries and `last_change`, and members appended to the entries
    table; None for any other change (then everything is checked again).

    Byte comparisons make it exact (1, 1.0 and true differ); the new members are parsed and
    must be serialised canonically, so `now` is itself canonical and parses, as a whole, to
    the old store with those changes. (Whether the new members' keys are new and the documents
    sound is the caller's check.)"""
    head, tail = old[: lay.meta_at], old[lay.close :]
    middle = old[lay.meta_end : lay.close]  # the tables between meta and entries, and entries
    if len(now) < len(head) + len(middle) + len(tail):
        return None
    if not now.startswith(head) or not now.endswith(tail):
        return None
    end = len(now) - len(tail)
    at = now.find(middle[:_HEAD], lay.meta_at, end)
    if at < 0 or not now.startswith(middle, at):
        return None
    added = now[at + len(middle) : end]
    try:
        meta = orjson.loads(now[lay.meta_at : at])
        before = orjson.loads(old[lay.meta_at : lay.meta_end])
    except orjson.JSONDecodeError:
        return None
    mine = _without_ours(meta)
    if mine is None or mine != _without_ours(before):
        return None
    entries: dict[str, Any] = {}
    if added:
        if not lay.empty:
            if not added.startswith(b","):
                return None
            added = added[1:]
        table = b"{" + added + b"}"
        try:
            entries = orjson.loads(table)
        except orjson.JSONDecodeError:
            return None
        if type(entries) is not dict or not entries or orjson.dumps(entries) != table:
            return None
    # `now` is canonical (above): its meta ends where the old middle begins, its entries
    # table's value starts as far after that as before, and closes with the old tail.
    lay_now = Layout(
        lay.meta_at, at, end, lay.empty and not entries, at + (lay.start - lay.meta_end)
    )
    return Appended(now, meta, entries, lay_now)


__all__ = ["Appended", "Layout", "appended", "compose", "layout", "member", "spans"]
