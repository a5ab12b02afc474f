"""`record` checks only the entries appended since a table this user already checked
(`store.checked`), and answers and writes exactly what the general path does, whatever
happened to the store in between."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import TODAY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Store, checked, fastpath, ops, storage
from store.demo import build
from store.errors import StoreError

AT = "2026-11-20T09:30:00Z"
KPIS = ["Scrap cost", "Daily output", "On-time delivery", "Units per hour"]


@pytest.fixture(autouse=True)
def own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Proofs in a folder of the test's own, for tables of any size, at a fixed time."""
    import store.db

    monkeypatch.setattr(store.db, "utcnow", lambda: AT)
    monkeypatch.setattr(checked, "MIN", 1)
    monkeypatch.setattr(fastpath, "_memos", [])
    cache = tmp_path / "cache"
    monkeypatch.setenv(checked.ENV, str(cache))
    return cache


@functools.cache
def demo() -> bytes:
    """The demo store's bytes (built once: hypothesis runs many examples from it)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "team.json"
        build(Store(path), TODAY)
        return path.read_bytes()


@pytest.fixture
def demo_bytes() -> bytes:
    return demo()


def spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the tables `check_entries` is given, in order."""
    sizes: list[int] = []
    real = fastpath.check_entries

    def counting(entries: Any) -> fastpath.EntriesTable:
        sizes.append(len(entries))
        return real(entries)

    monkeypatch.setattr(fastpath, "check_entries", counting)
    return sizes


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the files the fast path parses whole, in order."""
    parsed: list[int] = []
    real = storage.parse

    def parse(path: Path, blob: bytes) -> Any:
        parsed.append(len(blob))
        return real(path, blob)

    monkeypatch.setattr(fastpath, "parse", parse)
    return parsed


def never(*args: Any, **kwargs: Any) -> ops.Recorded:
    raise AssertionError("the fast path fell back")


def apart(*args: Any, **kwargs: Any) -> ops.Recorded:
    """`fastpath.record` as a new process runs it: without the store this one wrote last."""
    fastpath._memos.clear()
    return fastpath.record(*args, **kwargs)


def pair(tmp: Path, blob: bytes) -> tuple[Store, Store]:
    """The store the fast path records into, and its twin for the general path."""
    (tmp / "fast.json").write_bytes(blob)
    (tmp / "whole.json").write_bytes(blob)
    return Store(tmp / "fast.json"), Store(tmp / "whole.json")


def test_the_next_record_checks_only_what_was_appended_since(
    demo_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_cache: Path
) -> None:
    fast, whole = pair(tmp_path, demo_bytes)
    n = len(orjson.loads(demo_bytes)["entries"])
    sizes = spy(monkeypatch)
    for kpi, value in [("Scrap cost", 1.0), ("Daily output", 870.0), ("Scrap cost", 2.0)]:
        got = apart(fast, kpi, value, TODAY, TODAY, fallback=never)
        assert got == ops.record_whole(whole, kpi, value, TODAY, TODAY)
        assert fast.path.read_bytes() == whole.path.read_bytes()
    assert sizes == [n, 0, 0]  # the whole table once, then nothing new to check
    assert [p.name.startswith("entries-") for p in own_cache.iterdir()] == [True]
    # Two records by the general path (another writer): only those two are checked.
    for s in (fast, whole):
        ops.record_whole(s, "On-time delivery", 90.0, TODAY, TODAY)
        ops.record_whole(s, "Units per hour", 120.0, TODAY, TODAY)
    got = apart(fast, "Scrap cost", 3.0, TODAY, TODAY, fallback=never)
    assert got == ops.record_whole(whole, "Scrap cost", 3.0, TODAY, TODAY)
    assert fast.path.read_bytes() == whole.path.read_bytes()
    assert sizes[3:] == [2]


def test_records_spliced_in_under_the_lock_are_in_the_next_proof(
    demo_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer records between the read and the lock: the proof kept after the write
    covers its entry and ours, so the next record has nothing to check."""
    fast, whole = pair(tmp_path, demo_bytes)
    real = fastpath._prepare

    def prepare(*a: Any) -> Any:
        early = real(*a)
        for s in (fast, whole):
            ops.record_whole(s, "On-time delivery", 91.0, TODAY, TODAY)
        return early

    monkeypatch.setattr(fastpath, "_prepare", prepare)
    apart(fast, "Scrap cost", 5.0, TODAY, TODAY, fallback=never)
    ops.record_whole(whole, "Scrap cost", 5.0, TODAY, TODAY)
    assert fast.path.read_bytes() == whole.path.read_bytes()
    monkeypatch.setattr(fastpath, "_prepare", real)
    sizes = spy(monkeypatch)
    got = apart(fast, "Daily output", 1.0, TODAY, TODAY, fallback=never)
    assert got == ops.record_whole(whole, "Daily output", 1.0, TODAY, TODAY)
    assert fast.path.read_bytes() == whole.path.read_bytes()
    assert sizes == [0]


def _proof_file(cache: Path) -> Path:
    (found,) = cache.iterdir()
    return found


def _spoil_mode(p: Path) -> None:
    p.chmod(0o666)


def _spoil_version(p: Path) -> None:
    p.write_bytes(p.read_bytes().replace(b'"version":1', b'"version":0'))


def _spoil_text(p: Path) -> None:
    p.write_bytes(b"{not json")


def _spoil_link(p: Path) -> None:
    real = p.with_name("elsewhere.json")
    p.rename(real)
    p.symlink_to(real)


SPOILED: dict[str, Callable[[Path], None]] = {
    "others may write it": _spoil_mode,
    "another version of the checks": _spoil_version,
    "not what save writes": _spoil_text,
    "a symbolic link": _spoil_link,
}


@pytest.mark.parametrize("what", sorted(SPOILED))
def test_a_proof_file_not_exactly_ours_is_ignored(
    demo_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_cache: Path, what: str
) -> None:
    fast, _ = pair(tmp_path, demo_bytes)
    apart(fast, "Scrap cost", 1.0, TODAY, TODAY, fallback=never)
    SPOILED[what](_proof_file(own_cache))
    sizes = spy(monkeypatch)
    apart(fast, "Scrap cost", 2.0, TODAY, TODAY, fallback=never)
    assert sizes == [len(orjson.loads(fast.path.read_bytes())["entries"]) - 1]


def test_no_cache_folder_means_the_whole_check_and_no_error(
    demo_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(checked.ENV, str(tmp_path / "file" / "cache"))  # cannot be a folder
    fast, whole = pair(tmp_path, demo_bytes)
    sizes = spy(monkeypatch)
    for value in (1.0, 2.0):
        got = apart(fast, "Scrap cost", value, TODAY, TODAY, fallback=never)
        assert got == ops.record_whole(whole, "Scrap cost", value, TODAY, TODAY)
    assert fast.path.read_bytes() == whole.path.read_bytes()
    assert len(sizes) == 2 and sizes[0] == sizes[1] - 1  # the whole table both times


# --- what happens to the store between records: the proof never vouches for it wrongly --------


def _entry(raw: dict[str, Any], i: int) -> dict[str, Any]:
    docs = list(raw["entries"].values())
    return docs[i % len(docs)]  # type: ignore[no-any-return]


def _append(raw: dict[str, Any], **fields: Any) -> None:
    """An entry written by hand at the end of the table, as a record would place it."""
    entries = raw["entries"]
    key = str(max(map(int, entries)) + 1)
    doc = {"id": max(d["id"] for d in entries.values()) + 1, "kpi": 1, "date": "2026-11-19",
           "value": 4.0, "who": "mallory", "at": AT}  # fmt: skip
    doc.update(fields)
    entries[key] = doc


def _drop(raw: dict[str, Any], i: int) -> None:
    entries = raw["entries"]
    del entries[list(entries)[i % len(entries)]]


def _refill(raw: dict[str, Any], i: int) -> None:
    """An entry removed, and one appended by hand under its id: new to the table, but no
    higher than the ids a proof has seen."""
    free = _entry(raw, i)["id"]
    _drop(raw, i)
    _append(raw, id=free)


Edit = Callable[[dict[str, Any], int], None]
EDITS: dict[str, Edit] = {
    "a value that is text": lambda raw, i: _entry(raw, i).update(value="7"),
    "a value too large": lambda raw, i: _entry(raw, i).update(value=1e300),
    "an impossible date": lambda raw, i: _entry(raw, i).update(date="2026-02-30"),
    "a KPI that does not exist": lambda raw, i: _entry(raw, i).update(kpi=999),
    "an id used twice": lambda raw, i: _entry(raw, i).update(id=_entry(raw, i + 1)["id"]),
    "another sound value": lambda raw, i: _entry(raw, i).update(value=12.5),
    "an entry removed": _drop,
    "an entry appended by hand": lambda raw, i: _append(raw),
    "an appended entry reusing an id": lambda raw, i: _append(raw, id=_entry(raw, i)["id"]),
    "an appended entry with a free id below the last": lambda raw, i: _refill(raw, i),
    "an appended entry with a bad date": lambda raw, i: _append(raw, date="2026-13-01"),
    "an appended entry naming no KPI": lambda raw, i: _append(raw, kpi=999),
    "an appended entry with a text note": lambda raw, i: _append(raw, note=["x"]),
    "an appended entry after a space": lambda raw, i: _append(raw),
    "an appended entry after a line break": lambda raw, i: _append(raw),
    "an appended entry's 4.0 spelled 4e0": lambda raw, i: _append(raw),
}
SPELLED = {  # (what orjson writes, another spelling of it) in the last entry
    "an appended entry after a space": (b":{", b": {"),
    "an appended entry after a line break": (b":{", b":\n{"),
    "an appended entry's 4.0 spelled 4e0": (b'"value":4.0', b'"value":4e0'),  # as long
}


def _apply(path: Path, what: str, i: int, spaced: bool) -> None:
    raw = orjson.loads(path.read_bytes())
    EDITS[what](raw, i)
    blob = orjson.dumps(raw, option=orjson.OPT_INDENT_2 if spaced else 0)
    if what in SPELLED and not spaced:  # the same data, the last entry spelled otherwise
        key = orjson.dumps(list(raw["entries"])[-1]) + b":"
        at = blob.index(key)
        old, new = SPELLED[what]
        assert blob.count(key) == 1 and blob.find(old, at) >= at
        blob = blob[:at] + blob[at:].replace(old, new, 1)
    path.write_bytes(blob)


Step = tuple[str, int, bool] | tuple[str, float, bool]
"""An edit (what, which entry, spaced out), or a record (KPI, value, by a new process)."""
steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(KPIS), st.sampled_from([1.0, 2.5, 870.0, -3.0]), st.booleans()),
        st.tuples(st.sampled_from(sorted(EDITS)), st.integers(0, 10**6), st.booleans()),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=steps)
def test_with_proofs_record_answers_and_writes_what_the_general_path_does(
    steps: list[Step],
) -> None:
    """Records (by the fast path here, the general path on the twin) and edits of any entry
    (made to both), in any order: after each, the fast path with proofs kept between records
    raises the same error or writes the same bytes and answers the same as the general path."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ[checked.ENV] = str(work / "cache")  # a fresh cache per example
        fastpath._memos.clear()  # and a fresh process
        fast, whole = pair(work, demo())
        for step in steps:
            _step(fast, whole, step)


def _step(fast: Store, whole: Store, step: Step) -> None:
    """An edit made to both stores, or a record: by the fast path (with proofs, and the store
    it wrote last unless it is a new process) into `fast`, by the general path into `whole`;
    the same answer or error, the same bytes."""
    if step[0] in EDITS:
        for s in (fast, whole):
            _apply(s.path, *step)  # type: ignore[arg-type]
        return
    kpi, value, new_process = step
    if new_process:
        fastpath._memos.clear()
    got: object
    want: object
    try:
        want = ops.record_whole(whole, kpi, value, TODAY, TODAY)
    except StoreError as exc:
        want = str(exc).replace(str(whole.path), "STORE")
    try:
        got = fastpath.record(fast, kpi, value, TODAY, TODAY, fallback=ops.record_whole)
    except StoreError as exc:
        got = str(exc).replace(str(fast.path), "STORE")
    assert got == want
    assert fast.path.read_bytes() == whole.path.read_bytes()


@pytest.mark.parametrize("apart", [False, True], ids=["one process", "a process each"])
@pytest.mark.parametrize("spaced", [False, True], ids=["as teamboard writes", "spaced"])
@pytest.mark.parametrize("what", sorted(EDITS))
def test_after_a_proof_any_edit_is_answered_as_the_general_path_answers(
    demo_bytes: bytes, tmp_path: Path, what: str, spaced: bool, apart: bool
) -> None:
    """A record keeps a proof (and its process the store it wrote); then an entry is edited
    (early in the table, or the last one); the next records raise what the general path
    raises, or write what it writes (an entry appended by hand leaves the id sequence behind:
    the next record's id repeats its id, and the store is broken from then on)."""
    for i in (0, -1):
        work = tmp_path / f"at{i}"
        work.mkdir()
        fast, whole = pair(work, demo_bytes)
        steps: list[Step] = [
            ("Scrap cost", 1.0, True),
            (what, i, spaced),
            ("Daily output", 2.0, apart),
            ("Scrap cost", 3.0, apart),  # vouched for by the proof (or memo) of the last one
        ]
        for step in steps:
            _step(fast, whole, step)


def test_a_process_that_records_again_parses_only_what_others_appended(
    demo_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store this process wrote last is kept: the next record parses nothing when nobody
    else wrote, and only their entries when others recorded; the same bytes and answers as the
    general path throughout."""
    fast, whole = pair(tmp_path, demo_bytes)
    sizes = spy(monkeypatch)
    parsed = _count_parses(monkeypatch)
    steps: list[Step] = [("Scrap cost", 1.0, True), ("Daily output", 870.0, False)]
    for step in steps:
        _step(fast, whole, step)
    for s in (fast, whole):
        ops.record_whole(s, "On-time delivery", 90.0, TODAY, TODAY)
    _step(fast, whole, ("Scrap cost", 2.0, False))
    assert len(parsed) == 1  # the first record's, and no other
    assert sizes[1:] == [0, 1]


def test_a_kept_store_and_records_spliced_in_under_the_lock(
    demo_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store kept from the last record, read again before the lock; another writer
    records before the lock: its entry is checked and spliced in, and the store kept after
    that write serves the next record; the general path's bytes and answers throughout."""
    fast, whole = pair(tmp_path, demo_bytes)
    _step(fast, whole, ("Scrap cost", 1.0, True))
    real = fastpath._prepare
    others = iter([("On-time delivery", 91.0), ("Daily output", 860.0)])

    def prepare(*a: Any) -> Any:
        early = real(*a)
        kpi, value = next(others)
        for s in (fast, whole):
            ops.record_whole(s, kpi, value, TODAY, TODAY)
        return early

    monkeypatch.setattr(fastpath, "_prepare", prepare)
    spliced: list[bool] = []
    real_splice = fastpath._splice

    def splice(*a: Any) -> Any:
        got = real_splice(*a)
        spliced.append(got is not None)
        return got

    monkeypatch.setattr(fastpath, "_splice", splice)
    parsed = _count_parses(monkeypatch)
    for kpi, value in [("Scrap cost", 2.0), ("Units per hour", 2.0)]:
        got = fastpath.record(fast, kpi, value, TODAY, TODAY, fallback=never)
        assert got == ops.record_whole(whole, kpi, value, TODAY, TODAY)  # after the other's
        assert fast.path.read_bytes() == whole.path.read_bytes()
    monkeypatch.setattr(fastpath, "_prepare", real)
    sizes = spy(monkeypatch)
    _step(fast, whole, ("Scrap cost", 3.0, False))
    assert spliced == [True, True]
    assert parsed == [] and sizes == [0]  # nothing parsed: the kept store, then theirs alone
