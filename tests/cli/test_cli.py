"""The `teamboard` command line: in-process through `main(argv, today)` for speed, plus a few
runs of the installed script for exit codes, pipes and start-up imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun as Run

from store import Store, present, validate
from store.errors import NotFound
from tui.cli import error_line, main, output

DAY = date(2024, 5, 10)  # a Friday
SCRIPT = shutil.which("teamboard", path=str(Path(sys.executable).parent))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "team.json"


@pytest.fixture
def tb(path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """A store with board Line 3 (OEE up to 85 %, amber 80; Scrap down to 2 %)."""
    run = Run(path, capsys, DAY)
    run.ok("init")
    run.ok("board", "add", "Line 3", "--description", "the filler line")
    run.ok(
        "kpi", "add", "OEE", "--board", "Line 3", "--target", "85", "--unit", "%", "--amber", "80"
    )
    run.ok(
        "kpi", "add", "Scrap", "--board", "line 3", "--target", "2", "--direction", "down",
        "--unit", "%", "--counter", "OEE",
    )  # fmt: skip
    return run


@pytest.fixture
def empty(path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(path, capsys, DAY)


# --- init, missing and broken stores ----------------------------------------------------------


def test_init_creates_an_empty_store_and_refuses_to_overwrite(empty: Run, path: Path) -> None:
    out = empty.ok("init")
    assert "created an empty store" in out and "board add" in out
    before = path.read_bytes()
    code, _, err = empty("init")
    assert code == 1
    assert err.startswith("teamboard: ") and "exists already" in err
    assert err.count("\n") == 1
    assert path.read_bytes() == before


def test_init_demo_builds_the_demo_and_refuses_an_existing_store(empty: Run, path: Path) -> None:
    assert "demo store" in empty.ok("init", "--demo")
    status = empty.json("status", "--all")
    assert {"Operations", "Line 2 Assembly"} <= set(status["boards"])
    before = path.read_bytes()
    code, _, err = empty("init", "--demo")
    assert code == 1 and "exists already" in err
    assert path.read_bytes() == before


def test_init_accepts_an_empty_file(empty: Run, path: Path) -> None:
    path.write_bytes(b"")
    empty.ok("init")
    assert empty.json("board", "list") == {"boards": []}


def test_missing_store_says_how_to_create_one(empty: Run, path: Path) -> None:
    code, out, err = empty("status")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "init" in err and str(path) in err
    code, _, err = empty("record", "OEE", "1")
    assert code == 1 and "init" in err
    assert not path.exists()


def test_corrupt_store_names_line_and_column_and_is_left_alone(empty: Run, path: Path) -> None:
    path.write_text('{"boards": {\n  "1": {"name": "x",,}\n}\n')
    before = path.read_bytes()
    for argv in (["status"], ["record", "OEE", "1"], ["board", "add", "B"]):
        code, _, err = empty(*argv)
        assert code == 1, argv
        assert "line 2, column" in err and "Traceback" not in err
        assert err.count("\n") == 1
    assert path.read_bytes() == before


# --- boards -----------------------------------------------------------------------------------


def test_board_add_list_edit(tb: Run) -> None:
    assert "added board Packing" in tb.ok("board", "add", "Packing", "--parent", "line 3")
    text = tb.ok("board", "list")
    assert "Line 3" in text and "  Packing" in text and "the filler line" in text
    tb.ok("board", "edit", "Packing", "--name", "Packaging", "--kpi-limit", "3", "--parent", "")
    boards = {b["name"]: b for b in tb.json("board", "list")["boards"]}
    assert boards["Packaging"]["kpi_limit"] == 3 and boards["Packaging"]["parent"] is None
    assert boards["Line 3"]["kpis"] == 2


def test_board_names_must_be_unique(tb: Run, path: Path) -> None:
    before = path.read_bytes()
    code, _, err = tb("board", "add", "LINE 3")
    assert code == 2 and "exists already" in err
    assert path.read_bytes() == before


# --- KPIs and targets -------------------------------------------------------------------------


def test_kpi_list_edit_archive_restore(tb: Run) -> None:
    kpis = tb.json("kpi", "list")["kpis"]
    assert [k["name"] for k in kpis] == ["OEE", "Scrap"]
    assert kpis[1]["counter"] == "OEE" and kpis[1]["direction"] == "down"
    tb.ok("kpi", "edit", "oee", "--owner", "alice", "--kind", "leading", "--amber", "")
    oee = tb.json("kpi", "list", "Line 3")["kpis"][0]
    assert (oee["owner"], oee["kind"], oee["amber"]) == ("alice", "leading", None)
    tb.ok("record", "OEE", "80", "--date", "-1")
    assert "history is kept" in tb.ok("kpi", "archive", "OEE")
    assert [k["name"] for k in tb.json("kpi", "list")["kpis"]] == ["Scrap"]
    assert "archived" in tb.ok("kpi", "list", "--archived")
    assert len(tb.json("history", "OEE")["entries"]) == 1  # archived KPIs keep their history
    tb.ok("kpi", "archive", "OEE", "--restore")
    assert len(tb.json("kpi", "list")["kpis"]) == 2


def test_kpi_add_beyond_the_limit_needs_force(tb: Run, path: Path) -> None:
    tb.ok("board", "edit", "Line 3", "--kpi-limit", "2")
    before = path.read_bytes()
    code, _, err = tb("kpi", "add", "Yield", "--board", "Line 3", "--target", "98")
    assert code == 2 and "limit" in err and "--force" in err
    assert path.read_bytes() == before
    tb.ok("kpi", "add", "Yield", "--board", "Line 3", "--target", "98", "--force")
    assert len(tb.json("kpi", "list")["kpis"]) == 3


def test_target_changes_from_a_date_and_earlier_periods_keep_theirs(tb: Run) -> None:
    tb.ok("record", "OEE", "86", "--date", "-2")
    out = tb.ok("target", "OEE", "90", "--from", "yesterday")
    assert "90%" in out and "2024-05-09" in out
    tb.ok("record", "OEE", "87", "--date", "-1")
    entries = tb.json("history", "OEE")["entries"]
    assert [(e["target"], e["status"]) for e in entries] == [(85, "green"), (90, "amber")]


# --- record and history -----------------------------------------------------------------------


def test_record_prints_the_status_in_one_line(tb: Run) -> None:
    for n, value in ((4, "90"), (3, "88"), (2, "85"), (1, "82")):
        tb.ok("record", "OEE", value, "--date", f"-{n}")
    out = tb.ok("record", "oee", "78.5", "--note", "filler jammed")
    assert out.count("\n") == 1
    assert out.startswith("✖ red  OEE 78.5% (target 85%, −6.5 (−7.6%)) ↘ worsening")
    assert "red without an action" in out and "teamboard action add TITLE --kpi OEE" in out
    assert "\x1b" not in out  # captured output is not a terminal


def test_record_again_supersedes_and_history_keeps_both(tb: Run) -> None:
    tb.ok("record", "OEE", "80", "--date", "2024-05-09")
    out = tb.ok("record", "OEE", "86", "--date", "yesterday")
    assert out.startswith("✔ green  OEE 86%")
    assert "replaces 80% for 2024-05-09" in out
    hist = tb.json("history", "OEE")["entries"]
    assert [(e["value"], e["superseded"]) for e in hist] == [(80, True), (86, False)]
    text = tb.ok("history", "OEE")
    assert "2 entries, 1 superseded" in text
    line80 = next(line for line in text.splitlines() if " 80%" in line)
    assert "superseded" in line80


def test_record_with_plan_compares_with_the_plan(tb: Run) -> None:
    out = tb.ok("record", "OEE", "70", "--plan", "68")
    assert out.startswith("✔ green  OEE 70% (plan 68%, +2 (+2.9%))")


def test_record_mentions_an_older_date_and_staleness(tb: Run) -> None:
    out = tb.ok("record", "OEE", "90", "--date", "-5")
    assert "? stale" in out and "stale since Mon 6 May" in out  # this year: no year


def test_negative_values_are_values_not_options(tb: Run) -> None:
    tb.ok("kpi", "add", "Temp", "--board", "Line 3", "--target", "-5", "--direction", "down",
          "--amber", "-2", "--unit", "°C")  # fmt: skip
    out = tb.ok("record", "Temp", "-6.5", "--date", "-1")
    assert out.startswith("✔ green  Temp −6.5 °C (target −5 °C, −1.5 (−30%))")


def test_record_needs_board_when_the_name_is_on_several(tb: Run, path: Path) -> None:
    tb.ok("board", "add", "Line 4")
    tb.ok("kpi", "add", "OEE", "--board", "Line 4", "--target", "80")
    before = path.read_bytes()
    code, _, err = tb("record", "OEE", "81")
    assert code == 2 and "--board" in err
    assert path.read_bytes() == before
    assert "OEE 81" in tb.ok("record", "OEE", "81", "--board", "line 4")


def test_note_adds_to_the_latest_entry(tb: Run) -> None:
    tb.ok("record", "OEE", "80")
    tb.ok("note", "OEE", "second shift short-staffed")
    hist = tb.json("history", "OEE")["entries"]
    assert hist[-1]["note"] == "second shift short-staffed" and hist[-1]["value"] == 80


# --- bad input: exit 2, one line, nothing written ---------------------------------------------

BAD = [
    ["record", "OEE", "abc"],
    ["record", "OEE", "nan"],
    ["record", "OEE", "inf"],
    ["record", "OEE", "-Infinity"],
    ["record", "Nope", "1"],
    ["record", "OEE", "1", "--board", "Nope"],
    ["record", "OEE", "1", "--date", "2024-02-30"],
    ["record", "OEE", "1", "--date", "2024-05-12"],
    ["record", "OEE", "1", "--date", "someday"],
    ["record", "OEE", "1", "--plan", "lots"],
    ["board", "add", ""],
    ["board", "add", "   "],
    ["board", "add", "a\x1b[2Jb"],
    ["board", "add", "B", "--kpi-limit", "0"],
    ["board", "add", "B", "--parent", "Nope"],
    ["board", "edit", "Line 3"],
    ["kpi", "add", "x\ty", "--board", "Line 3", "--target", "1"],
    ["kpi", "add", "", "--board", "Line 3", "--target", "1"],
    ["kpi", "add", "Y", "--board", "Line 3", "--target", "NaN"],
    ["kpi", "add", "Y", "--board", "Nope", "--target", "1"],
    ["kpi", "add", "Y", "--board", "Line 3", "--target", "1", "--direction", "sideways"],
    ["kpi", "add", "Y", "--board", "Line 3", "--target", "90", "--amber", "95"],
    ["kpi", "add", "Y", "--board", "Line 3", "--target", "1", "--owner", "two words"],
    ["kpi", "edit", "OEE", "--frequency", "hourly"],
    ["kpi", "archive", "Nope"],
    ["target", "OEE", "inf"],
    ["target", "OEE", "90", "--from", "2024-13-01"],
    ["action", "add", "", "--kpi", "OEE"],
    ["action", "add", "Fix it", "--kpi", "Nope"],
    ["action", "add", "Fix it", "--due", "next week"],
    ["action", "move", "99", "do"],
    ["action", "move", "x1", "do"],
    ["action", "move", "1", "sideways"],
    ["action", "done", "#42"],
    ["history", "Nope"],
    ["status", "Nope"],
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a)[:60])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tb: Run, path: Path, argv: list[str]
) -> None:
    tb.ok("action", "add", "Existing action")
    before = path.read_bytes()
    code, out, err = tb(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith("teamboard: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "\x1b" not in err
    assert path.read_bytes() == before


def test_usage_errors_exit_2_in_one_line(tb: Run, path: Path) -> None:
    before = path.read_bytes()
    code, _, err = tb("record", "OEE")
    assert code == 2 and err.startswith("teamboard: ") and err.count("\n") == 1
    code, _, err = tb("frobnicate")
    assert code == 2 and "invalid choice" in err
    assert path.read_bytes() == before


# --- actions ----------------------------------------------------------------------------------


def test_action_lifecycle(tb: Run) -> None:
    assert tb.ok("action", "add", "Fix the filler", "--kpi", "oee", "--owner", "alice",
                 "--due", "2024-05-09") == "#1\n"  # fmt: skip
    assert tb.ok("action", "add", "Train the night shift", "--due", "2024-06-30") == "#2\n"
    acts = tb.json("action", "list")["actions"]
    assert [(a["id"], a["kpi"], a["overdue"], a["board"]) for a in acts] == [
        (1, "OEE", True, "Line 3"),
        (2, None, False, "Line 3"),
    ]
    assert "do" in tb.ok("action", "move", "#1", "next")
    tb.ok("action", "move", "1", "CHECK")
    tb.ok("action", "edit", "#2", "--owner", "bob", "--due", "none", "--title", "Train all shifts")
    two = tb.json("action", "list")["actions"][1]
    assert (two["owner"], two["due"], two["title"]) == ("bob", None, "Train all shifts")
    assert "#1 is done" in tb.ok("action", "done", "1")
    assert [a["id"] for a in tb.json("action", "list")["actions"]] == [2]
    assert [a["id"] for a in tb.json("action", "list", "--all")["actions"]] == [1, 2]
    code, _, err = tb("action", "done", "1")
    assert code == 2 and "done already" in err


# --- status -----------------------------------------------------------------------------------


def _populate(tb: Run) -> None:
    for n, value in ((3, "90"), (2, "88"), (1, "86")):
        tb.ok("record", "OEE", value, "--date", f"-{n}")
    tb.ok("record", "Scrap", "3.5", "--date", "-1")
    tb.ok("action", "add", "Re-train on the scrap rules", "--kpi", "Scrap", "--owner", "bob",
          "--due", "2024-05-08")  # fmt: skip


def test_status_text(tb: Run) -> None:
    _populate(tb)
    tb.ok("board", "add", "Packing")
    out = tb.ok("status")
    lines = out.splitlines()
    assert lines[0] == "Line 3 · 2024-05-10 · 2 KPIs: 1 green, 0 amber, 1 red, 0 stale"
    oee = next(line for line in lines if "OEE" in line)
    assert "✔ green" in oee and "86%" in oee and "target 85%" in oee and "↘ worsening" in oee
    scrap = next(line for line in lines if "Scrap" in line and "%" in line)
    assert "✖ red" in scrap and "3.5%" in scrap and "+1.5 (+75%)" in scrap
    act = next(line for line in lines if "#1" in line)
    assert all(w in act for w in ("plan", "bob", "due 2024-05-08", "OVERDUE", "→ Scrap"))
    assert "Packing" not in out
    assert "\x1b" not in out
    everything = tb.ok("status", "--all")
    assert "Packing · 2024-05-10 · 0 KPIs" in everything and "kpi add" in everything


def test_status_flags_red_without_action_and_counter_red(tb: Run) -> None:
    tb.ok("kpi", "edit", "OEE", "--counter", "Scrap")
    tb.ok("record", "OEE", "90", "--date", "-1")
    tb.ok("record", "Scrap", "3", "--date", "-1")
    views = {k["name"]: k for k in tb.json("status")["kpis"]}
    assert views["Scrap"]["flags"] == ["red-no-action"]
    assert views["OEE"]["flags"] == ["counter-red"] and views["OEE"]["counter"] == "Scrap"
    text = tb.ok("status")
    assert "red, no action" in text and "counter-metric red (Scrap)" in text


def test_status_json_shape(tb: Run) -> None:
    _populate(tb)
    tb.ok("kpi", "add", "Yield", "--board", "Line 3", "--target", "98")
    tb.ok("kpi", "add", "Safety", "--board", "Line 3", "--target", "0", "--direction", "down")
    tb.ok("record", "Safety", "0", "--date", "-4")
    doc = tb.json("status")
    assert set(doc) >= {"kpis", "actions"}
    need = {"board", "name", "value", "unit", "target", "plan", "status", "colour", "trend",
            "variance", "variance_pct", "flags", "stale_since", "owner", "kind"}  # fmt: skip
    for k in doc["kpis"]:
        assert need <= set(k)
        assert k["status"] in {"green", "amber", "red", "stale", "no-data"}
        assert isinstance(k["flags"], list)
    by = {k["name"]: k for k in doc["kpis"]}
    assert by["OEE"]["value"] == 86 and by["OEE"]["target"] == 85 and by["OEE"]["unit"] == "%"
    assert by["OEE"]["variance"] == pytest.approx(1) and by["OEE"]["trend"] == "worsening"
    assert by["Scrap"]["status"] == "red" and by["Scrap"]["variance_pct"] == pytest.approx(75)
    assert by["Yield"]["status"] == "no-data" and by["Yield"]["value"] is None
    assert by["Safety"]["status"] == "stale" and by["Safety"]["stale_since"] == "2024-05-07"
    assert by["Safety"]["flags"] == ["stale"] and by["Safety"]["variance_pct"] is None
    (act,) = doc["actions"]
    assert {"id", "title", "owner", "due", "stage", "overdue", "kpi", "board"} <= set(act)
    assert (act["id"], act["stage"], act["overdue"], act["kpi"]) == (1, "plan", True, "Scrap")


def test_colour_only_for_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    class Pipe:
        def isatty(self) -> bool:
            return False

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert output.use_colour(Tty())  # type: ignore[arg-type]
    assert not output.use_colour(Pipe())  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert not output.use_colour(Tty())  # type: ignore[arg-type]
    paint = output.Painter(True)
    assert paint("x", "alarm") == "\x1b[1;31mx\x1b[0m"
    assert output.Painter(False)("x", "alarm") == "x"


# --- what comes from the store is shown, never obeyed -----------------------------------------


def test_markup_and_escapes_from_the_store_are_printed_safely(tb: Run) -> None:
    tb.ok("kpi", "add", "[b]x[/b]", "--board", "Line 3", "--target", "1")
    out = tb.ok("record", "[B]X[/B]", "2", "--note", "red \x1b[31malert\x1b[0m")
    assert "[b]x[/b] 2" in out
    for argv in (["status"], ["history", "[b]x[/b]"], ["kpi", "list"]):
        text = tb.ok(*argv)
        assert "[b]x[/b]" in text
        assert "\x1b" not in text
    hist = tb.ok("history", "[b]x[/b]")
    assert "red ␛[31malert␛[0m" in hist
    raw = tb.ok("history", "[b]x[/b]", "--json")
    assert "\x1b" not in raw and json.loads(raw)["entries"][0]["note"] == "red \x1b[31malert\x1b[0m"


def test_json_escapes_c1_and_bidi_controls() -> None:
    text = output.dumps({"note": "a\x9bb\u202ec"})
    assert "\x9b" not in text and "\u202e" not in text
    assert json.loads(text) == {"note": "a\x9bb\u202ec"}


def test_numbers_read_as_recorded_and_read_back_exactly() -> None:
    """One style everywhere (store.present): as typed, no separators, a real minus sign."""
    values = (0, 85, 78.5, 77.25, 0.1 + 0.2, -6.5, 1250000, 1234567.891, 123456789012.345, 1e-7)
    shown = [present.num(x) for x in values]
    assert shown == [
        "0", "85", "78.5", "77.25", "0.3", "−6.5", "1250000", "1234567.891", "123456789012.345",
        "1e-7",
    ]  # fmt: skip
    for x, text in zip(values[:4] + values[5:], shown[:4] + shown[5:], strict=True):
        assert validate.number(text) == x  # what the board shows, the command line takes back
    assert present.num(float("nan")) == "n/a" and present.num(-float("inf")) == "−∞"
    assert present.signed(-6.5) == "−6.5" and present.signed(2) == "+2" and present.signed(0) == "0"
    assert present.with_unit(85, "%") == "85%" and present.with_unit(12, "min") == "12 min"
    assert present.fit_num(77.25, 10) == "77.25" and present.fit_num(1234567.891, 8) == "≈1234568"
    assert present.difference(100.01, 100) == 0.01  # float noise never shows in a variance


def test_dates_carry_the_year_unless_it_is_this_one() -> None:
    assert present.short_date(date(2024, 5, 6), DAY) == "Mon 6 May"
    assert present.short_date(date(2023, 12, 29), DAY) == "29 Dec 2023"
    assert present.short_date(date(2024, 5, 6)) == "6 May 2024"  # no today: never guess the year


def test_a_domain_error_gets_the_flag_to_use(tb: Run) -> None:
    """The store says what is wrong in domain words (what the app shows); the command line
    words the remedy as the flag or command to type."""
    tb.ok("board", "add", "Line 4")
    tb.ok("kpi", "add", "OEE", "--board", "Line 4", "--target", "80")
    with pytest.raises(NotFound) as caught:
        Store(tb.path).read().kpi_named("OEE")
    assert str(caught.value) == "KPI 'OEE' is on several boards (Line 3, Line 4); name the board"
    assert error_line(caught.value, "") == (
        "KPI 'OEE' is on several boards (Line 3, Line 4); add --board BOARD"
    )
    code, _, err = tb("action", "edit", "1")
    assert code == 2 and "no action #1; see `teamboard --store " in err and "action list`" in err
    tb.ok("action", "add", "Fix it")
    code, _, err = tb("action", "edit", "1")
    assert err == "teamboard: nothing to change; give --title, --owner, --due or --kpi\n"
    tb.ok("board", "edit", "Line 4", "--kpi-limit", "1")
    code, _, err = tb("kpi", "add", "Yield", "--board", "Line 4", "--target", "1")
    assert code == 2 and "board edit 'Line 4' --kpi-limit N`, or add --force" in err


def test_an_empty_value_clears_every_optional_field(tb: Run) -> None:
    tb.ok("kpi", "edit", "Scrap", "--unit", "%", "--amber", "3", "--owner", "ana", "--goal", "g",
          "--description", "d")  # fmt: skip
    tb.ok("kpi", "edit", "Scrap", "--unit", "", "--amber", "", "--owner", "", "--counter", "",
          "--goal", "", "--description", "")  # fmt: skip
    scrap = tb.json("kpi", "list")["kpis"][1]
    fields = ("unit", "amber", "owner", "counter", "goal", "description")
    assert [scrap[k] for k in fields] == ["", None, "", None, "", ""]
    tb.ok("board", "add", "Packing", "--parent", "Line 3", "--description", "boxes")
    tb.ok("board", "edit", "Packing", "--parent", "", "--description", "")
    packing = tb.json("board", "list")["boards"][1]
    assert (packing["parent"], packing["description"]) == (None, "")
    tb.ok("action", "add", "Fix it", "--owner", "ana", "--due", "+3")
    tb.ok("action", "edit", "1", "--owner", "", "--due", "")
    tb.ok("action", "add", "Fix that", "--due", "+3")
    tb.ok("action", "edit", "2", "--due", "none")  # the alias `--due` has always taken
    acts = tb.json("action", "list")["actions"]
    assert [(a["owner"], a["due"]) for a in acts] == [("", None), ("", None)]


# --- import and export ------------------------------------------------------------------------


def test_import_is_all_or_nothing_with_a_report_per_row(
    tb: Run, path: Path, tmp_path: Path
) -> None:
    csv_file = tmp_path / "in.csv"
    csv_file.write_text(
        "board,kpi,date,value,plan,note\n"
        "Line 3,OEE,2024-05-01,81,,ok\n"
        "Line 3,Nope,2024-05-01,1,,\n"
        "Line 3,OEE,2024-02-30,81,,\n"
        "Line 3,OEE,2024-05-02,lots,,\n"
        "Line 9,OEE,2024-05-02,1,,\n"
        "Line 3,OEE,2024-05-30,1,,\n"
        "Line 3,OEE,2024-05-03,80,x,\n"
    )
    before = path.read_bytes()
    code, out, err = tb("import", str(csv_file))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert [line.split(":")[2] for line in lines[:-1]] == ["3", "4", "5", "6", "7", "8"]
    assert "no KPI named 'Nope'" in lines[0] and "not a date" in lines[1]
    assert "not a number" in lines[2] and "no board named 'Line 9'" in lines[3]
    assert "more than a day ahead" in lines[4] and "plan" in lines[5]
    assert "6 of 7 rows rejected; nothing was imported" in lines[-1]
    assert "Traceback" not in err
    assert path.read_bytes() == before


def test_import_writes_every_row_in_one_go(tb: Run, tmp_path: Path) -> None:
    csv_file = tmp_path / "in.csv"
    csv_file.write_text(
        "\ufeffBoard,KPI,Date,Value,Plan,Note\n"  # Excel's BOM and capitals
        'line 3,oee,2024-05-01,81,,"jammed, twice"\n'
        "Line 3,OEE,2024-05-02,1081,1000,\n"
        "\n"
        "Line 3,Scrap,-1,1.5,,\n"
    )
    assert tb.ok("import", str(csv_file)) == "imported 3 entries\n"
    hist = tb.json("history", "OEE")["entries"]
    assert [(e["value"], e["plan"], e["note"]) for e in hist] == [
        (81, None, "jammed, twice"),
        (1081, 1000, ""),
    ]


def test_import_create_makes_boards_and_kpis_with_the_mean_as_target(
    tb: Run, tmp_path: Path
) -> None:
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("board,kpi,date,value\nCalls,Answered,-2,10\nCalls,Answered,-1,20\n")
    code, _, err = tb("import", str(csv_file))
    assert code == 2 and "--create" in err
    out = tb.ok("import", str(csv_file), "--create")
    assert "created board Calls" in out
    assert "created KPI Answered on Calls with target 15" in out and "teamboard" in out
    kpi = tb.json("kpi", "list", "Calls")["kpis"][0]
    assert kpi["target"] == 15


def test_import_rejects_an_unknown_column_and_a_missing_file(tb: Run, tmp_path: Path) -> None:
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("board,kpi,date,vlaue\nLine 3,OEE,-1,1\n")
    code, _, err = tb("import", str(csv_file))
    assert code == 2 and "missing column value" in err and "unknown column vlaue" in err
    code, _, err = tb("import", str(tmp_path / "nope.csv"))
    assert code == 2 and err.count("\n") == 1


def test_export_csv_imports_back_into_a_new_store(
    tb: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _populate(tb)
    tb.ok("record", "OEE", "85", "--date", "-1", "--note", 'said "ok", then\nleft')  # supersedes
    exported = tb.ok("export")
    assert exported.splitlines()[0] == "board,kpi,date,value,plan,note,who,at"
    assert len(exported.splitlines()) == 1 + 5 + 1  # header, five entries, one line break
    (tmp_path / "out.csv").write_text(exported)
    other = Run(tmp_path / "other.json", capsys, DAY)
    other.ok("init")
    other.ok("import", str(tmp_path / "out.csv"), "--create")

    def cells(text: str) -> list[list[str]]:
        import csv
        import io

        return [row[:6] for row in csv.reader(io.StringIO(text))]

    assert cells(other.ok("export")) == cells(exported)
    assert other.json("status")["kpis"][0]["value"] == 85  # the superseding value won again


def test_export_json_is_the_whole_store(tb: Run) -> None:
    _populate(tb)
    tb.ok("record", "OEE", "87", "--date", "-1")
    doc = json.loads(tb.ok("export", "--format", "json"))
    assert doc["format"] == "teamboard-export" and doc["version"] == 2
    assert [b["name"] for b in doc["boards"]] == ["Line 3"]
    assert [k["name"] for k in doc["kpis"]] == ["OEE", "Scrap"]
    assert doc["kpis"][1]["counter"] == "OEE" and doc["kpis"][0]["targets"][0]["value"] == 85
    oee = [(e["date"], e["value"], e["superseded"]) for e in doc["entries"] if e["kpi"] == "OEE"]
    assert oee == [
        ("2024-05-07", 90, False),
        ("2024-05-08", 88, False),
        ("2024-05-09", 86, True),
        ("2024-05-09", 87, False),
    ]
    assert doc["actions"][0]["kpi"] == "Scrap" and doc["actions"][0]["history"][0]["new"] == "plan"


# --- the screens: wired to tui.app.TeamboardApp, imported only when needed --------------------


class FakeApp:
    """Stands in for the Textual app: records how it was made; `crash` sets its return code."""

    calls: list[tuple[Path, str | None, dict[str, Any]]] = []
    crash: int | None = None

    def __init__(self, store_path: Path, board: str | None, **options: Any) -> None:
        self.calls.append((store_path, board, options))
        self.return_code: int | None = None

    def run(self) -> None:
        self.return_code = FakeApp.crash or 0


@pytest.fixture
def fake_app(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, str | None, dict[str, Any]]]:
    FakeApp.calls = []
    FakeApp.crash = None
    module = types.ModuleType("tui.app")
    module.TeamboardApp = FakeApp  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tui.app", module)
    return FakeApp.calls


def test_no_command_shows_the_default_store(
    fake_app: list[Any], tb: Run, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMBOARD_STORE", str(path))
    assert main([], today=DAY) == 0
    assert fake_app == [(path, None, {"wall": False, "rotate": 0.0, "poll": False})]


def test_show_and_huddle_pass_their_options(fake_app: list[Any], tb: Run, path: Path) -> None:
    tb.ok("show", "line 3", "--wall", "--rotate", "30", "--poll")
    tb.ok("huddle", "--minutes", "10")
    assert fake_app == [
        (path, "Line 3", {"wall": True, "rotate": 30.0, "poll": True}),
        (path, None, {"huddle": True, "minutes": 10}),
    ]
    code, _, err = tb("show", "Nope")
    assert code == 2 and "no board named" in err and len(fake_app) == 2


def test_show_checks_the_boards_alone_before_the_app_reads_the_store(
    fake_app: list[Any], tb: Run, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before a screen starts reads the boards, not the whole store: the app reads it
    at once anyway, and a million entries take seconds to build (the terminal stays blank)."""
    from store.snapshot import Snapshot

    def whole(*_args: Any, **_kw: Any) -> Any:
        raise AssertionError("the whole store was read before the app started")

    monkeypatch.setattr(Store, "read", whole)
    monkeypatch.setattr(Snapshot, "from_raw", whole)
    tb.ok("show", "line 3")
    tb.ok("huddle", "Line 3")
    code, _, err = tb("huddle", "Nope")
    assert code == 2 and "no board named 'Nope' (boards: Line 3)" in err
    assert [c[1] for c in fake_app] == ["Line 3", "Line 3"]
    path.write_text('{"boards": {"1": {"name": 5}}}')  # still one clear line for a bad store
    code, _, err = tb("show")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert len(fake_app) == 2


def test_an_app_that_crashes_does_not_exit_0(fake_app: list[Any], tb: Run) -> None:
    FakeApp.crash = 1
    for argv in (["show"], ["huddle"]):
        code, _, err = tb(*argv)
        assert code == 1 and "stopped on an error" in err and err.count("\n") == 1


def test_demo_builds_in_a_temporary_folder_or_the_given_new_store(
    fake_app: list[Any], empty: Run, path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"], today=DAY) == 0
    temp_path = fake_app[0][0]
    assert temp_path.exists() and "demo store at" in capsys.readouterr().err
    assert Store(temp_path).read().boards
    shutil.rmtree(temp_path.parent)
    empty.capsys.readouterr()
    assert main(["--store", str(path), "demo", "--wall"], today=DAY) == 0
    assert fake_app[1] == (path, "Line 2 Assembly", {"wall": True}) and Store(path).read().boards
    before = path.read_bytes()
    assert main(["--store", str(path), "demo"], today=DAY) == 0  # exists: used as it is
    assert path.read_bytes() == before


def test_interrupt_exits_130(tb: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    from store import ops

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ops, "record", interrupted)
    code, _, err = tb("record", "OEE", "1")
    assert code == 130 and "interrupted" in err


# --- the installed script ---------------------------------------------------------------------

needs_script = pytest.mark.skipif(SCRIPT is None, reason="pip install -e . to get the script")


def _script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert SCRIPT is not None
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TEAMBOARD_STORE")}
    return subprocess.run(
        [SCRIPT, *args], capture_output=True, text=True, env={**base, **(env or {})}, timeout=60
    )


@needs_script
def test_script_exit_codes(tmp_path: Path) -> None:
    store = str(tmp_path / "s.json")
    missing = _script("--store", store, "status")
    assert (
        missing.returncode == 1 and "init" in missing.stderr and "Traceback" not in missing.stderr
    )
    assert _script("--store", store, "init").returncode == 0
    bad = _script("--store", store, "record", "OEE", "abc")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    usage = _script("--store", store, "record")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
    helped = _script("--help")
    assert helped.returncode == 0 and "examples:" in helped.stdout and "record" in helped.stdout


@needs_script
def test_script_piped_output_has_no_ansi_and_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    store = tmp_path / "s.json"
    assert _script("--store", str(store), "init", "--demo").returncode == 0
    piped = _script("--store", str(store), "status", "--all", env={"TERM": "xterm-256color"})
    assert piped.returncode == 0 and "\x1b" not in piped.stdout and "✖ red" in piped.stdout
    shell = subprocess.run(
        ["bash", "-c", f"'{SCRIPT}' --store '{store}' export | head -1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shell.stdout == "board,kpi,date,value,plan,note,who,at\n"
    assert "Traceback" not in shell.stderr and "Broken pipe" not in shell.stderr


def test_importtime_lists_no_textual() -> None:
    """What CI checks (`.ci/run`): `python -X importtime -c 'import tui.cli'` shows no Textual."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import tui.cli"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    names = [
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    ]
    assert "tui.cli.entries" in names  # the listing is what we think it is
    assert [n for n in names if n.split(".")[0] in ("textual", "rich")] == []


def test_the_command_line_imports_no_textual() -> None:
    """`teamboard record` over SSH must not pay for Textual (nor for csv, the demo, ...)."""
    code = (
        "import sys, tui.cli\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'widgets', 'rich')\n"
        "       or m in ('tui.app', 'csv', 'store.csvio', 'store.demo', 'platformdirs',\n"
        "                'store.calendar', 'calendar', 'store.tiers', 'store.health',\n"
        "                'statistics', 'store.goals', 'store.asof', 'store.plans',\n"
        "                'store.explain', 'socket',\n"
        "                'aiohttp', 'textual_serve', 'psycopg')]\n"
        "print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
