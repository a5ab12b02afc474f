"""One contract, both engines: the same commands give the same answers on the TinyDB file and on
PostgreSQL (`--store postgresql://...`). Every test here runs once per engine."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from store.db import whoami
from tui.cli import main

DAY = date(2026, 11, 20)


class Run:
    """`main` on one store (a file path or a database URL); returns (exit code, out, err)."""

    def __init__(self, store: str, who: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.store = store
        self.who = who  # who the engine says wrote: the OS login, or the database role
        self.capsys = capsys

    def __call__(self, *argv: str, today: date = DAY) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--store", self.store, *argv], today=today)
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str) -> str:
        code, out, err = self(*argv)
        assert code == 0, err
        assert err == ""
        return out

    def json(self, *argv: str) -> Any:
        return json.loads(self.ok(*argv, "--json"))


@pytest.fixture(params=["file", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store's name on each engine: a file, or a fresh database (no store in it yet)."""
    if request.param == "file":
        return str(tmp_path / "team.json")
    url = request.getfixturevalue("pg_url")
    assert isinstance(url, str)
    return url


@pytest.fixture
def run(engine: str, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(engine, "postgres" if engine.startswith("postgresql") else whoami(), capsys)


@pytest.fixture
def tb(run: Run) -> Run:
    """A store with board Line 3 and KPI OEE (up to 85 %, amber 80)."""
    run.ok("init")
    run.ok("board", "add", "Line 3", "--description", "the filler line")
    run.ok("kpi", "add", "OEE", "--board", "Line 3", "--target", "85", "--unit", "%",
           "--amber", "80")  # fmt: skip
    return run


def test_no_store_yet_says_how_to_make_one(run: Run) -> None:
    code, out, err = run("status")
    assert code == 1 and out == ""
    assert "init" in err and len(err.strip().splitlines()) == 1


def test_init_makes_an_empty_store_and_refuses_a_second_time(run: Run) -> None:
    assert "created an empty store" in run.ok("init")
    assert run.json("board", "list") == {"boards": []}
    code, _, err = run("init")
    assert code == 1 and "already" in err and len(err.strip().splitlines()) == 1


def test_record_and_status(tb: Run) -> None:
    assert "red" in tb.ok("record", "OEE", "78.5")
    tb.ok("record", "OEE", "88", "--date", "2026-11-19")
    (kpi,) = tb.json("status")["kpis"]
    assert kpi["name"] == "OEE"
    assert kpi["status"] == "red"
    assert kpi["value"] == 78.5


def test_latest_entry_per_day_wins_and_the_old_one_is_kept(tb: Run) -> None:
    tb.ok("record", "OEE", "70", "--note", "jam")
    tb.ok("record", "OEE", "90")
    entries = tb.json("history", "OEE")["entries"]
    assert [e["value"] for e in entries] == [70, 90]
    assert [e["superseded"] for e in entries] == [True, False]
    assert {e["who"] for e in entries} == {tb.who}
    assert entries[0]["note"] == "jam"
    (kpi,) = tb.json("status")["kpis"]
    assert (kpi["value"], kpi["status"]) == (90, "green")


def test_actions_move_through_pdca(tb: Run) -> None:
    assert tb.ok("action", "add", "fix the filler", "--kpi", "OEE", "--owner", "ann").strip()
    tb.ok("action", "move", "1", "do")
    (action,) = tb.json("action", "list")["actions"]
    assert (action["title"], action["stage"], action["owner"]) == ("fix the filler", "do", "ann")
    assert "fix the filler" in tb.ok("status")


def test_targets_change_from_a_date(tb: Run) -> None:
    tb.ok("target", "OEE", "90", "--from", "2026-12-01")
    (kpi,) = tb.json("kpi", "list")["kpis"]
    assert [(t["value"], t["from"]) for t in kpi["targets"]] == [(85, None), (90, "2026-12-01")]


def test_bad_input_is_one_line_exit_2_and_writes_nothing(tb: Run) -> None:
    before = tb.ok("export", "--format", "json")
    for argv in (
        ("kpi", "add", "Scrap", "--board", "Nowhere", "--target", "2"),
        ("record", "OEE", "not-a-number"),
        ("kpi", "add", "oee", "--board", "Line 3", "--target", "1"),  # the name is taken
    ):
        code, _out, err = tb(*argv)
        assert code == 2, (argv, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    after = tb.ok("export", "--format", "json")

    def strip(s: str) -> Any:
        return {k: v for k, v in json.loads(s).items() if k != "exported_at"}

    assert strip(before) == strip(after)


def test_the_store_interface_refuses_a_bad_action_title_or_owner_as_bad_input(tb: Run) -> None:
    """A caller of `store.ops` that skips the CLI's checks (a script, a future screen) gets the
    same one-line `BadInput`, never a codec error, and nothing is written."""
    from store import ops
    from store.db import Store
    from store.errors import BadInput
    from store.pg import is_url, open_store

    store = open_store(tb.store) if is_url(tb.store) else Store(Path(tb.store))
    before = tb.ok("export", "--format", "json")
    action = ops.add_action(store, "Clean the nozzle", board="Line 3", owner="alice")
    for title, owner in (("   ", ""), ("stop\x1b[2Jnow", ""), ("x" * 201, ""), ("ok", "two words")):
        with pytest.raises(BadInput):
            ops.add_action(store, title, board="Line 3", owner=owner)
        with pytest.raises(BadInput):
            ops.edit_action(store, action.id, title=title if owner == "" else None,
                            owner=owner or None)  # fmt: skip
    assert ops.add_action(store, "  Check   the seal ", board="Line 3").title == "Check the seal"
    after = json.loads(tb.ok("export", "--format", "json"))
    assert [a["title"] for a in after["actions"]] == ["Clean the nozzle", "Check the seal"]
    assert [len(a["history"]) for a in after["actions"]] == [1, 1]  # no refused edit was kept
    assert json.loads(before)["actions"] == []


def test_read_boards_holds_the_boards_alone(tb: Run) -> None:
    """What `show` and `huddle` check before the app starts: every board, and nothing else read."""
    from store.db import Store
    from store.pg import is_url, open_store

    tb.ok("board", "add", "Line 4", "--parent", "Line 3")
    tb.ok("record", "OEE", "81")
    store = open_store(tb.store) if is_url(tb.store) else Store(Path(tb.store))
    snap = store.read_boards()
    assert sorted(b.name for b in snap.boards.values()) == ["Line 3", "Line 4"]
    assert snap.board_named("line 4").parent == snap.board_named("Line 3").id
    assert (snap.kpis, snap.entries, snap.actions) == ({}, {}, {})


def test_export_and_restore_carry_everything_across_engines(
    tb: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    """A file's export restores into PostgreSQL and back, keeping who and when."""
    tb.ok("record", "OEE", "70")
    tb.ok("record", "OEE", "80")
    tb.ok("action", "add", "fix it", "--kpi", "OEE")
    dump = tmp_path / "export.json"
    dump.write_text(tb.ok("export", "--format", "json"))
    csv = tb.ok("export")
    assert csv.count("OEE") == 2  # both entries, the superseded one too
    other = (
        str(tmp_path / "copy.json")
        if tb.store.startswith("postgresql")
        else request.getfixturevalue("pg_url")
    )
    copy = Run(other, tb.who, capsys)
    assert "restored" in copy.ok("restore", str(dump))
    assert copy.json("history", "OEE") == tb.json("history", "OEE")
    assert copy.json("action", "list") == tb.json("action", "list")
