"""Where the issues meet on the command line: `tree --as-of` (issue 11's flag on issue 10's
command), and the roll-up in `status --as-of` computed from that day's store."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY, fingerprint

from store import Store
from store.demo import build
from tui.cli import main


def run(path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--store", str(path), *argv], today=TODAY)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "demo.json"
    build(Store(path), TODAY)
    return path


def test_tree_as_of_a_day_shows_that_day(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = fingerprint(demo)
    day = TODAY - timedelta(days=3)
    code, out, err = run(demo, capsys, "tree", "--as-of", day.isoformat())
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "as of Tue 17 Nov 2026 (past, read-only)"
    # The demo's reviews: the plant's 4 days ago, the department's yesterday, Line 2's 3 days
    # ago: counted from that day, and the department's not made yet.
    live = run(demo, capsys, "tree")[1]
    assert not live.startswith("as of")
    assert "Operations · last review 4 d ago" in live and "Assembly · last review 1 d ago" in live
    assert "Operations · last review 1 d ago" in out
    assert "  Assembly · never reviewed" in out
    assert "Line 2 Assembly · last review today" in out
    # The goals were there then: the tree is not empty of them.
    assert "◎ Deliver every order on the promised day" in out
    assert fingerprint(demo) == before  # read-only

    doc: dict[str, Any] = json.loads(run(demo, capsys, "tree", "--as-of", day.isoformat(),
                                         "--json")[1])  # fmt: skip
    assert doc["as_of"] == doc["today"] == day.isoformat()
    assert json.loads(run(demo, capsys, "tree", "--json")[1])["as_of"] is None


def test_tree_as_of_refuses_a_future_day_or_a_bad_date(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = fingerprint(demo)
    for bad, says in (((TODAY + timedelta(days=1)).isoformat(), "after today"),
                      ("31/12/2013", "--as-of")):  # fmt: skip
        code, out, err = run(demo, capsys, "tree", "--as-of", bad)
        assert code == 2 and out == "" and err.count("\n") == 1 and says in err, err
    assert fingerprint(demo) == before


def test_status_as_of_rolls_up_that_day(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The demo's escalations: raised two days ago, one answered yesterday. As of two days ago
    both wait on the department; three days ago neither was raised."""
    two, three = ((TODAY - timedelta(days=n)).isoformat() for n in (2, 3))

    def tiers(*argv: str) -> dict[str, Any]:
        doc = json.loads(run(demo, capsys, "status", "Assembly", "--json", *argv)[1])
        return doc["tiers"][0]  # type: ignore[no-any-return]

    assert len(tiers()["escalations_waiting"]) == 1
    assert len(tiers("--as-of", two)["escalations_waiting"]) == 2
    assert tiers("--as-of", three)["escalations_waiting"] == []
    line2 = {c["board"]: c for c in tiers("--as-of", three)["children"]}["Line 2 Assembly"]
    assert line2["open_escalations"] == 0
    # The department's own review was yesterday: not there three days ago.
    assert tiers()["summary"]["last_review"]["who"] == "ana"
    assert tiers("--as-of", three)["summary"]["last_review"] is None


def test_the_roll_up_counts_staleness_at_the_same_instant_as_the_board(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A KPI due at 14:00 whose last value is three days old is late at 10:00 (the value for the
    day before yesterday was due yesterday) and stale only from 14:00: the team's own status, the
    plant's roll-up of it and the tree say the same at 10:00."""
    from datetime import datetime, time

    from store import ops

    path = tmp_path / "t.json"
    store = Store(path)
    ops.init(store)
    ops.add_board(store, "Plant")
    ops.add_board(store, "Team", parent="Plant")
    ops.add_kpi(store, "Output", "Team", 50.0, due=time(14, 0))
    ops.record(store, "Output", 60.0, TODAY - timedelta(days=3), TODAY)

    def at(hour: int, *argv: str) -> Any:
        capsys.readouterr()
        now = datetime.combine(TODAY, time(hour, 0))
        assert main(["--store", str(path), *argv, "--json"], now=now) == 0
        return json.loads(capsys.readouterr().out)

    own = at(10, "status", "Team")["kpis"][0]
    assert own["status"] == "green"  # late, not stale yet
    below = at(10, "status", "Plant")["tiers"][0]["children"][0]["own"]
    assert below["stale"] == 0 and below["green"] == 1
    tree = at(10, "tree")["tree"][0]["children"][0]["kpis_without_goal"][0]
    assert tree["status"] == "green"
    # From 14:00 all three say stale.
    assert at(15, "status", "Team")["kpis"][0]["status"] == "stale"
    assert at(15, "status", "Plant")["tiers"][0]["children"][0]["own"]["stale"] == 1
    assert at(15, "tree")["tree"][0]["children"][0]["kpis_without_goal"][0]["status"] == "stale"


def test_export_restore_on_the_command_line_carries_estimates_and_explanations(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import time

    from store import explain, ops, plans

    store = Store(demo)
    ops.edit_kpi(store, "Daily output", due=time(9, 30))
    plans.plan(store, "Daily output", 880.0, TODAY, by="ana")
    explain.explain(store, "Scrap cost", "torque tool at the lab", TODAY)
    code, first, err = run(demo, capsys, "export", "--format", "json")
    assert code == 0 and err == ""
    backup = tmp_path / "backup.json"
    backup.write_text(first)
    restored = tmp_path / "restored.json"
    code, out, err = run(restored, capsys, "restore", str(backup))
    assert code == 0 and err == "", err
    assert "1 estimate" in out and "1 explanation" in out
    again = run(restored, capsys, "export", "--format", "json")[1]
    a, b = json.loads(first), json.loads(again)
    a.pop("exported_at"), b.pop("exported_at")
    assert a == b
    for argv in (("estimates", "Line 2 Assembly"), ("status", "Line 2 Assembly"), ("tree",),
                 ("calendar", "Line 2 Assembly")):  # fmt: skip
        was, now = run(demo, capsys, *argv, "--json"), run(restored, capsys, *argv, "--json")
        assert was[0] == 0 and was == now, argv
