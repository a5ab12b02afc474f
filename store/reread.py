"""Reading a store again after documents were appended to its entries table, without parsing
the whole file: the bytes that are new are parsed, the previous read's entries are kept.

At 100,000 entries a bare `orjson.loads` of the file takes longer than the board may take from a
write to its tile, while a `record` changes a few hundred bytes: the `meta` document (near the
start), one entry document appended at the end of the entries table, and nothing else. The
loader (`store.loader.Reader`) asks `splice` whether the new file is the previous one with
documents appended to its entries table (and any change at all to the other tables, which are
small and parsed whole); when the answer is not a proof, it is None and the loader parses the
whole file, as before.

Nothing here trusts a boundary found by looking for text (values are typed by anyone, and a
hand-edited file may be anything). Every boundary is tied to a parse:

- A `Layout` is made only from a file whose bytes are exactly `orjson.dumps` of what they parse
  to (`canonical_span`; every writer writes that). Then the entries table's value is the known
  slice `blob[start:end]`, and `blob[start:end - 1]` (the table without its closing brace,
  "the body") is `{` followed by its members, ending just after the last member's value.
- In the new file, a place where the old body occurs byte for byte is only a candidate, `at`.
  The "skeleton" is the new file with the old body replaced by `{` (and the comma that would
  follow it dropped): the new file's tables, with only the appended documents in the entries
  table. The skeleton is parsed, and accepted only when it too is exactly `orjson.dumps` of its
  parse (so no whitespace and no key twice at any level) *and* its entries table's value begins
  at `at`. Then the parser's state at `at` in the new file is "the value of the top-level member
  `entries`", as it was at `start` in the old one; the old body parses the same from there (a
  parse depends only on the state and the bytes), and leaves the parser after the old table's
  last member; the appended members that follow a comma parse as they do after the skeleton's
  `{` (at least one is required: `,}` is not JSON), then the same `}` closes the table, and the
  rest is the skeleton's rest. So parsing the new file gives the skeleton's tables with the
  entries table being the old table's members followed by the appended ones; the caller checks
  that no appended key is an old one (a key twice in one object would replace an old value).
- The new file is then exactly `orjson.dumps` of that result (the old body was, and the
  skeleton's entries table was), so its `Layout` follows without serialising it again.

Not imported by anything that `record` or the command line imports: the board's loader only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from .splice import spans

PROBE = 256  # bytes of the old body searched for: a candidate is then compared whole
TRIES = 2  # candidates tried before the whole parse (more only in a file made to have them)
MOST = 0.5
"""A candidate's skeleton is parsed only when it is at most this share of the file, so a file
made to hold copies of the old entries costs at most one whole parse more than reading it."""
_OPEN, _CLOSE, _COMMA = ord("{"), ord("}"), ord(",")


@dataclass(frozen=True, slots=True)
class Layout:
    """A store file that is `orjson.dumps` of what it parses to, and where its entries table's
    value (`{...}`) lies in it: `blob[start:end]`. `count` is the table's number of members."""

    blob: bytes
    start: int
    end: int
    count: int


@dataclass(frozen=True, slots=True)
class Spliced:
    """The new file, read from the previous one's `Layout`: its tables as parsed (the entries
    table holding only the appended documents, in order), and its own `Layout`."""

    raw: dict[str, Any]
    layout: Layout


def canonical_span(blob: bytes, raw: object) -> tuple[int, int] | None:
    """Where `raw["entries"]` lies in `blob`, when `blob` is exactly `orjson.dumps(raw)` (a dict
    with an entries table that is an object); else None (`store.splice.spans`)."""
    if type(raw) is not dict or type(raw.get("entries")) is not dict:
        return None
    where = spans(blob, raw)
    return None if where is None else where["entries"]


def layout(blob: bytes, raw: object) -> Layout | None:
    """The `Layout` of a file just parsed whole into `raw` (before anything changed `raw`), or
    None when the file is not `orjson.dumps` of it (hand-written, an old writer's, odd)."""
    span = canonical_span(blob, raw)
    if span is None:
        return None
    assert type(raw) is dict
    return Layout(blob, span[0], span[1], len(raw["entries"]))


def splice(base: Layout, blob: bytes) -> Spliced | None:
    """The new file `blob` read from the previous one's `base`, when it is provably that file
    with documents appended to its entries table (the other tables may differ in any way);
    else None (then the whole file must be parsed). See the module's docstring for the proof.

    The caller must still check that no appended key was in the old table."""
    if base.count == 0:
        return None  # nothing to keep: the whole parse is as cheap
    body = memoryview(base.blob)[base.start : base.end - 1]
    size = len(body)
    if len(blob) < size + 3:
        return None
    probe = bytes(body[:PROBE])
    lo = 0
    for _ in range(TRIES):
        at = blob.find(probe, lo)
        if at < 0:
            return None
        if blob.startswith(body, at):
            got = _at(base, blob, at, size)
            if got is not None:
                return got
        lo = at + 1
    return None


def _at(base: Layout, blob: bytes, at: int, size: int) -> Spliced | None:
    """`splice` with the old body found at `at`: the skeleton parsed and checked."""
    after = at + size
    if after >= len(blob):
        return None
    view = memoryview(blob)
    follows = blob[after]
    if follows == _COMMA:
        rest = view[after + 1 :]
    elif follows == _CLOSE:
        rest = view[after:]
    else:
        return None
    if at + len(rest) > len(blob) * MOST:
        return None  # little to save (or a file made to cost): the whole parse
    skeleton = b"".join((view[:at], b"{", rest))
    try:
        raw = orjson.loads(skeleton)
    except orjson.JSONDecodeError:
        return None
    span = canonical_span(skeleton, raw)
    if span is None or span[0] != at:
        return None
    new = raw["entries"]
    if (follows == _COMMA) != bool(new):  # `,}` is not JSON; `}` appends nothing
        return None
    end = after + (span[1] - span[0] if new else 1)  # the appended members and the `}`
    if end > len(blob) or blob[end - 1] != _CLOSE:  # cannot happen after the checks above
        return None
    return Spliced(raw, Layout(blob, at, end, base.count + len(new)))


__all__ = ["Layout", "Spliced", "canonical_span", "layout", "splice"]
