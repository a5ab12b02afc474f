"""The KPI tree across tiers (issue 10): goals, the roll-up, escalation, reviews and health, as
the store computes them (pure functions over a snapshot and a frozen today) and writes them."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest
from conftest import TODAY, fingerprint

from store import (
    Store,
    audit,
    backup,
    escalation,
    goals,
    huddle,
    ops,
    present,
    reviews,
    schema,
    tiers,
)
from store.errors import BadInput, NotFound
from store.health import board_health
from store.model import Kind, Stage, Status


def _tree_store(path: Path) -> Store:
    """Plant → Dept → Team A, Team B; a goal on Dept."""
    store = Store(path)
    ops.init(store)
    ops.add_board(store, "Plant")
    ops.add_board(store, "Dept", parent="Plant")
    ops.add_board(store, "Team A", parent="Dept")
    ops.add_board(store, "Team B", parent="Dept")
    goals.add_goal(store, "Deliver on time", "Dept")
    return store


# --- goals ------------------------------------------------------------------------------------


def test_a_kpi_serves_a_goal_of_its_board_or_above_and_at_most_two_per_board(
    tmp_path: Path,
) -> None:
    store = _tree_store(tmp_path / "t.json")
    ops.add_kpi(store, "Output", "Team A", 100.0, goal="deliver on time")
    ops.add_kpi(store, "Takt", "Team A", 60.0, goal="Deliver on time", kind=Kind.LEADING)
    before = fingerprint(store.path)
    with pytest.raises(BadInput) as exc:
        ops.add_kpi(store, "Late orders", "Team A", 0.0, goal="Deliver on time")
    assert "has 2 KPIs serving goal 'Deliver on time'" in str(exc.value)
    assert "the limit of 2 per goal" in str(exc.value)
    assert fingerprint(store.path) == before  # nothing written
    # Another board may serve it twice too; --force goes past, and the view shows it.
    ops.add_kpi(store, "Late orders", "Team A", 0.0, goal="Deliver on time", force=True)
    ops.add_kpi(store, "Output B", "Team B", 100.0, goal="Deliver on time")
    snap = store.read()
    g = snap.goal_ref("Deliver on time")
    view = tiers.goal_view(snap, g.id, TODAY)
    team_a, team_b = snap.board_named("Team A").id, snap.board_named("Team B").id
    assert view.per_board == {team_a: 3, team_b: 1}
    assert view.over_limit == (team_a,)
    assert not view.no_leading
    k = snap.kpi_named("Output")
    assert (k.goal_id, k.goal) == (g.id, "Deliver on time")
    # Editing a KPI onto a full goal is refused too; --force goes past.
    ops.add_kpi(store, "Scrap", "Team B", 2.0)
    ops.edit_kpi(store, "Scrap", goal="Deliver on time")
    before = fingerprint(store.path)
    with pytest.raises(BadInput, match="limit of 2 per goal"):
        ops.add_kpi(store, "Rework", "Team B", 1.0, goal="Deliver on time")
    assert fingerprint(store.path) == before
    # A KPI keeps its own place when edited: it does not count against itself.
    ops.edit_kpi(store, "Scrap", goal="Deliver on time", description="x")


def test_an_unknown_goal_is_made_on_the_kpis_board_and_goals_form_a_tree(tmp_path: Path) -> None:
    store = _tree_store(tmp_path / "t.json")
    ops.add_kpi(store, "Output", "Team A", 100.0, goal="Team's own goal")
    snap = store.read()
    g = snap.goal_ref("Team's own goal")
    assert snap.boards[g.board].name == "Team A"
    plant_goal = goals.add_goal(store, "Win customers", "Plant")
    dept = goals.edit_goal(store, "Deliver on time", parent="Win customers")
    assert dept.parent == plant_goal.id
    # A goal serves a goal of its own board or above, never a sibling's, never itself.
    goals.add_goal(store, "B goal", "Team B")
    before = fingerprint(store.path)
    with pytest.raises(BadInput, match="not 'Team A' nor above it"):
        goals.add_goal(store, "A goal", "Team A", parent="B goal")
    with pytest.raises(BadInput, match="cannot serve itself"):
        goals.edit_goal(store, "Win customers", parent="Win customers")
    with pytest.raises(BadInput, match="has a goal named"):
        goals.add_goal(store, "deliver ON time", "Dept")
    with pytest.raises(NotFound, match="no goal named 'nope'"):
        goals.edit_goal(store, "nope", name="x")
    with pytest.raises(BadInput, match="nothing to change"):
        goals.edit_goal(store, "Win customers")
    assert fingerprint(store.path) == before
    # Renaming carries the name to the KPIs; archiving takes the goal off the tree.
    goals.edit_goal(store, "Team's own goal", name="Flow")
    assert store.read().kpi_named("Output").goal == "Flow"
    goals.archive_goal(store, "Flow")
    node = tiers.tree(store.read(), store.read().board_named("Team A").id, TODAY)[0]
    assert [v.kpi.name for v in node.ungoaled] == ["Output"]
    assert node.goals == ()
    goals.archive_goal(store, "Flow", restore=True)
    assert store.read().goal_ref("Flow").archived is False
    # The change log names the goal.
    whats = [r.what for r in store.read().revisions if r.table == "goals"]
    assert "archived goal Flow" in whats and "edited goal Flow" in whats


def test_a_goal_served_only_by_lagging_kpis_has_no_leading_indicator(tmp_path: Path) -> None:
    store = _tree_store(tmp_path / "t.json")
    goals.add_goal(store, "Win customers", "Plant")
    goals.edit_goal(store, "Deliver on time", parent="Win customers")
    ops.add_kpi(store, "Output", "Team A", 100.0, goal="Deliver on time")
    snap = store.read()
    views = {v.goal.name: v for v in tiers.goal_views(snap, None, TODAY)}
    assert views["Deliver on time"].no_leading
    assert views["Win customers"].no_leading  # through its subgoal
    ops.add_kpi(store, "Takt", "Team B", 60.0, goal="Deliver on time", kind=Kind.LEADING)
    views = {v.goal.name: v for v in tiers.goal_views(store.read(), None, TODAY)}
    assert not views["Deliver on time"].no_leading
    assert not views["Win customers"].no_leading
    goals.add_goal(store, "Unserved", "Plant")
    unserved = tiers.goal_views(store.read(), store.read().board_named("Plant").id, TODAY)[-1]
    assert not unserved.served and not unserved.no_leading


def test_free_text_goals_migrate_into_goal_objects(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    kpi = {"targets": [{"value": 1.0}], "who": "ana", "at": "2026-01-01T00:00:00Z"}
    raw = {
        "meta": {"1": {"format": schema.FORMAT, "schema": 3}},
        "boards": {"1": {"id": 1, "name": "Line"}, "2": {"id": 2, "name": "Other"}},
        "kpis": {
            "1": {"id": 1, "board": 1, "name": "A", "goal": "Flow", **kpi},
            "2": {"id": 2, "board": 1, "name": "B", "goal": "flow ", **kpi},
            "3": {"id": 3, "board": 2, "name": "C", "goal": "Flow", **kpi},
            "4": {"id": 4, "board": 2, "name": "D", "goal": "", **kpi},
        },
        "entries": {}, "actions": {}, "huddles": {}, "changes": {},
    }  # fmt: skip
    path.write_text(json.dumps(raw))
    store = Store(path)
    snap = store.read()  # in memory
    assert sorted((g.board, g.name) for g in snap.goals.values()) == [(1, "Flow"), (2, "Flow")]
    assert snap.kpis[1].goal_id == snap.kpis[2].goal_id != snap.kpis[3].goal_id
    assert snap.kpis[4].goal_id is None
    ops.add_board(store, "Third")  # the next write stores the migration
    stored = orjson.loads(path.read_bytes())
    assert stored["meta"]["1"]["schema"] == schema.SCHEMA == 4
    assert len(stored["goals"]) == 2 and stored["kpis"]["1"]["goal_id"] == 1
    g = goals.add_goal(store, "Next", "Third")
    assert g.id == 3  # ids go on after the migrated goals


def test_a_goal_naming_a_missing_goal_or_board_is_a_broken_store(tmp_path: Path) -> None:
    from store.errors import StoreCorrupt

    store = _tree_store(tmp_path / "t.json")
    ops.add_kpi(store, "Output", "Team A", 100.0, goal="Deliver on time")
    raw = orjson.loads(store.path.read_bytes())
    next(iter(raw["kpis"].values()))["goal_id"] = 99
    store.path.write_bytes(orjson.dumps(raw))
    with pytest.raises(StoreCorrupt, match="table 'kpis', id 1, field 'goal_id': goal 99"):
        store.read()


# --- the roll-up and the tree, on the demo -----------------------------------------------------


def test_the_demo_rollup_shows_a_losing_team_under_a_department_that_looks_fine(
    demo_store: Store,
) -> None:
    snap = demo_store.read()
    plant = snap.board_named("Operations")
    dept = snap.board_named("Assembly")
    (d,) = tiers.rollup(snap, plant.id, TODAY)
    assert d.board.id == dept.id
    assert (d.own.green, d.own.red) == (2, 0)  # the department looks fine...
    assert d.below.red == 2 and d.losing  # ...but a team under it is losing
    line2, line3 = tiers.rollup(snap, dept.id, TODAY)
    assert line2.board.name == "Line 2 Assembly" and line3.board.name == "Line 3 Assembly"
    assert (line2.own.green, line2.own.red, line2.own.stale) == (2, 2, 1)
    assert line2.reds_no_action == 1 and line2.overdue_actions == 1
    assert line2.open_escalations == 1 and line2.losing
    assert line2.last_review is not None and line2.last_review.who == "dara"
    assert present.review_text(line2.last_review, TODAY) == "last review 3 d ago · dara"
    assert not line2.review_overdue
    assert line3.review_overdue and not line3.losing  # 12 days, more than 7
    assert d.escalations_in == 1
    # A department's review setting decides: 14 days and Line 3 is fine.
    ops.edit_board(demo_store, "Line 3 Assembly", review_days=14)
    assert not tiers.review_overdue(demo_store.read(), line3.board.id, TODAY)


def test_the_demo_tree_has_a_goal_over_its_limit_and_one_without_a_leading_kpi(
    demo_store: Store,
) -> None:
    snap = demo_store.read()
    (plant,) = tiers.tree(snap, None, TODAY)
    assert plant.board.name == "Operations"
    (dept,) = plant.children
    on_time = next(g for g in dept.goals if g.goal.name == "On-time delivery")
    line2 = snap.board_named("Line 2 Assembly").id
    assert on_time.over_limit == (line2,) and on_time.per_board[line2] == 3
    cost = next(g for g in plant.goals if g.goal.name.startswith("Cost per unit"))
    assert cost.no_leading and [v.kpi.name for v in cost.kpis] == ["Scrap cost"]
    team = next(c for c in dept.children if c.board.id == line2)
    assert len(team.serving_up) == 5 and team.ungoaled == ()
    # The first board keeps its three KPIs, as before the tiers.
    assert [v.kpi.name for v in snap.views(snap.default_board().id, TODAY)] == [
        "On-time delivery", "Customer complaints", "Near misses reported",
    ]  # fmt: skip


# --- escalation -------------------------------------------------------------------------------


def test_escalate_answer_and_take_keep_the_action_its_kpi_and_history(tmp_path: Path) -> None:
    store = _tree_store(tmp_path / "t.json")
    ops.add_kpi(store, "Output", "Team A", 100.0)
    a = ops.add_action(store, "Fix the press", kpi="Output", owner="ben")
    snap = store.read()
    plant, dept, team = (snap.board_named(n).id for n in ("Plant", "Dept", "Team A"))
    before = fingerprint(store.path)
    for bad, why, match in [
        ("Team B", "x", "'Team B' is not above 'Team A'"),
        ("Team A", "x", "'Team A' is not above 'Team A'"),
        (None, "  ", "say why"),
        ("Nowhere", "x", "no board named 'Nowhere'"),
    ]:
        with pytest.raises(BadInput, match=match):
            escalation.escalate(store, a.id, why, bad)
    with pytest.raises(BadInput, match="is not escalated"):
        escalation.answer(store, a.id, "ok")
    with pytest.raises(BadInput, match="is not escalated"):
        escalation.take(store, a.id)
    with pytest.raises(NotFound, match="no action #99"):
        escalation.escalate(store, 99, "x")
    assert fingerprint(store.path) == before
    up = escalation.escalate(store, a.id, "we need a budget")
    assert up.escalation is not None and up.escalation.to == dept
    assert up.escalation.origin == team and up.waiting and up.board == team
    snap = store.read()
    assert [x.id for x in tiers.escalations_to(snap, dept)] == [a.id]
    assert [x.id for x in tiers.escalations_from(snap, team)] == [a.id]
    assert present.escalation_state(up, snap.boards, TODAY).startswith("escalated to Dept, waiting")
    assert present.waiting_text(up, snap.boards, TODAY).startswith("from Team A, ")
    before = fingerprint(store.path)
    with pytest.raises(BadInput, match="escalated to 'Dept' already"):
        escalation.escalate(store, a.id, "again", "Plant")
    with pytest.raises(BadInput, match="say what the answer is"):
        escalation.answer(store, a.id, " ")
    assert fingerprint(store.path) == before
    done = escalation.answer(store, a.id, "approved, order it")
    assert done.escalation is not None and done.escalation.answer == "approved, order it"
    assert not done.waiting and done.board == team and done.kpi == a.kpi
    assert present.escalation_state(done, snap.boards, TODAY).endswith(": approved, order it")
    with pytest.raises(BadInput, match="answered already"):
        escalation.take(store, a.id)
    # Once answered it may go up again, to a named ancestor; then the plant takes it over.
    again = escalation.escalate(store, a.id, "still blocked", "Plant")
    assert again.escalation is not None and again.escalation.to == plant
    taken = escalation.take(store, a.id, owner="ana")
    assert taken.board == plant and taken.owner == "ana" and taken.kpi == a.kpi
    assert taken.escalation is not None and taken.escalation.origin == team
    fields = [h.field for h in taken.history]
    assert fields == ["stage", "escalated", "answered", "escalated", "taken", "board", "owner"]
    with pytest.raises(BadInput, match="taken over already"):
        escalation.answer(store, a.id, "late")
    whats = [line.what for line in audit.lines(store.read())]
    for said in (
        "escalated action #1 to Dept: we need a budget",
        "answered escalated action #1: approved, order it",
        "escalated action #1 to Plant: still blocked",
        "took over escalated action #1",
        "moved action #1 from board Team A to Plant",
        "added goal Deliver on time to Dept",
    ):
        assert said in whats, said
    ops.move_action(store, a.id, Stage.DONE)
    with pytest.raises(BadInput, match="is done"):
        escalation.escalate(store, a.id, "x")


def test_a_top_board_has_nowhere_to_escalate(tmp_path: Path) -> None:
    store = _tree_store(tmp_path / "t.json")
    a = ops.add_action(store, "Top thing", board="Plant")
    before = fingerprint(store.path)
    with pytest.raises(BadInput, match="at the top of the tree"):
        escalation.escalate(store, a.id, "x")
    assert fingerprint(store.path) == before


def test_escalations_lead_the_parents_agenda_and_reach_both_boards_minutes(
    demo_store: Store,
) -> None:
    snap = demo_store.read()
    dept = snap.board_named("Assembly")
    waiting = tiers.escalations_to(snap, dept.id)
    items = huddle.build_agenda(
        snap.views(dept.id, TODAY), snap.actions_of(dept.id), TODAY, waiting, snap.boards
    )
    assert items[0].kind is huddle.ItemKind.ESCALATION
    assert items[0].name == "Replace the broken line-side tablet"
    assert items[0].status == "from Line 2 Assembly, 2 days"
    assert huddle.status_now(items[0], None) == "from Line 2 Assembly, 2 days"
    assert not items[0].gated
    # The demo's answer (yesterday) goes into both boards' next minutes, with the last review.
    for board in (dept, snap.board_named("Line 2 Assembly")):
        extra = huddle.tier_minutes(
            snap.huddles, snap.actions.values(), snap.boards, tiers.last_review(snap, board.id),
            board.id, TODAY,
        )  # fmt: skip
        whats = [e["what"] for e in extra["escalations"]]
        assert any(w.startswith("answered by ana (Assembly): Approved") for w in whats), whats
        assert extra["last_review"]["who"] in ("ana", "dara")
    minutes = {
        "date": TODAY.isoformat(), "board": dept.name, "board_id": dept.id,
        "facilitator": "ana", "attendees": ["ana"], "started": "2026-11-20T07:00:00",
        "ended": "2026-11-20T07:10:00", "duration_s": 600, "timebox_min": 15, "items": [],
        "actions": [], "notes": [], "skips": [],
    }  # fmt: skip
    ops.save_huddle(demo_store, minutes)
    saved = demo_store.read().huddles[-1]
    text = huddle.markdown(saved)
    assert "- Last review: last review 1 d ago · ana" in text
    assert "## Escalations" in text and "answered by ana (Assembly)" in text


# --- reviews ----------------------------------------------------------------------------------


def test_a_review_records_who_when_the_note_and_the_reds(demo_store: Store) -> None:
    r = reviews.add_review(demo_store, "Line 2 Assembly", TODAY, "what about supplier B?")
    snap = demo_store.read()
    names = sorted(snap.kpis[k].name for k in r.reds)
    assert names == ["First-pass yield", "Scrap cost"]
    assert r.note == "what about supplier B?" and r.who
    assert tiers.last_review(snap, r.board) == r
    said = [line.what for line in audit.lines(snap) if line.kind == "review"]
    assert said[0] == "reviewed board Line 2 Assembly: what about supplier B?" and len(said) == 5
    found = reviews.reviews_of(snap, r.board)
    assert found[0] == r and len(found) == 2  # newest first, the demo's before it
    assert len(reviews.reviews_of(snap, None, TODAY - timedelta(days=5))) == 4
    assert len(reviews.reviews_of(snap, None)) == 5
    with pytest.raises(NotFound):
        reviews.add_review(demo_store, "Nope", TODAY)


def test_review_text_reads_days_and_never() -> None:
    from store.model import Review

    r = Review(1, 1, who="ana", at="2026-11-17T09:00:00Z")
    assert present.review_text(r, TODAY) == "last review 3 d ago · ana"
    assert present.review_text(r, date(2026, 11, 17)) == "last review today · ana"
    assert present.review_text(None, TODAY) == "never reviewed"
    assert present.limit_text(4, 3) == "4/3 over the limit"
    assert present.limit_text(3, 7) == "3/7"
    assert present.days_text(1) == "1 day" and present.days_text(0) == "today"


# --- health -----------------------------------------------------------------------------------


def test_health_from_huddles_actions_and_entries(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.json")
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "Output", "Line", 100.0)
    line = store.read().board_named("Line").id
    for n, (ago, people, skips) in enumerate([(1, 3, 1), (2, 5, 0), (3, 4, 2), (20, 9, 5)]):
        day = TODAY - timedelta(days=ago)
        ops.save_huddle(store, {
            "date": day.isoformat(), "board": "Line", "board_id": line, "facilitator": "ana",
            "attendees": [f"p{i}" for i in range(people)], "started": f"{day}T07:0{n}:00",
            "ended": f"{day}T07:1{n}:00", "duration_s": 600, "timebox_min": 15, "items": [],
            "actions": [], "notes": [], "skips": [{"item": "x", "kpi": None, "name": "x",
                                                   "reason": "r"}] * skips,
        })  # fmt: skip
    h = board_health(store.read(), line, TODAY)
    assert h.huddles_14d == 3 and h.median_attendance == 4.0 and h.gate_skips == 3
    assert h.red_action_share is None and h.red_episodes == 0
    # Two red episodes: one recorded today with an action the same day.
    ops.record(store, "Output", 90.0, TODAY - timedelta(days=1), TODAY)
    ops.add_action(store, "Fix it", kpi="Output")
    h = board_health(store.read(), line, TODAY)
    assert (h.red_episodes, h.red_action_share) == (1, 1.0)
    assert h.median_open_age is not None and h.median_open_age <= 0


# --- export and restore keep the tiers ---------------------------------------------------------


def test_export_restore_keeps_goals_reviews_and_escalations(
    demo_store: Store, tmp_path: Path
) -> None:
    snap = demo_store.read()
    doc = backup.export_doc(snap, "2026-11-20T00:00:00Z")
    assert len(doc["goals"]) == len(snap.goals) and len(doc["reviews"]) == 4
    restored = Store(tmp_path / "r.json")
    counts = backup.restore(restored, orjson.dumps(doc), "x.json")
    assert counts["goals"] == len(snap.goals) and counts["reviews"] == 4
    again = restored.read()
    assert again.goals == snap.goals and again.reviews == snap.reviews
    assert again.actions == snap.actions and again.kpis == snap.kpis
    assert {b.id: b.review_days for b in again.boards.values()} == {
        b.id: b.review_days for b in snap.boards.values()
    }
    back = backup.export_doc(again, "2026-11-20T00:00:00Z")
    assert back == doc
    # An export from before goal objects: its free-text goals become goals on restore.
    old = json.loads(json.dumps(doc))
    old["schema"] = 3
    del old["goals"], old["reviews"]
    for k in old["kpis"]:
        del k["goal_id"]
    for b in old["boards"]:
        del b["review_days"]
    for a in old["actions"]:
        a.pop("escalation", None)
    from_old = Store(tmp_path / "old.json")
    counts = backup.restore(from_old, orjson.dumps(old), "old.json")
    snap_old = from_old.read()
    assert counts["goals"] == len(snap_old.goals) == 10  # one per board and goal text
    assert all(k.goal_id is not None and snap_old.goals[k.goal_id].name == k.goal
               for k in snap_old.kpis.values())  # fmt: skip
    assert goals.add_goal(from_old, "Next", "Assembly").id == 11
    # A goal naming a board the export lacks is refused whole.
    doc["goals"][0]["board_id"] = 99
    with pytest.raises(backup.RestoreRejected) as exc:
        backup.restore(Store(tmp_path / "r2.json"), orjson.dumps(doc), "x.json")
    assert any("goals id 1, field 'board': board 99" in d for d in exc.value.details)


def test_status_word_counts_are_the_views(demo_store: Store) -> None:
    snap = demo_store.read()
    c = tiers.Counts.of(snap.views(snap.board_named("Line 2 Assembly").id, TODAY))
    assert c.total == 5 and c.red == 2
    assert (c + c).red == 4
    assert c.stale == sum(1 for v in snap.views(None, TODAY) if v.status is Status.STALE
                          and v.board_name == "Line 2 Assembly")  # fmt: skip
