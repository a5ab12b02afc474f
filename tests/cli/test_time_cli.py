"""Issue 11 on the command line, with a frozen today (and now): `--as-of` on a year of past
daily data imported from CSV, `--due` and lateness, targets in time, `plan` and `estimates`,
`explain` and the minutes. Bad input: one line, exit 2, nothing written."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from store import Store, ops
from tui.cli import main

TODAY = date(2026, 11, 20)  # a Friday


class Run:
    """`main` on one store with a frozen today (and optionally now)."""

    def __init__(self, path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.path = path
        self.capsys = capsys

    def __call__(
        self, *argv: str, today: date = TODAY, now: datetime | None = None
    ) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--store", str(self.path), *argv], today=today, now=now)
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str, today: date = TODAY, now: datetime | None = None) -> str:
        code, out, err = self(*argv, today=today, now=now)
        assert code == 0, err
        return out

    def json(self, *argv: str, today: date = TODAY, now: datetime | None = None) -> Any:
        return json.loads(self.ok(*argv, "--json", today=today, now=now))

    def json_minutes(self) -> Any:
        return json.loads(self.ok("minutes", "--format", "json"))

    def refused(self, *argv: str, today: date = TODAY) -> str:
        """Exit 2, one line on stderr, nothing on stdout, the store untouched."""
        before = self.path.read_bytes()
        code, out, err = self(*argv, today=today)
        assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
        assert "Traceback" not in err
        assert self.path.read_bytes() == before
        return err


@pytest.fixture
def tb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    run = Run(tmp_path / "team.json", capsys)
    run.ok("init")
    return run


def year_csv(path: Path) -> Path:
    """A year of 2013's daily data for five KPIs on one site, each ending differently on
    31 Dec: Green, Amber and Red (last value 120, 95, 50 against 100, amber 90), Late (last
    value 29 Dec; due 07:00 is set after the import) and Stale (last value 26 Dec)."""
    rows = ["board,kpi,date,value,target,amber,owner"]
    last = {"Green": 120, "Amber": 95, "Red": 50, "Late": 120, "Stale": 120}
    ends = {"Green": 365, "Amber": 365, "Red": 365, "Late": 363, "Stale": 360}
    for name in last:
        for n in range(ends[name]):
            day = date(2013, 1, 1) + timedelta(days=n)
            value = last[name] if n == ends[name] - 1 else 110
            extra = "100,90,ben" if n == 0 else ",,"
            rows.append(f"North,{name},{day.isoformat()},{value},{extra}")
    out = path / "year.csv"
    out.write_text("\n".join(rows) + "\n")
    return out


def test_as_of_the_last_day_of_an_imported_year(tb: Run, tmp_path: Path) -> None:
    out = tb.ok("import", str(year_csv(tmp_path)), "--create")
    assert "imported 1818 entries" in out
    tb.ok("kpi", "edit", "Late", "--due", "07:00")
    live = tb.json("status", "North")
    assert {k["status"] for k in live["kpis"]} == {"stale"}  # today, every one is stale
    past = tb.json("status", "North", "--as-of", "2013-12-31")
    assert past["as_of"] == "2013-12-31"
    assert {k["name"]: k["status"] for k in past["kpis"]} == {
        "Green": "green",
        "Amber": "amber",
        "Red": "red",
        "Late": "green",
        "Stale": "stale",
    }
    late = next(k for k in past["kpis"] if k["name"] == "Late")
    assert "late" in late["flags"] and late["late_since"] == "2013-12-31T07:00"
    text = tb.ok("status", "North", "--as-of", "2013-12-31")
    assert (
        "North · as of Tue 31 Dec 2013 (past, read-only) · 5 KPIs: 2 green, 1 amber, 1 red, "
        "1 stale, 1 late" in text
    )
    assert "late 16 h 59 min · ben" in text
    assert "stale since 27 Dec 2013" in text  # another year: with its year
    assert "red, no action" in text


def test_as_of_refuses_a_future_day_and_a_day_before_the_store(tb: Run) -> None:
    tb.ok("board", "add", "Line")
    err = tb.refused("status", "--as-of", "2026-11-21")
    assert "after today" in err
    err = tb.refused("status", "--as-of", "2020-01-01")
    assert "nothing was on a board by the end of 2020-01-01" in err
    assert "after today" in tb.refused("show", "--as-of", "+30")
    tb.refused("huddle", "--as-of", "not-a-day")


def test_a_due_time_gives_grace_then_late_with_no_write(tb: Run) -> None:
    tb.ok("board", "add", "Line")
    out = tb.ok("kpi", "add", "OEE", "--board", "Line", "--target", "85", "--due", "7:00",
                "--owner", "ben")  # fmt: skip
    assert "due 07:00" in out
    tb.ok("record", "OEE", "90", "--date", "2026-11-18")
    at_six = tb.json("status", now=datetime(2026, 11, 20, 6, 0))["kpis"][0]
    assert at_six["status"] == "green" and at_six["flags"] == []
    text = tb.ok("status", now=datetime(2026, 11, 20, 7, 35))
    assert "late 35 min · ben" in text
    nxt = tb.json("status", today=TODAY + timedelta(days=1),
                  now=datetime(2026, 11, 21, 7, 0))["kpis"][0]  # fmt: skip
    assert nxt["status"] == "stale"
    assert tb.json("kpi", "list")["kpis"][0]["due"] == "07:00"
    tb.ok("kpi", "edit", "OEE", "--due", "")
    assert tb.json("kpi", "list")["kpis"][0]["due"] is None
    for bad in ("25:00", "7", "7:60", "soon"):
        assert "is not a time: use HH:MM" in tb.refused("kpi", "edit", "OEE", "--due", bad)


def test_future_targets_show_beside_the_one_in_force(tb: Run) -> None:
    tb.ok("board", "add", "Line")
    tb.ok("kpi", "add", "OEE", "--board", "Line", "--target", "88")
    tb.ok("target", "OEE", "90", "--from", "2027-01-01")
    tb.ok("target", "OEE", "92", "--from", "2027-01-01")  # supersedes; both kept
    assert "target 88 · 92 from 1 Jan 2027" in tb.ok("kpi", "list")
    listed = tb.json("kpi", "list")["kpis"][0]
    assert listed["target"] == 88
    assert listed["next_target"] == {"value": 92, "from": "2027-01-01"}
    assert [t["value"] for t in listed["targets"]] == [88, 90, 92]
    assert "target 88 · 92 from 1 Jan 2027" in tb.ok("history", "OEE")
    status = tb.ok("status")
    assert "target 88 · 92 from 1 Jan 2027" in status  # a no-data tile's line
    assert tb.json("status")["kpis"][0]["target"] == 88
    # On 1 Jan 2027 the new one is in force, and the next is gone.
    assert "target 92 " in tb.ok("kpi", "list", today=date(2027, 1, 1)) + " "


def test_a_target_without_from_on_past_data_says_how_to_apply_it(tb: Run, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("board,kpi,date,value\nNorth,Calls,2013-01-01,10\n"
                                     "North,Calls,2013-01-02,20\n")  # fmt: skip
    tb.ok("import", str(tmp_path / "in.csv"), "--create")
    code, out, err = tb("target", "Calls", "18")
    assert code == 0 and "from 2026-11-20" in out
    assert "every value of Calls is from before today (2013-01-01 to 2013-01-02)" in err
    assert "teamboard --store" in err and "target Calls 18 --from 2013-01-01" in err
    code, out, err = tb("target", "Calls", "18", "--from", "2013-01-01")
    assert code == 0 and err == ""


def test_plan_before_the_work_and_who_estimates_well(tb: Run) -> None:
    tb.ok("board", "add", "Eng")
    tb.ok("kpi", "add", "Hours", "--board", "Eng", "--target", "20", "--direction", "down")
    tb.ok("plan", "Hours", "12", "--date", "2026-11-18", "--by", "ann")
    out = tb.ok("plan", "Hours", "15", "--date", "2026-11-18", "--by", "ann")
    assert "revises 12, kept in history" in out
    tb.ok("plan", "Hours", "20", "--date", "2026-11-18", "--by", "mgr")
    tb.ok("plan", "Hours", "10", "--date", "2026-11-19", "--by", "ann")
    assert "Sat 28 Nov" in tb.ok("plan", "Hours", "30", "--date", "+8", "--by", "ann")
    tb.ok("record", "Hours", "20", "--date", "2026-11-18")
    rec = tb.ok("record", "Hours", "8", "--date", "2026-11-19")
    assert "plan 10" in rec and "−2 (−20%)" in rec
    doc = tb.json("estimates")
    by = {e["by"]: e for e in doc["estimators"]}
    assert by["ann"]["count"] == 3 and by["ann"]["compared"] == 2
    assert by["ann"]["mean_bias_pct"] == pytest.approx(0.0)
    assert by["ann"]["gaps"][0]["bias_pct"] == pytest.approx(-25.0)
    assert by["mgr"]["mean_bias_pct"] == pytest.approx(0.0)
    text = tb.ok("estimates", "Eng", "--since", "2026-11-19")
    assert "ann" in text and "mean bias +25% (over)" in text and "mgr" not in text
    assert "largest gaps" in text
    assert "no estimates" in tb.ok("estimates", "--since", "2026-11-29")
    tb.refused("plan", "Hours", "lots", "--date", "today")
    tb.refused("plan", "Hours", "3")  # --date is required
    tb.refused("plan", "Nope", "3", "--date", "today")


def _huddle(path: Path, day: date) -> None:
    store = Store(path)
    snap = store.read()
    board = snap.default_board()
    ops.save_huddle(
        store,
        {
            "date": day.isoformat(),
            "board": board.name,
            "board_id": board.id,
            "facilitator": "ann",
            "attendees": ["ann"],
            "started": f"{day.isoformat()}T08:00:00Z",
            "ended": f"{day.isoformat()}T08:10:00Z",
            "duration_s": 600,
            "timebox_min": 15,
            "items": [],
            "actions": [],
            "notes": [],
            "skips": [],
        },
    )


def test_an_explanation_opens_the_gate_expires_and_is_in_the_minutes(tb: Run) -> None:
    tb.ok("board", "add", "Line")
    tb.ok("kpi", "add", "OEE", "--board", "Line", "--target", "88")
    tb.ok("record", "OEE", "70", "--date", "2026-11-19")
    assert "red, no action" in tb.ok("status")
    out = tb.ok("explain", "OEE", "supplier strike")
    assert "until Sat 21 Nov" in out
    status = tb.ok("status")
    assert "explained: supplier strike (until Sat)" in status and "no action" not in status
    flags = tb.json("status")["kpis"][0]
    assert flags["flags"] == ["explained"] and flags["explanation"]["until"] == "2026-11-21"
    _huddle(tb.path, TODAY)
    minutes = tb.ok("minutes")
    assert "## Explanations" in minutes and "- OEE: supplier strike (until Sat 21 Nov" in minutes
    assert tb.json_minutes()["huddles"][0]["explanations"][0]["text"] == "supplier strike"
    # Sunday: expired, the flag returns.
    sunday = date(2026, 11, 22)
    tb.ok("record", "OEE", "70", "--date", "2026-11-21", today=sunday)
    assert "red, no action" in tb.ok("status", today=sunday)
    # --until: a date of one's choosing; a past one is refused.
    assert "until Tue 1 Dec" in tb.ok("explain", "OEE", "waiting on parts", "--until", "2026-12-01")
    tb.ok("record", "OEE", "95", "--date", "2026-11-21")
    code, _, err = tb("explain", "OEE", "just in case")
    assert code == 0 and "OEE is green now" in err
    assert "before today" in tb.refused("explain", "OEE", "why", "--until", "2026-11-01")
    tb.refused("explain", "OEE", "   ")
    tb.refused("explain", "OEE", "why", "--until", "someday")


def test_minutes_as_of_show_the_last_huddle_by_that_day(tb: Run) -> None:
    tb.ok("board", "add", "Line")
    _huddle(tb.path, date(2026, 11, 18))
    _huddle(tb.path, date(2026, 11, 20))
    assert "Wed 18 Nov 2026" in tb.ok("minutes", "--as-of", "2026-11-19")
    assert "Fri 20 Nov 2026" in tb.ok("minutes")


def test_show_and_huddle_as_of_open_the_app_on_that_day(
    tb: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.cli import screens

    seen: list[dict[str, object]] = []

    def fake_run_app(path: Path, board: str | None, **options: object) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(screens, "run_app", fake_run_app)
    tb.ok("board", "add", "Line")
    tb.ok("show", "--as-of", "yesterday", today=date.today())
    tb.ok("huddle", "Line", "--as-of", "-2", today=date.today())
    tb.ok("show")
    assert seen[0]["as_of"] == date.today() - timedelta(days=1)
    assert seen[1]["as_of"] == date.today() - timedelta(days=2) and seen[1]["huddle"] is True
    assert "as_of" not in seen[2]  # live: the app gets no as_of at all
