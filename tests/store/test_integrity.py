"""The store never loses or misreads anything: its identity, the codec, restore, the change log,
writes by id, and a property test that mutates the demo store's documents at random."""

from __future__ import annotations

import contextlib
import copy
import functools
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import TODAY, fingerprint
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from store import Store, audit, backup, ops
from store.errors import BadInput, NotFound, StoreCorrupt, StoreError, StoreForeign, StoreMissing
from store.model import Stage
from store.schema import SCHEMA

WRITES: list[tuple[str, Callable[[Store], Any]]] = [
    ("init", ops.init),
    ("board add", lambda s: ops.add_board(s, "X")),
    ("record", lambda s: ops.record(s, "OEE", 1.0, TODAY, TODAY)),
    ("action add", lambda s: ops.add_action(s, "fix it")),
]


# --- identity: foreign files are refused and never written --------------------------------------


def _export(demo_store: Store) -> bytes:
    return orjson.dumps(backup.export_doc(demo_store.read(), "2026-11-20T00:00:00Z"))


FOREIGN: dict[str, bytes] = {
    "an empty object": b"{}",
    "a list": b"[]",
    "another program's JSON": b'{"x": 1, "precious": [1, 2, 3]}',
    "TinyDB's default table": b'{"_default": {"1": {"a": 1}}}',
    "a number": b"42",
    "a schema that is not a version": b'{"meta": {"1": {"schema": "x"}}}',
}


@pytest.mark.parametrize("what", sorted(FOREIGN))
@pytest.mark.parametrize(("name", "write"), WRITES)
def test_a_foreign_json_file_is_refused_byte_identical(
    store_path: Path, what: str, name: str, write: Callable[[Store], Any]
) -> None:
    store_path.write_bytes(FOREIGN[what])
    before = fingerprint(store_path)
    with pytest.raises(StoreForeign, match="not a teamboard store"):
        Store(store_path).read()
    with pytest.raises(StoreForeign):
        write(Store(store_path))
    assert fingerprint(store_path) == before
    assert sorted(p.name for p in store_path.parent.iterdir()) in (
        ["team.json"],
        ["team.json", "team.json.lock"],
    )


@pytest.mark.parametrize(("name", "write"), WRITES)
def test_an_export_is_refused_and_says_restore(
    demo_store: Store, tmp_path: Path, name: str, write: Callable[[Store], Any]
) -> None:
    backup_path = tmp_path / "backup.json"
    backup_path.write_bytes(_export(demo_store))
    before = fingerprint(backup_path)
    with pytest.raises(
        StoreForeign, match=r"is a teamboard export.*teamboard --store NEW\.json restore"
    ):
        Store(backup_path).read()
    with pytest.raises(StoreForeign):
        write(Store(backup_path))
    assert fingerprint(backup_path) == before


def test_new_stores_carry_the_marker_and_old_ones_get_it_on_their_next_write(
    store_path: Path,
) -> None:
    ops.init(Store(store_path))
    meta = orjson.loads(store_path.read_bytes())["meta"]["1"]
    assert (meta["format"], meta["schema"]) == ("teamboard-store", SCHEMA)
    v2 = {"meta": {"1": {"schema": 2}}, "boards": {"1": {"id": 1, "name": "Line"}}, "kpis": {}}
    store_path.write_bytes(orjson.dumps(v2))
    assert [b.name for b in Store(store_path).read().boards.values()] == ["Line"]
    assert orjson.loads(store_path.read_bytes()) == v2  # reading writes nothing
    ops.add_board(Store(store_path), "Line 2")
    raw = orjson.loads(store_path.read_bytes())
    assert raw["meta"]["1"]["format"] == "teamboard-store"
    assert raw["changes"] == {}


def test_a_table_that_is_not_an_object_is_broken_not_wiped(demo_store: Store) -> None:
    raw = orjson.loads(demo_store.path.read_bytes())
    raw["entries"] = list(raw["entries"].values())
    demo_store.path.write_bytes(orjson.dumps(raw))
    before = fingerprint(demo_store.path)
    with pytest.raises(StoreCorrupt, match="table 'entries' is a list, not an object"):
        ops.record(demo_store, "First-pass yield", 1.0, TODAY, TODAY)
    assert fingerprint(demo_store.path) == before


# --- the codec: malformed documents name the table, the id and the field ------------------------


def _mutate(raw: dict[str, Any], table: str, field: str, value: object) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    doc = next(iter(raw[table].values()))
    doc[field] = value
    return raw


@pytest.mark.parametrize(
    ("table", "field", "value", "says"),
    [
        ("kpis", "direction", "sideways", "'sideways' is not one of up, down"),
        ("kpis", "targets", [], "targets': is empty"),
        ("kpis", "targets", [{"value": "x"}], "'x' is not a number"),
        ("kpis", "board", 99, "board 99 does not exist"),
        ("kpis", "counter", 99, "KPI 99 does not exist"),
        ("kpis", "amber", 1e300, "out of range"),
        ("entries", "value", None, "None is not a number"),
        ("entries", "date", "2026-02-30", "is not a date"),
        ("entries", "kpi", 12345, "KPI 12345 does not exist"),
        ("entries", "note", 5, "5 is not text"),
        ("actions", "stage", "someday", "'someday' is not one of plan, do"),
        ("actions", "due", "tomorrow", "'tomorrow' is not a date"),
        ("actions", "history", [{"field": "colour"}], "'colour' is not one of"),
        ("boards", "parent", 2, "the boards' parents form a loop"),  # 1 under 2 under 1
        ("boards", "name", "", "is empty"),
        ("boards", "kpi_limit", True, "True is not a whole number"),
        ("boards", "id", "1", "'1' is not a whole number"),
    ],
)
def test_a_malformed_document_is_named_precisely(
    demo_store: Store, table: str, field: str, value: object, says: str
) -> None:
    raw = _mutate(orjson.loads(demo_store.path.read_bytes()), table, field, value)
    demo_store.path.write_bytes(orjson.dumps(raw))
    with pytest.raises(StoreCorrupt) as err:
        demo_store.read()
    message = str(err.value)
    assert f"table '{table}'" in message and says in message, message
    assert "\n" not in message


def test_a_duplicate_id_is_malformed(demo_store: Store) -> None:
    raw = orjson.loads(demo_store.path.read_bytes())
    first = next(iter(raw["actions"].values()))
    raw["actions"]["999"] = dict(first)
    demo_store.path.write_bytes(orjson.dumps(raw))
    with pytest.raises(StoreCorrupt, match=f"table 'actions', id {first['id']}.*two documents"):
        demo_store.read()


def test_a_huge_value_in_the_file_is_refused_not_drawn(demo_store: Store) -> None:
    """±1e308 once made the tile compute NaN on every start."""
    raw = orjson.loads(demo_store.path.read_bytes())
    entry = next(iter(raw["entries"].values()))
    entry["value"] = 1e308
    demo_store.path.write_bytes(orjson.dumps(raw))
    with pytest.raises(StoreCorrupt, match="out of range"):
        demo_store.read()


# Mutations a hand edit or a bug could make: a wrong type, a missing field, junk.
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@functools.cache
def demo_raw() -> bytes:
    """The demo store's bytes, with a change in the log, built once."""
    import tempfile

    from store.demo import build

    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "team.json")
        build(store, TODAY)
        ops.set_target(store, "Daily output", 910.0, TODAY)
        return store.path.read_bytes()


READING_COMMANDS = [
    ("status", "--all"),
    ("kpi", "list"),
    ("action", "list"),
    ("history", "Daily output"),
    ("export", "--format", "json"),
    ("record", "Daily output", "5"),
]


def cli(path: Path, *argv: str) -> tuple[int, str, str]:
    """The command line in-process, its output captured (hypothesis runs many per test)."""
    from tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--store", str(path), *argv], today=TODAY)
    return code, out.getvalue(), err.getvalue()


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    table=st.sampled_from(["boards", "kpis", "entries", "actions", "changes"]),
    pick=st.integers(min_value=0, max_value=10_000),
    which=st.integers(min_value=0, max_value=1_000),
    value=JUNK,
    drop=st.booleans(),
)
def test_any_mutated_document_is_read_or_refused_in_one_line_and_never_written(
    tmp_path: Path,
    table: str,
    pick: int,
    which: int,
    value: object,
    drop: bool,
) -> None:
    raw = orjson.loads(demo_raw())
    docs = list(raw[table].values())
    doc = docs[pick % len(docs)]
    fields = sorted(doc)
    field = fields[which % len(fields)]
    if drop:
        doc.pop(field, None)
    else:
        doc[field] = value
    path = tmp_path / f"m{pick}.json"
    path.write_bytes(orjson.dumps(raw))
    before = fingerprint(path)
    store = Store(path)
    try:
        snap = store.read()
    except StoreCorrupt as exc:
        event("refused")
        assert "\n" not in str(exc) and f"table '{table}'" in str(exc), str(exc)
        with pytest.raises(StoreCorrupt):
            ops.add_board(store, "Z")
        for argv in READING_COMMANDS:
            code, _, err = cli(path, *argv)
            assert code == 1 and err.count("\n") == 1 and err.startswith("teamboard: "), err
            assert "Traceback" not in err
        assert fingerprint(path) == before
        return
    event("read")  # the mutation was harmless (a field a reader does not need, or a fine value)
    # Read means every rule works on it: views, the log, the export.
    for b in snap.boards:
        snap.views(b, TODAY)
    audit.lines(snap)
    backup.export_doc(snap, "now")


# --- restore --------------------------------------------------------------------------------


def _rich_store(path: Path) -> Store:
    """Every kind of thing an export must carry: superseded values, several targets (two for
    one day), notes, stage histories, an archived KPI, field edits and a huddle's minutes."""
    from store.demo import build

    store = Store(path)
    build(store, TODAY)
    ops.record(store, "Daily output", 900.0, TODAY, TODAY, plan=880.0, note="first")
    ops.record(store, "Daily output", 905.0, TODAY, TODAY)  # supersedes
    ops.add_note(store, "Daily output", "line stopped at 14:00")
    ops.set_target(store, "Daily output", 910.0, date(2026, 12, 1))
    ops.set_target(store, "Daily output", 920.0, date(2026, 12, 1))  # supersedes, both stay
    ops.edit_kpi(store, "Daily output", unit="pcs", owner="dana")
    ops.archive_kpi(store, "Near misses reported")
    act = ops.add_action(store, "Check the filler", kpi="Scrap cost", owner="ana", due=TODAY)
    ops.move_action(store, act.id)
    ops.edit_action(store, act.id, owner="ben")
    ops.save_huddle(
        store,
        {
            "date": TODAY.isoformat(),
            "board": "Line 2 Assembly",
            "board_id": 2,
            "facilitator": "ana",
            "attendees": ["ana", "ben"],
            "started": "2026-11-20T06:45:00+00:00",
            "ended": "2026-11-20T06:59:00+00:00",
            "duration_s": 840,
            "timebox_min": 15,
            "items": [
                {
                    "kind": "red",
                    "name": "Scrap cost",
                    "kpi": 6,
                    "action": None,
                    "status": "red",
                    "seconds": 300,
                    "outcome": "action",
                }
            ],
            "actions": [{"id": act.id, "title": "Check the filler", "what": "added"}],
            "notes": [],
            "skips": [],
        },
    )
    return store


def test_export_restore_export_is_exact(tmp_path: Path) -> None:
    store = _rich_store(tmp_path / "team.json")
    first = backup.export_doc(store.read(), "T1")
    blob = orjson.dumps(first)
    restored = Store(tmp_path / "restored.json")
    counts = backup.restore(restored, blob, "backup.json")
    assert counts["entries"] == len(first["entries"]) and counts["changes"] >= 3
    again = backup.export_doc(restored.read(), "T2")
    assert {**again, "exported_at": "T1"} == first
    # ids go on after the restored ones: nothing is ever reused
    assert ops.add_board(restored, "After").id == max(b["id"] for b in first["boards"]) + 1
    kpi = restored.read().kpi_named("Daily output")
    assert kpi.target_on(date(2026, 12, 2)) == 920.0
    assert [t.value for t in kpi.targets][-2:] == [910.0, 920.0]


def test_restore_refuses_an_existing_store(tmp_path: Path) -> None:
    store = _rich_store(tmp_path / "team.json")
    blob = orjson.dumps(backup.export_doc(store.read(), "T"))
    before = fingerprint(store.path)
    with pytest.raises(StoreError, match="is a store already"):
        backup.restore(store, blob, "backup.json")
    assert fingerprint(store.path) == before


def test_restore_into_an_empty_file_keeps_its_mode(tmp_path: Path) -> None:
    store = _rich_store(tmp_path / "team.json")
    blob = orjson.dumps(backup.export_doc(store.read(), "T"))
    target = tmp_path / "new.json"
    target.touch(mode=0o640)
    target.chmod(0o640)
    backup.restore(Store(target), blob, "b.json")
    assert target.stat().st_mode & 0o777 == 0o640
    assert Store(target).read().entry_count == store.read().entry_count


def test_a_bad_export_is_refused_whole_with_every_problem(tmp_path: Path) -> None:
    store = _rich_store(tmp_path / "team.json")
    doc = backup.export_doc(store.read(), "T")
    doc["entries"][0]["kpi_id"] = 999
    doc["kpis"][0]["direction"] = "sideways"
    doc["actions"][0]["due"] = "soon"
    doc["boards"].append(dict(doc["boards"][0]))  # a duplicate id
    target = Store(tmp_path / "new.json")
    with pytest.raises(BadInput) as err:
        backup.restore(target, orjson.dumps(doc), "b.json")
    details = "\n".join(err.value.details)  # type: ignore[attr-defined]
    for says in ("KPI 999 does not exist", "'sideways'", "'soon' is not a date", "used twice"):
        assert says in details
    assert not target.path.exists()


@pytest.mark.parametrize(
    ("blob", "says"),
    [
        (b"", "the file is empty"),
        (b'{"format": "teamboard-export", "boards": [', "line 1"),
        (b'{"meta": {}}', "not a teamboard export"),
        (b"[]", "not a JSON object"),
    ],
)
def test_a_truncated_or_foreign_export_is_refused(tmp_path: Path, blob: bytes, says: str) -> None:
    target = Store(tmp_path / "new.json")
    with pytest.raises(BadInput) as err:
        backup.restore(target, blob, "b.json")
    assert says in "\n".join(err.value.details)  # type: ignore[attr-defined]
    assert not target.path.exists()


def test_a_version_1_export_restores_by_name(tmp_path: Path) -> None:
    store = _rich_store(tmp_path / "team.json")
    doc = backup.export_doc(store.read(), "T")
    for b in doc["boards"]:
        b.pop("parent_id")
    for k in doc["kpis"]:
        k.pop("board_id"), k.pop("counter_id")
    for e in doc["entries"]:
        e.pop("kpi_id")
    for a in doc["actions"]:
        a.pop("board_id"), a.pop("kpi_id")
    doc["version"] = 1
    doc.pop("changes")
    restored = Store(tmp_path / "restored.json")
    backup.restore(restored, orjson.dumps(doc), "v1.json")
    assert restored.read().entries == store.read().entries


# --- the change log ---------------------------------------------------------------------------


def test_every_kind_of_change_is_in_the_log_with_who_and_when(tmp_path: Path) -> None:
    store = _rich_store(tmp_path / "team.json")
    ops.edit_kpi(store, "Scrap cost", goal="Less waste")
    ops.edit_board(store, "Line 2 Assembly", kpi_limit=7)
    ops.archive_kpi(store, "Near misses reported", restore=True)
    snap = store.read()
    text = [line.what for line in audit.lines(snap)]
    expected = [
        "changed the unit of KPI Daily output from 'units' to 'pcs'",
        "changed the owner of KPI Daily output from",
        "set the target of Daily output to 910 from 2026-12-01",
        "set the target of Daily output to 920 from 2026-12-01 (was 910)",
        "archived KPI Near misses reported",
        "restored KPI Near misses reported",
        "changed the goal of KPI Scrap cost",
        "changed the kpi_limit of board Line 2 Assembly from 6 to 7",
        "recorded Daily output = 905",
        "replacing 900",
        "noted Daily output (2026-11-20): line stopped at 14:00",
        "moved action #",
        "changed the owner of action #",
        "kept the minutes of the huddle on Line 2 Assembly",
        "added board Operations",
        "added KPI Daily output",
    ]
    for want in expected:
        assert any(want in t for t in text), want
    log = audit.lines(snap)
    assert [line.at for line in log] == sorted((line.at for line in log), reverse=True)
    assert all(line.who for line in log)
    kpi = snap.kpi_named("Daily output")
    only = audit.select(log, snap, kpi=kpi.id)
    assert only and all(line.kpi == kpi.id for line in only)
    board = snap.board_named("Operations")
    assert len(audit.select(log, snap, board=board.id)) == len(log)  # its team is under it
    assert audit.select(log, snap, since=date(2100, 1, 1)) == []


# --- writes by id --------------------------------------------------------------------------


def test_a_write_by_id_lands_on_the_same_kpi_after_a_rename(demo_store: Store) -> None:
    kpi = demo_store.read().kpi_named("Scrap cost")
    ops.edit_kpi(demo_store, "Scrap cost", name="Scrap")  # a teammate renames it meanwhile
    ops.add_board(demo_store, "Scrap cost")  # and the old name now means something else
    done = ops.record(demo_store, kpi.id, 640.0, TODAY, TODAY)
    assert done.entry.kpi == kpi.id
    act = ops.add_action(demo_store, "Sort the bins", kpi=kpi.id)
    assert act.kpi == kpi.id and act.board == kpi.board
    ops.archive_kpi(demo_store, kpi.id)
    with pytest.raises(NotFound, match=f"KPI #{kpi.id} is no longer on the board"):
        ops.record(demo_store, kpi.id, 1.0, TODAY, TODAY)


def test_a_zero_byte_store_is_missing(store_path: Path) -> None:
    store_path.write_bytes(b"")
    with pytest.raises(StoreMissing):
        Store(store_path).read()
    act_stage = Stage.PLAN
    assert act_stage is Stage.PLAN


# --- the command line: restore and log -----------------------------------------------------------


def test_cli_export_restore_round_trip_and_refusals(tmp_path: Path) -> None:
    store = _rich_store(tmp_path / "team.json")
    code, exported, err = cli(store.path, "export", "--format", "json")
    assert code == 0, err
    backup_path = tmp_path / "backup.json"
    backup_path.write_text(exported)
    # the backup is not a store: every command refuses it and says how to bring it back
    code, _, err = cli(backup_path, "board", "add", "X")
    assert code == 1 and "teamboard export" in err and "restore" in err
    assert backup_path.read_text() == exported
    target = tmp_path / "restored.json"
    code, out, err = cli(target, "restore", str(backup_path))
    assert code == 0, err
    assert out.startswith(
        "restored 4 boards, 12 KPIs, 672 entries, 9 actions, 1 huddle, 5 changes, 6 goals and 4 "
        "reviews"
    )
    code, again, _ = cli(target, "export", "--format", "json")
    first, second = orjson.loads(exported), orjson.loads(again)
    assert {**second, "exported_at": first["exported_at"]} == first
    before = fingerprint(target)
    code, _, err = cli(target, "restore", str(backup_path))
    assert code == 1 and "is a store already" in err
    assert fingerprint(target) == before


def test_cli_restore_lists_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    store = _rich_store(tmp_path / "team.json")
    doc = backup.export_doc(store.read(), "T")
    doc["entries"][3]["value"] = "lots"
    doc["actions"][0]["stage"] = "someday"
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps(doc))
    target = tmp_path / "new.json"
    code, _, err = cli(target, "restore", str(bad))
    lines = err.splitlines()
    assert code == 2 and len(lines) == 3, err
    assert "'lots' is not a number" in lines[0] + lines[1]
    assert "'someday'" in lines[0] + lines[1]
    assert "2 problems found; nothing was restored" in lines[2]
    assert not target.exists()
    code, _, err = cli(target, "restore", str(tmp_path / "nope.json"))
    assert code == 2 and err.count("\n") == 1 and "no file" in err


def test_cli_log_filters_and_json(tmp_path: Path) -> None:
    store = _rich_store(tmp_path / "team.json")
    code, out, err = cli(store.path, "log", "--kpi", "Daily output", "--since", "2026-11-20")
    assert code == 0, err
    assert "changed the unit of KPI Daily output from 'units' to 'pcs'" in out
    assert "set the target of Daily output to 920 from 2026-12-01 (was 910)" in out
    assert "Scrap" not in out
    code, out, _ = cli(store.path, "log", "--board", "Line 2 Assembly", "--json")
    changes = orjson.loads(out)["changes"]
    assert changes and {c["board"] for c in changes} == {2}
    assert {"at", "who", "what", "kind", "board", "kpi", "action"} <= set(changes[0])
    code, out, err = cli(store.path, "log", "--since", "2100-01-01")
    assert code == 0 and out == "" and "nothing changed" in err
    code, _, err = cli(store.path, "log", "--kpi", "Nope")
    assert code == 2 and "no KPI named 'Nope'" in err
