"""The KPI tree across tiers on the command line (issue 10): goal, tree, action escalate |
answer | take, review, reviews, health, board edit --review-days, and the roll-up in status.
Bad input: one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CliRun as Run


@pytest.fixture
def tb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Plant → Dept → Team A, Team B; goal "Deliver on time" on Dept."""
    run = Run(tmp_path / "t.json", capsys)
    run.ok("init")
    run.ok("board", "add", "Plant")
    run.ok("board", "add", "Dept", "--parent", "Plant")
    run.ok("board", "add", "Team A", "--parent", "Dept", "--kpi-limit", "3")
    run.ok("board", "add", "Team B", "--parent", "Dept")
    run.ok("goal", "add", "Deliver on time", "--board", "Dept", "--due", "2026-12-31")
    return run


@pytest.fixture
def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    run = Run(tmp_path / "demo.json", capsys)
    run.ok("init", "--demo")
    return run


# --- goals ------------------------------------------------------------------------------------


def test_goal_add_list_edit_archive(tb: Run) -> None:
    out = tb.ok("goal", "add", "Win customers", "--board", "Plant", "--description", "the why")
    assert out.startswith("added goal Win customers to Plant")
    tb.ok("goal", "edit", "Deliver on time", "--parent-goal", "Win customers")
    listing = tb.json("goal", "list")["goals"]
    dot = next(g for g in listing if g["name"] == "Deliver on time")
    assert dot["board"] == "Dept" and dot["parent_goal"] == "Win customers"
    assert dot["due"] == "2026-12-31" and dot["kpis"] == []
    text = tb.ok("goal", "list", "Dept")
    assert "Deliver on time" in text and "serves Win customers" in text
    assert "no KPI serves it" in text and "Win customers  " not in text.split("\n")[0][:5]
    tb.ok("goal", "edit", "deliver on time", "--due", "", "--name", "On time", "--parent-goal", "")
    g = next(x for x in tb.json("goal", "list")["goals"] if x["name"] == "On time")
    assert g["due"] is None and g["parent_goal"] is None
    out = tb.ok("goal", "archive", "On time")
    assert "archived goal On time" in out and "--restore" in out
    assert [x["name"] for x in tb.json("goal", "list")["goals"]] == ["Win customers"]
    assert len(tb.json("goal", "list", "--archived")["goals"]) == 2
    tb.ok("goal", "archive", "On time", "--restore")
    assert tb.ok("goal", "list", "Team A").startswith("no goals yet: add one with")


def test_goal_bad_input_is_one_line_exit_2_nothing_written(tb: Run) -> None:
    assert "needs a command" in tb.bad("goal")
    assert "'Dept' has a goal named 'deliver on time' already" in tb.bad(
        "goal", "add", "deliver on time", "--board", "Dept"
    )
    assert "no board named 'Nope'" in tb.bad("goal", "add", "X", "--board", "Nope")
    assert "not 'Plant' nor above it" in tb.bad(
        "goal", "add", "X", "--board", "Plant", "--parent-goal", "Deliver on time"
    )
    assert "goal name must not be empty" in tb.bad("goal", "add", "  ", "--board", "Dept")
    assert "--due" in tb.bad("goal", "add", "X", "--board", "Dept", "--due", "someday")
    assert "the following arguments are required: --board" in tb.bad("goal", "add", "X")
    assert "no goal named 'Nope'" in tb.bad("goal", "edit", "Nope", "--name", "Y")
    assert "see `teamboard" in tb.bad("goal", "archive", "Nope")
    err = tb.bad("goal", "edit", "Deliver on time")
    assert "nothing to change" in err and "--parent-goal" in err
    assert "cannot serve itself" in tb.bad(
        "goal", "edit", "Deliver on time", "--parent-goal", "Deliver on time"
    )
    assert "not archived" in tb.bad("goal", "archive", "Deliver on time", "--restore")
    assert "contains control characters" in tb.bad("goal", "add", "X\x1b[31m", "--board", "Dept")


def test_kpi_goal_limit_refuses_a_third_and_force_shows_it_over(tb: Run) -> None:
    tb.ok(
        "kpi", "add", "Output", "--board", "Team A", "--target", "100", "--goal", "Deliver on time"
    )
    tb.ok("kpi", "add", "Takt", "--board", "Team A", "--target", "60", "--goal", "deliver on time",
          "--kind", "leading")  # fmt: skip
    err = tb.bad("kpi", "add", "Late", "--board", "Team A", "--target", "0",
                 "--goal", "Deliver on time")  # fmt: skip
    assert "'Team A' has 2 KPIs serving goal 'Deliver on time', the limit of 2 per goal" in err
    assert "add --force" in err
    tb.ok("kpi", "add", "Late", "--board", "Team A", "--target", "0", "--goal", "Deliver on time",
          "--force")  # fmt: skip
    g = tb.json("goal", "list")["goals"][0]
    assert g["over_limit"] == ["Team A"] and g["per_board"] == {"Team A": 3}
    assert "over the limit on Team A (3/2 KPIs)" in tb.ok("goal", "list")
    assert "over the limit on Team A (3/2 KPIs)" in tb.ok("tree")
    # kpi edit: the limit holds, --force goes past, "" clears.
    tb.ok("kpi", "add", "Scrap", "--board", "Team B", "--target", "2", "--goal", "Deliver on time")
    tb.ok("kpi", "add", "Rework", "--board", "Team B", "--target", "1", "--goal", "Deliver on time")
    tb.ok("kpi", "add", "Waste", "--board", "Team B", "--target", "1")
    assert "limit of 2 per goal" in tb.bad("kpi", "edit", "Waste", "--goal", "Deliver on time")
    tb.ok("kpi", "edit", "Waste", "--goal", "Deliver on time", "--force")
    tb.ok("kpi", "edit", "Waste", "--goal", "")
    kpis = {k["name"]: k for k in tb.json("kpi", "list")["kpis"]}
    assert kpis["Waste"]["goal_id"] is None and kpis["Output"]["goal"] == "Deliver on time"
    # A goal name nobody has yet becomes the team's own goal.
    tb.ok("kpi", "edit", "Waste", "--goal", "Less waste")
    assert any(g["name"] == "Less waste" and g["board"] == "Team B"
               for g in tb.json("goal", "list")["goals"])  # fmt: skip


def test_the_boards_own_kpi_limit_shows_over_it_with_a_warning(tb: Run) -> None:
    for name in ("A", "B", "C"):
        tb.ok("kpi", "add", name, "--board", "Team A", "--target", "1")
    assert "has 3 KPIs, its limit" in tb.bad(
        "kpi", "add", "D", "--board", "Team A", "--target", "1"
    )
    tb.ok("kpi", "add", "D", "--board", "Team A", "--target", "1", "--force")
    status = tb.ok("status", "Team A")
    assert "! 4/3 over the limit: more KPIs than the board's limit" in status
    assert "4/3 over the limit KPIs" in tb.ok("board", "list")
    dept = tb.ok("status", "Dept")
    assert "Team A  – " not in dept and "KPIs 4/3 over the limit" in dept
    assert tb.json("status", "Dept")["tiers"][0]["children"][0]["over_kpi_limit"] is True
    assert "KPIs 4/3 over the limit" in tb.ok("tree")


# --- tree -------------------------------------------------------------------------------------


def test_tree_prints_boards_goals_kpis_with_glyphs(demo: Run) -> None:
    out = demo.ok("tree")
    lines = out.splitlines()
    assert lines[0].startswith("Operations · last review 4 d ago · ana")
    assert "  ◎ Cost per unit down 4% in 2026  ! no leading indicator" in lines
    assert "      ✖ red  Scrap cost [Line 2 Assembly]" in lines
    assert any("Line 3 Assembly · last review 12 d ago · dara (review overdue)" in x
               for x in lines)  # fmt: skip
    assert (
        "      ↑ ✖ red  First-pass yield (leading) → serves Customer complaints (Assembly)" in lines
    )
    sub = demo.ok("tree", "Line 3 Assembly")
    assert sub.startswith("Line 3 Assembly") and "Operations" not in sub
    data = demo.json("tree")
    (plant,) = data["tree"]
    assert plant["board"] == "Operations" and plant["summary"]["below"]["red"] == 2
    (dept,) = plant["children"]
    on_time = next(g for g in dept["goals"] if g["name"] == "On-time delivery")
    assert on_time["over_limit"] == ["Line 2 Assembly"]
    assert [c["board"] for c in dept["children"]] == ["Line 2 Assembly", "Line 3 Assembly"]


def test_tree_bad_input_and_empty(
    tb: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "no board named 'Nope'" in tb.bad("tree", "Nope")
    assert "unrecognized arguments" in tb.bad("tree", "--wide")
    empty = Run(tmp_path / "e.json", capsys)
    empty.ok("init")
    assert empty.ok("tree").startswith("no boards yet")
    assert empty.json("tree")["tree"] == []


# --- escalation -------------------------------------------------------------------------------


def test_escalate_answer_take_round_trip(tb: Run) -> None:
    tb.ok("kpi", "add", "Output", "--board", "Team A", "--target", "100")
    tb.ok("action", "add", "Fix the press", "--kpi", "Output", "--owner", "ben")  # #1
    assert tb.ok("action", "escalate", "1", "--why", "need budget") == "#1 is escalated to Dept\n"
    acts = tb.json("action", "list")["actions"]
    e = acts[0]["escalation"]
    assert (
        e["to"] == "Dept" and e["from"] == "Team A" and e["waiting"] and e["why"] == "need budget"
    )
    assert acts[0]["board"] == "Team A" and acts[0]["kpi"] == "Output"
    assert "escalated to Dept, waiting" in tb.ok("action", "list", "Team A")
    status = tb.ok("status", "Dept")
    assert (
        "escalations waiting for Dept (1):" in status and "#1 Fix the press · from Team A" in status
    )
    assert tb.json("status", "Dept")["tiers"][0]["escalations_waiting"][0]["id"] == 1
    out = tb.ok("action", "answer", "#1", "--note", "approved")
    assert out == "answered #1; Team A sees the answer on its board\n"
    e = tb.json("action", "list")["actions"][0]["escalation"]
    assert e["answer"] == "approved" and e["answered_by"] and not e["waiting"]
    assert ": approved" in tb.ok("action", "list", "Team A")
    tb.ok("action", "escalate", "1", "--to", "plant", "--why", "still blocked")
    out = tb.ok("action", "take", "1", "--owner", "ana")
    assert out == "#1 is on Plant now, owned by ana\n"
    a = tb.json("action", "list", "Plant")["actions"][0]
    assert a["kpi"] == "Output" and a["escalation"]["from"] == "Team A"
    assert a["escalation"]["taken_by"]
    assert tb.json("action", "list", "Team A")["actions"] == []


def test_escalation_bad_input(tb: Run) -> None:
    tb.ok("kpi", "add", "Output", "--board", "Team A", "--target", "100")
    tb.ok("action", "add", "Fix the press", "--kpi", "Output")  # #1
    tb.ok("action", "add", "Top", "--board", "Plant")  # #2
    assert "the following arguments are required: --why" in tb.bad("action", "escalate", "1")
    assert "--why must say" in tb.bad("action", "escalate", "1", "--why", " ")
    assert "'Team B' is not above 'Team A'" in tb.bad(
        "action", "escalate", "1", "--to", "Team B", "--why", "x"
    )
    assert "no board named 'Nope'" in tb.bad(
        "action", "escalate", "1", "--to", "Nope", "--why", "x"
    )
    assert "at the top of the tree" in tb.bad("action", "escalate", "2", "--why", "x")
    assert "no action #9" in tb.bad("action", "escalate", "9", "--why", "x")
    bad_utf8 = b"Dept\xff".decode("utf-8", "surrogateescape")
    assert "UTF-8" in tb.bad("action", "escalate", "1", "--to", bad_utf8, "--why", "x")
    assert "UTF-8" in tb.bad("action", "escalate", "1", "--why", bad_utf8)
    assert "UTF-8" in tb.bad("goal", "add", bad_utf8, "--board", "Dept")
    assert "UTF-8" in tb.bad("review", "Dept", "--note", bad_utf8)
    assert "action id 'one' is not a number" in tb.bad("action", "escalate", "one", "--why", "x")
    assert "is not escalated" in tb.bad("action", "answer", "1", "--note", "ok")
    assert "is not escalated" in tb.bad("action", "take", "1")
    assert "required: --note" in tb.bad("action", "answer", "1")
    tb.ok("action", "escalate", "1", "--why", "x")
    assert "already" in tb.bad("action", "escalate", "1", "--why", "again")
    assert "--note must say" in tb.bad("action", "answer", "1", "--note", "")
    assert "owner" in tb.bad("action", "take", "1", "--owner", "two words")
    tb.ok("action", "done", "1")
    assert "is done" in tb.bad("action", "answer", "1", "--note", "late")


# --- reviews ----------------------------------------------------------------------------------


def test_review_and_reviews(demo: Run) -> None:
    out = demo.ok("review", "Line 2 Assembly", "--note", "why is yield red?")
    assert out == "reviewed Line 2 Assembly; red then: First-pass yield, Scrap cost\n"
    assert demo.ok("review", "Assembly") == "reviewed Assembly; nothing red\n"
    found = demo.json("reviews", "Line 2 Assembly")["reviews"]
    assert [r["note"] for r in found] == [
        "why is yield red?",
        "Scrap is up: is the torque check daily now?",
    ]
    assert found[0]["reds"] == ["First-pass yield", "Scrap cost"]
    assert len(demo.json("reviews")["reviews"]) == 6
    assert len(demo.json("reviews", "--since", "-5")["reviews"]) == 5  # not Line 3's, 12 d ago
    text = demo.ok("reviews", "Line 3 Assembly")
    assert "dara" in text and "All green" in text and "nothing red" in text
    assert demo.ok("reviews", "Operations", "--since", "-3").startswith(
        "no reviews since 2026-11-17 yet"
    )


def test_review_bad_input(demo: Run) -> None:
    assert "no board named 'Nope'" in demo.bad("review", "Nope")
    assert "the following arguments are required: BOARD" in demo.bad("review")
    assert "--since" in demo.bad("reviews", "--since", "last week")
    assert "no board named 'Nope'" in demo.bad("reviews", "Nope")


def test_board_review_days(demo: Run) -> None:
    assert "review overdue" in demo.ok("status", "Assembly").split("Line 3 Assembly")[1]
    own = demo.ok("status", "Line 3 Assembly").splitlines()[1]
    assert own == "  last review 12 d ago · dara (review overdue: every 7 days)"
    demo.ok("board", "edit", "Line 3 Assembly", "--review-days", "14")
    assert "review overdue" not in demo.ok("status", "Assembly").split("Line 3 Assembly")[1]
    assert demo.json("board", "list")["boards"][-1]["review_days"] == 14
    assert "--review-days must be between 1 and 365" in demo.bad(
        "board", "edit", "Line 3 Assembly", "--review-days", "0"
    )
    assert "not a whole number" in demo.bad("board", "edit", "Assembly", "--review-days", "x")
    demo.ok("board", "add", "Line 4", "--parent", "Assembly", "--review-days", "3")
    last = demo.json("board", "list")["boards"][-1]
    assert (last["name"], last["review_days"]) == ("Line 4", 3)
    assert "--review-days must be between 1 and 365" in demo.bad(
        "board", "add", "Line 5", "--review-days", "400"
    )


# --- health and the roll-up in status ---------------------------------------------------------


def test_health(demo: Run) -> None:
    data = demo.json("health")["boards"]
    assert [b["board"] for b in data] == [
        "Operations", "Assembly", "Line 2 Assembly", "Line 3 Assembly",
    ]  # fmt: skip
    line2 = data[2]
    assert line2["huddles_14d"] == 0 and line2["red_episodes"] >= 1
    assert 0 <= line2["red_action_share"] <= 1
    assert line2["median_open_action_age_days"] is not None
    text = demo.ok("health", "Line 2 Assembly")
    assert text.startswith("Line 2 Assembly: huddles 0 in 14 d") and "gate skips 0" in text
    assert "no board named 'Nope'" in demo.bad("health", "Nope")


def test_status_carries_the_rollup_per_child(demo: Run) -> None:
    out = demo.ok("status", "Assembly")
    assert "last review 1 d ago · ana" in out
    assert "escalations waiting for Assembly (1):" in out
    assert "#4 Replace the broken line-side tablet · from Line 2 Assembly, 2 days" in out
    below = out.split("boards under Assembly:")[1]
    assert "Line 2 Assembly  ✔ 2 ✖ 2 ? 1  KPIs 5/6  LOSING" in below
    assert "1 red, no action · 1 overdue · 1 escalated, waiting" in below
    assert "last review 3 d ago · dara" in below and "huddles 0 in 14 d" in below
    plant = demo.ok("status")
    assert "Assembly  ✔ 2 · below: ✔ 4 ✖ 2 ? 1  KPIs 2/5  LOSING" in plant
    assert "1 escalation to answer · no huddle yet · last review 1 d ago · ana" in plant
    data = demo.json("status", "Assembly")
    (tier,) = data["tiers"]
    line2, line3 = tier["children"]
    assert line2["own"] == {"green": 2, "amber": 0, "red": 2, "stale": 1, "no_data": 0}
    assert line2["reds_no_action"] == 1 and line2["open_escalations"] == 1 and line2["losing"]
    assert line3["review_overdue"] and line3["last_review"]["who"] == "dara"
    assert tier["summary"]["escalations_waiting_here"] == 1
    assert "health" in line2 and line2["health"]["gate_skips"] == 0
