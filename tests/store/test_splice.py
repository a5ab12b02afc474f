"""`store.splice`: a record's output made from the file's own bytes is what serialising the
changed store gives, and only a file changed by records alone is read as appended to."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from store.splice import appended, compose, layout, member


def store(n: int) -> dict[str, Any]:
    return {
        "meta": {"1": {"schema": 4, "seq": {"entries": n}, "format": "teamboard-store"}},
        "boards": {"1": {"id": 1, "name": 'Line {x}: "1"', "note": "é\n"}},
        "entries": {
            str(i): {"id": i, "kpi": 1, "value": i * 1.5, "date": "2026-11-20"}
            for i in range(1, n + 1)
        },
        "actions": {},
    }


def record(raw: dict[str, Any], value: float, who: str = "ana") -> tuple[str, dict[str, Any]]:
    """What a record does to the store: the sequence, `last_change`, one entry appended."""
    seq = raw["meta"]["1"]["seq"]
    seq["entries"] += 1
    key = str(max(map(int, raw["entries"]), default=0) + 1)
    doc = {"id": seq["entries"], "kpi": 1, "value": value, "date": "2026-11-20"}
    raw["entries"][key] = doc
    raw["meta"]["1"]["last_change"] = {"who": who, "at": "now", "what": f"recorded {value}"}
    return key, doc


@pytest.mark.parametrize("n", [0, 1, 5])
def test_composing_gives_what_serialising_gives(n: int) -> None:
    raw = store(n)
    blob = orjson.dumps(raw)
    lay = layout(blob, raw)
    assert lay is not None
    key, doc = record(raw, 7.0, who='"}},"entries":{')
    assert compose(blob, lay, raw["meta"], member(key, doc)) == orjson.dumps(raw)


@pytest.mark.parametrize(
    "blob",
    [
        b'{"meta": {"1": {}}, "entries": {}}',  # spaces
        b'{"entries":{},"meta":{"1":{}}}',  # entries first
        b'{"meta":{"1":{}},"entries":{"1":{"value":1e2}}}',  # not how orjson writes 100.0
        b'{"meta":{"1":{}},"entries":{"1":{}},"entries":{"2":{}}}',  # a table twice
    ],
)
def test_bytes_orjson_would_not_write_have_no_layout(blob: bytes) -> None:
    assert layout(blob, orjson.loads(blob)) is None


@pytest.mark.parametrize("n", [0, 3])
@pytest.mark.parametrize("others", [0, 1, 4])
def test_records_in_between_are_read_as_appended(n: int, others: int) -> None:
    raw = store(n)
    old = orjson.dumps(raw)
    lay = layout(old, raw)
    assert lay is not None
    now_raw = copy.deepcopy(raw)
    new = dict(record(now_raw, float(v), who=f"w{v}") for v in range(others))
    got = appended(old, lay, orjson.dumps(now_raw))
    assert got is not None
    assert got.meta == now_raw["meta"] and got.entries == new
    # Ours after theirs: what serialising the store with all of them gives.
    key, doc = record(now_raw, 9.0)
    members = b",".join([member(k, d) for k, d in new.items()] + [member(key, doc)])
    assert compose(old, lay, now_raw["meta"], members) == orjson.dumps(now_raw)


CHANGES = {
    "a board renamed": lambda raw: raw["boards"]["1"].update(name="Other"),
    "an old value 3.0 made 3 (==, other bytes)": lambda raw: raw["entries"]["2"].update(value=3),
    "an old entry removed": lambda raw: raw["entries"].pop("2"),
    "meta's schema": lambda raw: raw["meta"]["1"].update(schema=5),
    "an action added": lambda raw: raw["actions"].update({"1": {"id": 1}}),
    "an id sequence of another table": lambda raw: raw["meta"]["1"]["seq"].update(kpis=3),
}


@pytest.mark.parametrize("what", sorted(CHANGES))
def test_any_other_change_is_not_read_as_appended(what: str) -> None:
    raw = store(3)
    old = orjson.dumps(raw)
    lay = layout(old, raw)
    assert lay is not None
    now_raw = copy.deepcopy(raw)
    record(now_raw, 1.0)
    CHANGES[what](now_raw)
    assert appended(old, lay, orjson.dumps(now_raw)) is None


def test_a_spelling_orjson_would_not_write_in_the_new_entries_is_not_read_as_appended() -> None:
    raw = store(2)
    old = orjson.dumps(raw)
    lay = layout(old, raw)
    assert lay is not None
    now_raw = copy.deepcopy(raw)
    record(now_raw, 100.0)
    now = orjson.dumps(now_raw)
    assert appended(old, lay, now) is not None
    assert appended(old, lay, now.replace(b'"value":100.0', b'"value":1e2')) is None
    assert appended(old, lay, now.replace(b'"value":100.0', b'"value" : 100.0')) is None
