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


def _meanwhile(
    monkeypatch: pytest.MonkeyPatch, store: Store, *changes: Callable[[Store], object]
) -> Store:
    """Make `changes` happen between the fast path's read before the lock and the lock; the
    store they leave is copied to the twin returned (what the general path then starts from)."""
    real = fastpath._prepare
    twin = Store(store.path.with_name("twin.json"))

    def prepare(*a: Any) -> Any:
        early = real(*a)
        assert early is not None and early.lay is not None  # a store teamboard wrote
        for change in changes:
            change(store)
        shutil.copyfile(store.path, twin.path)
        return early

    monkeypatch.setattr(fastpath, "_prepare", prepare)
    return twin


def _records(*args: tuple[str, float]) -> list[Callable[[Store], object]]:
    """Records by others (the general path), each a change `_meanwhile` makes."""

    def one(kpi: str, value: float) -> Callable[[Store], object]:
        return lambda s: ops.record_whole(s, kpi, value, TODAY, TODAY)

    return [one(k, v) for k, v in args]


OTHERS = {
    "one record": [("Scrap cost", 410.0)],
    "three, one of the same KPI": [
        ("Scrap cost", 1.0),
        ("Daily output", 860.0),
        ("On-time delivery", 91.0),
    ],
}


@pytest.mark.parametrize("who", sorted(OTHERS))
def test_records_between_the_read_and_the_lock_are_kept_and_not_checked_again(
    demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    """Other writers recorded after the read before the lock: no parse under the lock (their
    entries alone are checked), all entries kept, the bytes and the status line the general
    path gives (the KPI's own new entry is the one this record supersedes)."""
    whole = _meanwhile(monkeypatch, demo_store, *_records(*OTHERS[who]))
    calls, inside = _under_lock(monkeypatch)
    fast = fastpath.record(demo_store, "Daily output", 870.0, TODAY, TODAY, fallback=never)
    assert calls == ["parse", "bytes"] and inside == [False, True]
    slow = ops.record_whole(whole, "Daily output", 870.0, TODAY, TODAY)
    assert fast == slow
    assert demo_store.path.read_bytes() == whole.path.read_bytes()


def _add_action(s: Store) -> object:
    return ops.add_action(s, "Fix the feeder", kpi="Daily output")


def _retype_a_value(s: Store) -> None:
    """An old entry's 870.0 made 870: equal (==), but not the same bytes."""

    def change(raw: dict[str, Any]) -> None:
        doc = next(d for d in raw["entries"].values() if float(d["value"]).is_integer())
        doc["value"] = int(doc["value"]) if type(doc["value"]) is float else float(doc["value"])

    _edit(s.path, change)


def _retype_first_id(s: Store) -> None:
    _edit(s.path, lambda raw: _first_entry(raw).update(id=float(_first_entry(raw)["id"])))


def _touch_meta(s: Store) -> None:
    _edit(s.path, lambda raw: raw["meta"]["1"]["seq"].update(actions=99))


def _reuse_a_key(s: Store) -> None:
    """An entry appended under a key the table has already (written by hand): the parse keeps
    the later document, in the earlier one's place."""
    raw = orjson.loads(s.path.read_bytes())
    first = next(iter(raw["entries"]))
    seq = raw["meta"]["1"]["seq"]
    seq["entries"] += 1
    raw["entries"]["99999"] = dict(raw["entries"][first], id=seq["entries"])
    s.path.write_bytes(orjson.dumps(raw).replace(b'"99999":', orjson.dumps(first) + b":"))


OTHER_CHANGES: dict[str, Callable[[Store], object]] = {
    "an action added": _add_action,
    "an old value's type changed": _retype_a_value,
    "an old id's type changed": _retype_first_id,
    "meta changed elsewhere": _touch_meta,
    "a key used again": _reuse_a_key,
}


@pytest.mark.parametrize("what", sorted(OTHER_CHANGES))
def test_any_other_change_before_the_lock_is_checked_again_in_full(
    demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    """Not only records in between: everything is done again under the lock, on the store as
    it is then, and nothing is lost (what the general path does on that store)."""
    whole = _meanwhile(monkeypatch, demo_store, OTHER_CHANGES[what])
    calls, inside = _under_lock(monkeypatch)
    handed: list[bool] = []

    def general(*args: Any, **kwargs: Any) -> ops.Recorded:
        handed.append(True)
        return ops.record_whole(*args, **kwargs)

    fast = _outcome(demo_store, lambda: fastpath.record(
        demo_store, "Daily output", 870.0, TODAY, TODAY, fallback=general))  # fmt: skip
    assert calls[:2] == ["parse", "parse"] and inside[:2] == [False, True]
    slow = _outcome(whole, lambda: ops.record_whole(whole, "Daily output", 870.0, TODAY, TODAY))
    assert fast == slow
    assert demo_store.path.read_bytes() == whole.path.read_bytes()


def _outcome(store: Store, run: Callable[[], ops.Recorded]) -> ops.Recorded | str:
    """What a record gives: its result, or its error's words (the store's path left out)."""
    try:
        return run()
    except StoreCorrupt as exc:
        return str(exc).replace(str(store.path), "STORE")


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


def _doc(i: int, **kw: Any) -> dict[str, Any]:
    return {"id": i, "kpi": 1, "value": 1.0, "date": "2026-11-20", **kw}


@pytest.mark.parametrize(
    "keys", [["01"], [""], ["1", ""], ["", "1"], ["1\n2"], ["1\n", "2"], ["١"], ["+1"], [" 1"]]
)
def test_keys_other_than_tinydbs_own_text_are_not_vouched_for(keys: list[str]) -> None:
    table = {k: _doc(i + 1) for i, k in enumerate(keys)}
    with pytest.raises(fastpath._Fallback):
        fastpath.check_entries(table)


FIELDS: dict[str, dict[str, Any]] = {
    "a bool id": {"id": True},
    "id 0": {"id": 0},
    "a bool KPI": {"kpi": False},
    "a bool value": {"value": True},
    "a NaN value": {"value": float("nan")},
    "a text plan": {"plan": "1"},
    "an infinite plan": {"plan": float("inf")},
    "a null note": {"note": None},
    "a number for who": {"who": 1},
    "a list for at": {"at": []},
    "no date": {"date": None},
    "a date that is not one": {"date": "2026-13-01"},
}


@pytest.mark.parametrize("what", sorted(FIELDS))
def test_a_field_the_decoder_refuses_is_not_vouched_for(what: str) -> None:
    table = {"1": _doc(1), "2": _doc(2, **FIELDS[what])}
    with pytest.raises(fastpath._Fallback):
        fastpath.check_entries(table)


def test_what_the_decoder_accepts_is_vouched_for() -> None:
    table = {
        "1": _doc(1),
        "2": _doc(2, plan=None, note="", who="ana", at="2026-11-20T09:00:00Z"),
        "10": _doc(3, kpi=2, value=-5, plan=7),
    }
    got = fastpath.check_entries(table)
    assert (got.kpis, got.ids, got.max_id, got.max_key) == ({1, 2}, {1, 2, 3}, 3, 10)
