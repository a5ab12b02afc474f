"""`record`'s fast path writes what the general transaction writes, and hands over any store it
does not vouch for."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import TODAY, fingerprint

from store import Store, fastpath, ops
from store.errors import NotFound, StoreCorrupt

AT = "2026-11-20T09:30:00Z"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import store.db

    monkeypatch.setattr(store.db, "utcnow", lambda: AT)


def never(*args: Any, **kwargs: Any) -> ops.Recorded:
    raise AssertionError("the fast path fell back")


def twin(store: Store, tmp_path: Path) -> Store:
    other = tmp_path / "twin.json"
    shutil.copyfile(store.path, other)
    return Store(other)


CASES: list[tuple[str, dict[str, Any]]] = [
    ("a value", {"kpi": "On-time delivery", "value": 97.5}),
    ("with plan and note", {"kpi": "Daily output", "value": 900.0, "plan": 880.0, "note": "ok"}),
    ("a past day, superseding", {"kpi": "Units per hour", "value": 1.0, "day": TODAY}),
    ("a KPI with a red counter-metric", {"kpi": "Units per hour", "value": 130.0}),
    ("by board", {"kpi": "First-pass yield", "value": 99.0, "board": "Line 2 Assembly"}),
    ("an old day", {"kpi": "Scrap cost", "value": 3.0, "day": TODAY - timedelta(days=40)}),
]


@pytest.mark.parametrize(("what", "args"), CASES, ids=[c[0] for c in CASES])
def test_the_fast_path_writes_the_same_bytes_and_answers_the_same(
    demo_store: Store, tmp_path: Path, what: str, args: dict[str, Any]
) -> None:
    whole = twin(demo_store, tmp_path)
    kw = {"day": TODAY, **args}
    kpi, value, day = kw.pop("kpi"), kw.pop("value"), kw.pop("day")
    for _ in range(2):  # the second supersedes the first
        fast = fastpath.record(demo_store, kpi, value, day, TODAY, fallback=never, **kw)
        slow = ops.record_whole(whole, kpi, value, day, TODAY, **kw)
        assert fast == slow
        assert demo_store.path.read_bytes() == whole.path.read_bytes()
    assert fast.superseded is not None
    assert demo_store.read() == whole.read()


def test_a_kpi_by_id_and_the_status_line_match(demo_store: Store, tmp_path: Path) -> None:
    from tui.cli.entries import record_line

    whole = twin(demo_store, tmp_path)
    kpi = demo_store.read().kpi_named("First-pass yield")
    fast = fastpath.record(demo_store, kpi.id, 80.0, TODAY, TODAY, fallback=never)
    slow = ops.record_whole(whole, kpi.id, 80.0, TODAY, TODAY)
    assert fast == slow

    class Ctx:
        today = TODAY

        @staticmethod
        def paint(text: str, style: object) -> str:
            return text

    line = record_line(fast.view, fast.entry, fast.superseded, Ctx())  # type: ignore[arg-type]
    assert line == record_line(slow.view, slow.entry, slow.superseded, Ctx())  # type: ignore[arg-type]
    assert "First-pass yield 80" in line


def test_a_name_nobody_knows_is_the_same_error_and_writes_nothing(demo_store: Store) -> None:
    before = fingerprint(demo_store.path)
    with pytest.raises(NotFound, match="no KPI named 'Nope'"):
        fastpath.record(demo_store, "Nope", 1.0, TODAY, TODAY, fallback=never)
    assert fingerprint(demo_store.path) == before


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    raw = orjson.loads(path.read_bytes())
    change(raw)
    path.write_bytes(orjson.dumps(raw))


def _first_entry(raw: dict[str, Any]) -> dict[str, Any]:
    return next(iter(raw["entries"].values()))  # type: ignore[no-any-return]


SUSPECT: dict[str, Callable[[dict[str, Any]], None]] = {
    "an impossible date": lambda raw: _first_entry(raw).update(date="2026-02-30"),
    "a value that is text": lambda raw: _first_entry(raw).update(value="7"),
    "a value too large": lambda raw: _first_entry(raw).update(value=1e300),
    "a bool for a value": lambda raw: _first_entry(raw).update(value=True),
    "a list for a date": lambda raw: _first_entry(raw).update(date=[]),
    "an id used twice": lambda raw: _first_entry(raw).update(id=2),
    "a KPI that does not exist": lambda raw: _first_entry(raw).update(kpi=999),
    "a note that is a number": lambda raw: _first_entry(raw).update(note=5),
}


@pytest.mark.parametrize("what", sorted(SUSPECT))
def test_a_broken_entry_elsewhere_goes_to_the_general_path_and_its_error(
    demo_store: Store, what: str
) -> None:
    _edit(demo_store.path, SUSPECT[what])
    before = fingerprint(demo_store.path)
    with pytest.raises(StoreCorrupt) as expected:
        ops.record_whole(demo_store, "Scrap cost", 1.0, TODAY, TODAY)
    handed: list[str] = []

    def whole(*args: Any, **kwargs: Any) -> ops.Recorded:
        handed.append(what)
        return ops.record_whole(*args, **kwargs)

    with pytest.raises(StoreCorrupt) as got:
        fastpath.record(demo_store, "Scrap cost", 1.0, TODAY, TODAY, fallback=whole)
    assert handed == [what]
    assert str(got.value) == str(expected.value)
    assert fingerprint(demo_store.path) == before


def test_keys_tinydb_would_rewrite_go_to_the_general_path(
    demo_store: Store, tmp_path: Path
) -> None:
    def odd_key(raw: dict[str, Any]) -> None:
        first = next(iter(raw["entries"]))
        raw["entries"] = {("0" + k if k == first else k): d for k, d in raw["entries"].items()}

    _edit(demo_store.path, odd_key)
    whole = twin(demo_store, tmp_path)
    handed: list[bool] = []

    def general(*args: Any, **kwargs: Any) -> ops.Recorded:
        handed.append(True)
        return ops.record_whole(*args, **kwargs)

    fast = fastpath.record(demo_store, "Scrap cost", 2.0, TODAY, TODAY, fallback=general)
    slow = ops.record_whole(whole, "Scrap cost", 2.0, TODAY, TODAY)
    assert handed == [True]
    assert fast == slow
    assert demo_store.path.read_bytes() == whole.path.read_bytes()


def test_an_old_schema_is_migrated_by_the_general_path(store_path: Path) -> None:
    v2 = {
        "meta": {"1": {"schema": 2}},
        "boards": {"1": {"id": 1, "name": "Line"}},
        "kpis": {"1": {"id": 1, "board": 1, "name": "Output", "targets": [{"value": 5}]}},
        "entries": {},
    }
    store_path.write_bytes(orjson.dumps(v2))
    handed: list[bool] = []

    def general(*args: Any, **kwargs: Any) -> ops.Recorded:
        handed.append(True)
        return ops.record_whole(*args, **kwargs)

    done = fastpath.record(Store(store_path), "Output", 7.0, TODAY, TODAY, fallback=general)
    assert handed == [True]
    assert done.entry.value == 7.0
    raw = orjson.loads(store_path.read_bytes())
    assert raw["meta"]["1"]["format"] == "teamboard-store"


def test_an_empty_entries_table_starts_ids_and_keys_at_one(store_path: Path) -> None:
    from conftest import seeded

    store = seeded(store_path)
    done = fastpath.record(store, "Output", 7.0, date(2026, 11, 19), TODAY, fallback=never)
    raw = orjson.loads(store_path.read_bytes())
    assert list(raw["entries"]) == ["1"]
    assert raw["entries"]["1"]["id"] == done.entry.id == 1
    assert raw["meta"]["1"]["last_change"]["what"] == "recorded Output = 7"


def _under_lock(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[bool]]:
    """Watch the fast path: each `parse`, and each write as "bytes" (serialised before) or
    "store" (serialised in `write_atomic`), noted with whether the lock was held then."""
    from contextlib import contextmanager

    held: list[bool] = [False]
    calls: list[str] = []
    inside: list[bool] = []
    from store import storage

    real_locked, real_parse, real_write = storage.locked, storage.parse, storage.write_atomic

    @contextmanager
    def locked(*a: Any, **k: Any) -> Any:
        with real_locked(*a, **k):
            held[0] = True
            try:
                yield
            finally:
                held[0] = False

    def parse(*a: Any) -> Any:
        calls.append("parse")
        inside.append(held[0])
        return real_parse(*a)

    def write_atomic(path: Path, data: Any, *a: Any, **k: Any) -> None:
        calls.append("bytes" if isinstance(data, bytes) else "store")
        inside.append(held[0])
        real_write(path, data, *a, **k)

    monkeypatch.setattr(fastpath, "locked", locked)
    monkeypatch.setattr(fastpath, "parse", parse)
    monkeypatch.setattr(fastpath, "write_atomic", write_atomic)
    return calls, inside


def test_the_lock_is_held_only_for_the_read_and_the_write(
    demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody wrote since the read before the lock: no parse and no serialisation under it,
    and the bytes are what the general path writes."""
    whole = twin(demo_store, tmp_path)
    calls, inside = _under_lock(monkeypatch)
    fast = fastpath.record(demo_store, "Daily output", 870.0, TODAY, TODAY, fallback=never)
    assert calls == ["parse", "bytes"] and inside == [False, True]
    monkeypatch.undo()
    monkeypatch.setattr(__import__("store.db").db, "utcnow", lambda: AT)
    assert fast == ops.record_whole(whole, "Daily output", 870.0, TODAY, TODAY)
    assert demo_store.path.read_bytes() == whole.path.read_bytes()


def test_a_write_between_the_read_and_the_lock_is_kept(
    demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer got the lock first: the work before the lock is dropped and done again
    under it, on the store as that writer left it, and both entries are kept."""
    whole = twin(demo_store, tmp_path)
    real = fastpath._prepare

    def prepare(*a: Any) -> Any:
        early = real(*a)
        assert early is not None
        ops.record_whole(demo_store, "Scrap cost", 410.0, TODAY, TODAY)  # someone else
        return early

    monkeypatch.setattr(fastpath, "_prepare", prepare)
    calls, inside = _under_lock(monkeypatch)
    fast = fastpath.record(demo_store, "Daily output", 870.0, TODAY, TODAY, fallback=never)
    assert calls == ["parse", "parse", "store"] and inside == [False, True, True]  # again
    ops.record_whole(whole, "Scrap cost", 410.0, TODAY, TODAY)
    slow = ops.record_whole(whole, "Daily output", 870.0, TODAY, TODAY)
    assert fast == slow
    assert demo_store.path.read_bytes() == whole.path.read_bytes()


def test_a_second_passing_while_waiting_gives_the_time_of_the_write(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import store.db

    times = iter(["2026-11-20T09:30:00Z", "2026-11-20T09:30:01Z"])
    monkeypatch.setattr(store.db, "utcnow", lambda: next(times))
    fast = fastpath.record(demo_store, "Daily output", 870.0, TODAY, TODAY, fallback=never)
    raw = orjson.loads(demo_store.path.read_bytes())
    doc = max(raw["entries"].values(), key=lambda d: d["id"])
    assert doc["value"] == 870.0 and doc["at"] == "2026-11-20T09:30:01Z" == fast.entry.at
    assert raw["meta"]["1"]["last_change"]["at"] == "2026-11-20T09:30:01Z"
