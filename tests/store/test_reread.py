"""The loader's read of an append parses only the new bytes (`store.reread`), and answers exactly
what the whole read answers: for random sequences of real writes and hand edits, for crafted
values, and for every change that is not an append (which must fall back to the whole read)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import TODAY
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from store import Store, ops
from store import reread as splice_module
from store.errors import StoreError
from store.loader import Reader
from store.model import Stage
from store.reread import Layout, canonical_span, layout, splice

CRAFTED = [
    '"},"entries":{"1":{"id":1}}',
    "{",
    "}",
    '","',
    '\\"',
    "\\",
    '"entries":{',
    ',"99":{"id":99,"kpi":1,"date":"2026-11-20","value":1.0}',
    "é€😀 \u2028 \x00 \t\n",
    "   ",
    "",
]
TEXT = st.one_of(st.sampled_from(CRAFTED), st.text(max_size=40))


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def small_files_spliced(monkeypatch: pytest.MonkeyPatch) -> None:
    """These stores are small: their other tables outweigh their entries, and a skeleton that
    big is read whole (`store.reread.MOST`, a matter of cost only). Lifted here, so that every
    append goes through the splice and its proof is what the tests check."""
    monkeypatch.setattr(splice_module, "MOST", 1.0)


def small_store(path: Path) -> Store:
    """Two boards, three KPIs, a few entries (a crafted note among them)."""
    store = Store(path)
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_board(store, "Cell", parent="Line")
    ops.add_kpi(store, "Output", "Line", 100.0)
    ops.add_kpi(store, "Scrap", "Line", 5.0)
    ops.add_kpi(store, "OEE", "Cell", 80.0)
    for i, name in enumerate(("Output", "Scrap", "OEE", "Output")):
        ops.record(store, name, 90.0 + i, TODAY - timedelta(days=i), TODAY, note=CRAFTED[i])
    return store


def replace_bytes(path: Path, blob: bytes) -> None:
    """What a writer does: a new file renamed over the store."""
    tmp = path.with_name(".hand.tmp")
    tmp.write_bytes(blob)
    os.replace(tmp, path)


def hand_edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    raw = orjson.loads(path.read_bytes())
    change(raw)
    replace_bytes(path, orjson.dumps(raw))


def indented(path: Path) -> bytes:
    return orjson.dumps(orjson.loads(path.read_bytes()), option=orjson.OPT_INDENT_2)


def outcome(read: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", read()
    except StoreError as exc:
        return "error", str(exc)
    except Exception as exc:  # what a bad file raises in both, told as it was
        return type(exc).__name__, str(exc)


def same_as_whole(reader: Reader, store: Store) -> str:
    """The reader's answer equals `Store.read`'s (the snapshot, every board's views), or both
    raise the same error; returns how the reader read."""
    got, want = outcome(reader.read), outcome(store.read_here)
    assert got[0] == want[0], (got, want)
    if got[0] != "ok":
        assert got[1] == want[1]
        return "failed"
    assert got[1] == want[1]
    snap = got[1]
    for board in [None, *snap.boards]:
        assert snap.views(board, TODAY) == want[1].views(board, TODAY)
        assert snap.actions_of(board) == want[1].actions_of(board)
    return reader.how


def canonical(path: Path) -> bool:
    blob = path.read_bytes()
    try:
        return orjson.dumps(orjson.loads(blob)) == blob
    except orjson.JSONDecodeError:
        return False


# --- the property: random writes and edits, the reader always equals the whole read -------------

KPIS = ("Output", "Scrap", "OEE")
APPENDS = {"record", "record_whole", "note", "action", "move", "target", "kpi", "same"}

STEP = st.one_of(
    st.tuples(
        st.just("record"), st.sampled_from(KPIS), st.floats(-1e6, 1e6), st.integers(0, 3), TEXT
    ),
    st.tuples(
        st.just("record_whole"), st.sampled_from(KPIS), st.floats(0, 100), st.integers(0, 3), TEXT
    ),
    st.tuples(st.just("note"), st.sampled_from(KPIS), TEXT),
    st.tuples(st.just("action"), TEXT, st.sampled_from((*KPIS, ""))),
    st.tuples(st.just("move")),
    st.tuples(st.just("target"), st.sampled_from(KPIS), st.floats(1, 500)),
    st.tuples(st.just("kpi"), TEXT),
    st.tuples(st.just("same")),
    st.tuples(st.just("edit_old"), st.integers(0, 1000), st.floats(-1e6, 1e6)),
    st.tuples(st.just("drop_old"), st.integers(0, 1000)),
    st.tuples(st.just("pretty")),
    st.tuples(st.just("by_hand"), TEXT, st.sampled_from(["new", "old key", "old id", "no kpi"])),
    st.tuples(st.just("torn"), st.integers(1, 10_000)),
    st.tuples(st.just("bytes"), st.integers(0, 10_000), st.integers(0, 40), TEXT),
    st.tuples(st.just("entries_last")),
    st.tuples(st.just("kpi_gone")),
)


def apply(store: Store, step: tuple[Any, ...]) -> None:
    """One real write, or one hand edit of the file."""
    path, kind = store.path, step[0]
    if kind == "record":
        _, kpi, value, back, note = step
        ops.record(store, kpi, value, TODAY - timedelta(days=back), TODAY, note=note)
    elif kind == "record_whole":
        _, kpi, value, back, note = step
        ops.record_whole(store, kpi, value, TODAY - timedelta(days=back), TODAY, note=note)
    elif kind == "note":
        ops.add_note(store, step[1], step[2] or "n")
    elif kind == "action":
        ops.add_action(store, step[1].strip() or "t", board="Line", kpi=step[2] or None)
    elif kind == "move":
        snap = store.read_here()
        if snap.actions:
            ops.move_action(store, min(snap.actions), Stage.DO)
    elif kind == "target":
        ops.set_target(store, step[1], step[2], TODAY)
    elif kind == "kpi":
        ops.add_kpi(store, f"K{len(store.read_here().kpis)}", "Cell", 1.0, description=step[1])
    elif kind == "same":
        replace_bytes(path, path.read_bytes())
    elif kind == "edit_old":

        def edit(raw: dict[str, Any]) -> None:
            docs = list(raw["entries"].values())
            if docs:
                docs[step[1] % len(docs)]["value"] = step[2]

        hand_edit(path, edit)
    elif kind == "drop_old":

        def drop(raw: dict[str, Any]) -> None:
            keys = list(raw["entries"])
            if keys:
                del raw["entries"][keys[step[1] % len(keys)]]

        hand_edit(path, drop)
    elif kind == "pretty":
        replace_bytes(path, indented(path))
    elif kind == "by_hand":
        _, note, how = step

        def add(raw: dict[str, Any]) -> None:
            entries = raw["entries"]
            last = list(entries.values())[-1]
            key = str(max(int(k) for k in entries) + 1)
            doc = {**last, "id": last["id"] + 1000, "note": note}
            if how == "old key":
                key = next(iter(entries))
            elif how == "old id":
                doc["id"] = next(iter(entries.values()))["id"]
            elif how == "no kpi":
                doc["kpi"] = 9999
            entries[key] = doc

        hand_edit(path, add)
    elif kind == "torn":
        blob = path.read_bytes()
        replace_bytes(path, blob[: step[1] % len(blob)])
    elif kind == "bytes":
        _, at, cut, text = step
        blob = path.read_bytes()
        at %= len(blob) + 1
        replace_bytes(path, blob[:at] + text.encode() + blob[at + cut :])
    elif kind == "entries_last":

        def move(raw: dict[str, Any]) -> None:
            raw["entries"] = raw.pop("entries")

        hand_edit(path, move)
    elif kind == "kpi_gone":

        def gone(raw: dict[str, Any]) -> None:
            used = {d["kpi"] for d in raw["entries"].values()}
            for key, d in list(raw["kpis"].items()):
                if d["id"] in used:
                    del raw["kpis"][key]
                    return

        hand_edit(path, gone)
    else:  # pragma: no cover
        raise AssertionError(kind)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=10))
def test_random_writes_and_edits_read_as_the_whole_read_reads_them(
    steps: list[tuple[Any, ...]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = small_store(Path(folder) / "team.json")
        reader = Reader(store)
        assert same_as_whole(reader, store) == "whole"
        good = canonical(store.path)  # the last good read's file: the next append splices
        for step in steps:
            before = store.path.read_bytes()
            try:
                apply(store, step)
            except (StoreError, ValueError, LookupError, TypeError, AttributeError):
                assert store.path.read_bytes() == before  # refused (or no such thing to edit)
            how = same_as_whole(reader, store)
            event(f"{step[0]}: {how}")
            if step[0] in APPENDS and good and how != "failed":
                assert how == "spliced", step
            if step[0] in ("edit_old", "drop_old", "pretty", "kpi_gone"):
                assert how != "spliced" or store.path.read_bytes() == before, step
            if how == "failed":  # put it back, as someone would: the next read is good again
                replace_bytes(store.path, before)
                how = same_as_whole(reader, store)
                assert how in ("spliced", "appended", "whole")
            good = canonical(store.path)


# --- the byte level: whatever the new file, a splice is the whole parse or nothing --------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False,
    allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
KEYS = st.sampled_from(["1", "2", "3", "10", "x", "entries", ""])
TABLE = st.dictionaries(KEYS, JSON, max_size=4)
FRAGMENTS = st.sampled_from(
    [b",", b"}", b"{", b" ", b"", b'"', b"\\", b',"9":{}', b',"9":1}', b'"entries":', b"},", b",}",
     b',"1":2', b',"9":[]', b'"9":0,', b',"entries":{}', b"1", b'{"1":{}}']
)  # fmt: skip


def merged(base_blob: bytes, got: Any) -> dict[str, Any]:
    old = orjson.loads(base_blob)["entries"]
    return {**got.raw, "entries": {**old, **got.raw["entries"]}}


def check(base: Layout, blob: bytes) -> Any:
    """`splice` is sound: when it answers, it is the whole parse, and its layout is the new
    file's own; and the caller's key check is what keeps old keys from being replaced."""
    got = splice(base, blob)
    if got is None:
        return None
    whole = orjson.loads(blob)  # a splice of a file that does not parse is a bug: this raises
    old = orjson.loads(base.blob)["entries"]
    if any(key in old for key in got.raw["entries"]):
        return got  # the reader refuses it (a key twice); nothing to compare
    assert merged(base.blob, got) == whole
    assert list(merged(base.blob, got)) == list(whole)
    assert got.layout == layout(blob, whole)
    return got


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    head=st.dictionaries(st.sampled_from(["meta", "boards", "kpis"]), TABLE, max_size=3),
    tail=st.dictionaries(st.sampled_from(["actions", "changes", "x"]), TABLE, max_size=3),
    old=st.dictionaries(st.sampled_from([str(i) for i in range(1, 9)]), JSON, min_size=1),
    new=st.dictionaries(st.sampled_from([str(i) for i in range(5, 15)]), JSON, max_size=3),
    new_head=st.dictionaries(st.sampled_from(["meta", "boards", "kpis"]), TABLE, max_size=3),
    edits=st.lists(
        st.tuples(st.booleans(), st.integers(-4, 10**6), st.integers(0, 6), FRAGMENTS), max_size=2
    ),
)
def test_a_splice_is_the_whole_parse_or_nothing(
    head: dict[str, Any],
    tail: dict[str, Any],
    old: dict[str, Any],
    new: dict[str, Any],
    new_head: dict[str, Any],
    edits: list[tuple[bool, int, int, bytes]],
) -> None:
    before = orjson.dumps({**head, "entries": old, **tail})
    base = layout(before, orjson.loads(before))
    assert base is not None
    appended = {**new_head, "entries": {**old, **new}, **tail}
    after = orjson.dumps(appended)
    got = check(base, after)
    if not any(key in old for key in new):  # a true append: it is always spliced
        assert got is not None
        assert got.raw["entries"] == new
    for near_end, at, cut, text in edits:  # then bytes changed: sound, whatever it answers
        if near_end:  # around the end of the entries table, where a splice looks
            end = (canonical_span(after, appended) or (0, 0))[1]
            at = min(max(0, end - 1 + at % 9 - 4), len(after))
        else:
            at %= len(after) + 1
        after = after[:at] + text + after[at + cut :]
        try:
            orjson.loads(after)
        except orjson.JSONDecodeError:
            assert splice(base, after) is None
            continue
        event("an edited file that parses")
        check(base, after)


# --- every change that is not an append falls back --------------------------------------------


@pytest.fixture
def reader(tmp_path: Path) -> Reader:
    reader = Reader(small_store(tmp_path / "team.json"))
    reader.read()
    return reader


def test_a_record_is_spliced_and_the_next_whole_read_is_not_needed(reader: Reader) -> None:
    store = reader.store
    for value in (1.0, 2.0, 3.0):
        ops.record(store, "Output", value, TODAY, TODAY, note='"},"entries":{')
        assert same_as_whole(reader, store) == "spliced"
    assert reader.appended is not None and [e.value for e in reader.appended] == [3.0]


CHANGES: dict[str, Callable[[Path], None]] = {
    "an old entry's value": lambda p: hand_edit(
        p, lambda r: next(iter(r["entries"].values())).update(value=7.0)
    ),
    "an old entry removed": lambda p: hand_edit(
        p, lambda r: r["entries"].pop(next(iter(r["entries"])))
    ),
    "the last entry removed": lambda p: hand_edit(p, lambda r: r["entries"].popitem()),
    "entries reordered": lambda p: hand_edit(
        p, lambda r: r.update(entries=dict(reversed(r["entries"].items())))
    ),
    "an old entry replaced under its key": lambda p: hand_edit(
        p, lambda r: r["entries"].update({next(iter(r["entries"])): {"id": 77, "kpi": 1}})
    ),
    "an old key appended as a new member": lambda p: replace_bytes(
        p, _after_body(p, b',"1":{"id":77,"kpi":1,"date":"2026-11-20","value":1.0}}')
    ),
    "a new key appended with an old id": lambda p: replace_bytes(
        p, _after_body(p, b',"777":{"id":1,"kpi":1,"date":"2026-11-20","value":1.0}}')
    ),
    "whitespace": lambda p: replace_bytes(p, indented(p)),
    "a newline at the end": lambda p: replace_bytes(p, p.read_bytes() + b"\n"),
    "a comma and nothing": lambda p: replace_bytes(p, _after_body(p, b",}")),
    "a comma and whitespace": lambda p: replace_bytes(p, _after_body(p, b', "99":{"id":99}}')),
    "a second entries table": lambda p: replace_bytes(p, p.read_bytes()[:-1] + b',"entries":{}}'),
    "torn": lambda p: replace_bytes(p, p.read_bytes()[:-20]),
    "empty": lambda p: replace_bytes(p, b""),
}


def _body(blob: bytes) -> tuple[int, int]:
    span = canonical_span(blob, orjson.loads(blob))
    assert span is not None
    return span


def _after_body(path: Path, text: bytes) -> bytes:
    """The old entries table without its `}`, then `text` in its place."""
    blob = path.read_bytes()
    end = _body(blob)[1]
    return blob[: end - 1] + text + blob[end:]


def _copy_first(path: Path) -> bytes:
    """A table named "aaa" placed before the entries, holding a copy of the entries (the same
    bytes): a text search for the old body finds this one first."""
    blob = path.read_bytes()
    start, end = _body(blob)
    return b'{"aaa":' + blob[start:end] + b"," + blob[1:]


@pytest.mark.parametrize("what", sorted(CHANGES))
def test_a_change_that_is_not_an_append_is_read_whole(reader: Reader, what: str) -> None:
    store = reader.store
    ops.record(store, "Scrap", 4.0, TODAY, TODAY)  # an append first: the splice's base is one
    assert same_as_whole(reader, store) == "spliced"
    CHANGES[what](store.path)
    how = same_as_whole(reader, store)
    assert how in ("appended", "whole", "failed")
    if how != "failed" and canonical(store.path):  # after a whole read of a file orjson wrote
        ops.record(store, "OEE", 5.0, TODAY, TODAY)
        assert same_as_whole(reader, store) == "spliced"


def test_tables_moved_around_an_intact_entries_table_are_still_proven(reader: Reader) -> None:
    """The proof does not depend on where the entries table is: the skeleton's own layout says
    where it is now. (A table reordered by hand, then a record.)"""
    store = reader.store
    hand_edit(store.path, lambda r: r.update(entries=r.pop("entries")))
    ops.record(store, "OEE", 6.0, TODAY, TODAY)
    assert same_as_whole(reader, store) == "spliced"
    assert list(orjson.loads(store.path.read_bytes()))[-1] == "entries"


def test_a_copy_of_the_old_entries_before_them_does_not_mislead(reader: Reader) -> None:
    """A text search finds the copy first; its skeleton puts the entries table elsewhere, so it
    is refused, and the real one is proven (the copy is then part of the skeleton, parsed)."""
    store = reader.store
    replace_bytes(store.path, _copy_first(store.path))
    assert same_as_whole(reader, store) == "spliced"
    assert "aaa" in orjson.loads(store.path.read_bytes())


def test_a_skeleton_of_more_than_half_the_file_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size rule (`MOST`): a store whose entries are most of it is spliced; the same store
    with a copy of its entries before them is not (each candidate's skeleton holds the other
    copy), and is read whole, never misread."""
    monkeypatch.setattr(splice_module, "MOST", 0.5)
    store = small_store(tmp_path / "team.json")

    def many(raw: dict[str, Any]) -> None:
        entries = raw["entries"]
        first = next(iter(entries.values()))
        for n in range(len(entries) + 1, 400):
            entries[str(n)] = {**first, "id": n, "date": f"2025-01-{n % 28 + 1:02}"}
        raw["meta"]["1"]["seq"]["entries"] = 399

    hand_edit(store.path, many)
    reader = Reader(store)
    assert same_as_whole(reader, store) == "whole"
    ops.record(store, "OEE", 6.0, TODAY, TODAY)
    assert same_as_whole(reader, store) == "spliced"
    replace_bytes(store.path, _copy_first(store.path))
    assert same_as_whole(reader, store) in ("appended", "whole")


def test_a_copy_of_the_old_entries_is_refused_by_its_skeleton(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the size rule: the copy's candidate is refused (its skeleton's entries table
    begins elsewhere), the real one is proven, and the copy is read as the table it is."""
    monkeypatch.setattr(splice_module, "MOST", 1.0)
    old = orjson.dumps({"meta": {"1": {}}, "entries": {"1": {"id": 1}, "2": {"id": 2}}, "x": {}})
    base = layout(old, orjson.loads(old))
    assert base is not None
    body = old[base.start : base.end]
    new = b'{"aaa":' + body + b"," + old[1 : base.end - 1] + b',"3":{"id":3}' + old[base.end - 1 :]
    assert new.index(body[:-1]) < new.rindex(body[:-1])  # two candidates; the copy first
    got = check(base, new)
    assert got is not None and got.raw["entries"] == {"3": {"id": 3}}
    assert got.raw["aaa"] == orjson.loads(body)
    monkeypatch.setattr(splice_module, "TRIES", 1)
    assert splice(base, new) is None  # the copy alone: refused


def test_an_append_after_a_failed_read_is_read_from_the_last_good_one(reader: Reader) -> None:
    store = reader.store
    good = store.path.read_bytes()
    replace_bytes(store.path, good[: len(good) // 2])
    assert same_as_whole(reader, store) == "failed"
    replace_bytes(store.path, good)
    ops.record(store, "OEE", 6.0, TODAY, TODAY)
    assert same_as_whole(reader, store) == "spliced"


def test_the_layout_is_only_that_of_what_orjson_writes() -> None:
    blob = orjson.dumps({"meta": {"1": {}}, "entries": {"1": {"id": 1}}, "actions": {}})
    raw = orjson.loads(blob)
    got = layout(blob, raw)
    assert got is not None and blob[got.start : got.end] == b'{"1":{"id":1}}'
    assert layout(blob + b" ", raw) is None
    assert layout(blob.replace(b":", b": "), orjson.loads(blob.replace(b":", b": "))) is None
    assert layout(b'{"entries":{"1":1e5}}', {"entries": {"1": 1e5}}) is None  # written 100000.0
    assert layout(b'{"entries":[]}', {"entries": []}) is None
