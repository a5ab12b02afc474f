"""`teamboard calendar` and `kpi add/edit --category`: in-process through `main(argv, today)`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from conftest import TODAY
from conftest import CliRun as Run

from store import Store, calendar
from store.demo import build
from tui.cli import output


@pytest.fixture
def tb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Board Line with OEE (up to 85, amber 80) and Scrap (down to 2), no categories yet."""
    run = Run(tmp_path / "team.json", capsys)
    run.ok("init")
    run.ok("board", "add", "Line")
    run.ok("kpi", "add", "OEE", "--board", "Line", "--target", "85", "--amber", "80")
    run.ok("kpi", "add", "Scrap", "--board", "Line", "--target", "2", "--direction", "down")
    return run


@pytest.fixture
def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    path = tmp_path / "demo.json"
    build(Store(path), TODAY)
    return Run(path, capsys)


def test_kpi_add_and_edit_take_a_category(tb: Run) -> None:
    tb.ok("kpi", "add", "Near misses", "--board", "Line", "--target", "5", "--category", "s")
    tb.ok("kpi", "edit", "OEE", "--category", "Quality")
    tb.ok("kpi", "edit", "Scrap", "--category", "environment")
    snap = Store(tb.path).read()
    got = {k.name: k.category for k in snap.kpis.values()}
    assert got == {"OEE": "Quality", "Scrap": "Environment", "Near misses": "Safety"}
    tb.ok("kpi", "edit", "Scrap", "--category", "")
    assert Store(tb.path).read().kpi_named("Scrap").category == ""
    listed = {k["name"]: k["category"] for k in tb.json("kpi", "list")["kpis"]}
    assert listed == {"OEE": "Quality", "Scrap": "", "Near misses": "Safety"}


BAD = [
    ["kpi", "edit", "OEE", "--category", "two words"],
    ["kpi", "edit", "OEE", "--category", "Q9"],
    ["kpi", "add", "Yield", "--board", "Line", "--target", "9", "--category", "S/Q"],
    ["calendar", "--month", "2026-13"],
    ["calendar", "--month", "Nov"],
    ["calendar", "--month", "2026-1"],
    ["calendar", "Nope"],
    ["calendar", "--month"],
    ["calendar", "Line", "extra"],
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tb: Run, argv: list[str]) -> None:
    before = tb.path.read_bytes()
    code, out, err = tb(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith("teamboard: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert tb.path.read_bytes() == before


def test_no_category_yet_says_how_to_set_one(tb: Run) -> None:
    out = tb.ok("calendar")
    assert "No KPI of Line has a category yet" in out
    assert f"teamboard --store {tb.path} kpi edit NAME --category Q" in out


def test_a_board_without_kpis_says_how_to_add_one_with_a_category(tb: Run) -> None:
    tb.ok("board", "add", "Empty")
    out = tb.ok("calendar", "Empty")
    assert "Empty has no KPIs yet" in out and "--category Q" in out


def test_the_calendar_as_text(tb: Run) -> None:
    tb.ok("kpi", "edit", "OEE", "--category", "Q")
    tb.ok("kpi", "edit", "Scrap", "--category", "C")
    tb.ok("record", "OEE", "90", "--date", "2026-11-02")
    tb.ok("record", "OEE", "82", "--date", "2026-11-03")
    tb.ok("record", "OEE", "70", "--date", "2026-11-04", "--note", "Filler jammed.")
    tb.ok("record", "Scrap", "5", "--date", "2026-11-04", "--note", "filler  JAMMED")
    tb.ok("record", "Scrap", "6", "--date", "2026-11-05")
    out = tb.ok("calendar", "Line")
    lines = out.splitlines()
    assert lines[0] == "Line · SQCDP calendar · November 2026 (today Fri 20 Nov)"
    assert "✔ green  ▲ amber  ✖ red  · nothing recorded" in out
    assert "Q  Quality: 1 red, 1 amber, 1 green (OEE)" in out
    assert "C  Cost: 2 red, 0 amber, 0 green (Scrap)" in out
    assert "    Mo  Tu  We  Th  Fr  Sa  Su" in out
    assert "    2✔  3▲  4✖  5·  6·  7·  8·" in out  # OEE's week
    assert "   23  24  25  26  27  28  29" in out  # after today: no glyph
    assert "Red days: Q 1 · C 2 (total 3)" in out
    assert "Reasons written on red days (3 red entries, Pareto):" in out
    assert "  2  100%  Filler jammed (Q C)" in out
    assert "1 red entry without a note" in out
    assert "\x1b" not in out  # no colour when not a terminal


def test_json_is_the_store_calendar(tb: Run) -> None:
    tb.ok("kpi", "edit", "OEE", "--category", "Q")
    tb.ok("record", "OEE", "70", "--date", "2026-10-30", "--note", "Filler jammed")
    data = tb.json("calendar", "--month", "2026-10")
    snap = Store(tb.path).read()
    board = snap.board_named("Line")
    want = calendar.build("Line", snap.kpis_of(board.id), snap.entries, date(2026, 10, 1), TODAY)
    assert data == json.loads(output.dumps(calendar.as_json(want)))
    assert data["month"] == "2026-10" and data["uncategorised"] == ["Scrap"]
    assert data["categories"][0]["days"][29]["status"] == "red"
    assert data["reasons"][0]["reason"] == "Filler jammed"
    assert tb.json("calendar")["month"] == "2026-11"  # this month by default


def test_default_board_is_the_first_top_level_one(demo: Run) -> None:
    assert demo.json("calendar")["board"] == "Operations"
    team = demo.json("calendar", "line 2 assembly")
    assert team["board"] == "Line 2 Assembly"
    assert [c["letter"] for c in team["categories"]] == ["Q", "C", "D"]
    assert team["reasons"] and team["reasons"][0]["count"] >= 2


def test_colour_only_on_a_terminal_and_store_text_is_shown_not_obeyed(
    tb: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    tb.ok("kpi", "edit", "OEE", "--category", "Q")
    tb.ok("record", "OEE", "70", "--date", "2026-11-04", "--note", "bad\x1b[2Jlot")
    out = tb.ok("calendar")
    assert "bad␛[2Jlot (Q)" in out and "\x1b" not in out
    monkeypatch.setattr(output, "use_colour", lambda stream: True)
    painted = tb.ok("calendar")
    assert "\x1b[31m 4✖\x1b[0m" in painted
    assert "\x1b[2J" not in painted


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "2026-02"])
def test_any_month_of_the_calendar_prints(tb: Run, month: str) -> None:
    tb.ok("kpi", "edit", "OEE", "--category", "Q")
    assert tb.json("calendar", "--month", month)["month"] == month
    assert "Q  Quality: nothing recorded this month (OEE)" in tb.ok("calendar", "--month", month)
