"""Where the issues' features meet: an export carries everything each of them added, and the
restored store reads the same (views, status, tree, calendar, estimates, explanations)."""

from __future__ import annotations

import shutil
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import TODAY

from store import Store, backup, calendar, escalation, explain, fastpath, ops, plans, reviews, tiers
from store.snapshot import Snapshot


def _every_feature(path: Path) -> Store:
    """The demo (three tiers, goals, reviews, escalations waiting and answered, categories)
    plus estimates, an explanation, due times and an edited category."""
    from store.demo import build

    store = Store(path)
    build(store, TODAY)
    ops.edit_kpi(store, "Daily output", due=time(9, 30))
    ops.edit_kpi(store, "Changeover time", due=time(16, 0))  # its last value: 5 days ago
    ops.edit_kpi(store, "Scrap cost", category="Quality", due=time(14, 0))
    plans.plan(store, "Daily output", 880.0, TODAY, by="ana")
    plans.plan(store, "Daily output", 890.0, TODAY, by="ana")  # supersedes, both stay
    plans.plan(store, "Daily output", 900.0, TODAY + timedelta(days=1), by="ben")
    explain.explain(store, "Scrap cost", "torque tool at the lab until Tuesday", TODAY)
    reviews.add_review(store, "Line 2 Assembly", TODAY, "why is scrap red?")
    snap = store.read()
    waiting = [
        a for a in snap.actions.values() if a.escalation is not None and not a.escalation.answer
    ]
    if waiting:
        escalation.answer(store, waiting[0].id, "a second torque tool is on its way")
    return store


def _fingerprint(snap: Snapshot) -> dict[str, Any]:
    """What a user sees of a store, board by board."""
    out: dict[str, Any] = {}
    now = datetime.combine(TODAY, time(12, 0)).astimezone()
    for b in sorted(snap.boards.values(), key=lambda b: b.id):
        out[b.name] = {
            "views": [repr(v) for v in snap.views(b.id, TODAY, now)],
            "rollup": [repr(s) for s in tiers.rollup(snap, b.id, TODAY)],
            "tree": repr(tiers.tree(snap, b.id, TODAY)),
            "calendar": repr(
                calendar.build(b.name, snap.kpis_of(b.id), snap.entries, TODAY, TODAY)
            ),
        }
    out["estimates"] = {
        k: [repr(x) for x in plans.estimate_series(snap, k)] for k in sorted(snap.estimates)
    }
    out["explanations"] = repr(snap.explanations)
    out["goals"], out["reviews"] = repr(snap.goals), repr(snap.reviews)
    return out


def test_export_restore_export_carries_every_feature(tmp_path: Path) -> None:
    store = _every_feature(tmp_path / "team.json")
    snap = store.read()
    first = backup.export_doc(snap, "T1")
    # Every feature is in the export, not only in the store.
    assert len(first["estimates"]) == 3 and len(first["explanations"]) == 1
    dues = {k["name"]: k["due"] for k in first["kpis"] if k["due"]}
    assert dues == {"Daily output": "09:30", "Scrap cost": "14:00", "Changeover time": "16:00"}
    assert {k["name"]: k["category"] for k in first["kpis"]}["Scrap cost"] == "Quality"
    assert any(a.get("escalation", {}).get("answer") for a in first["actions"])
    assert first["goals"] and first["reviews"] and first["changes"]

    restored = Store(tmp_path / "restored.json")
    counts = backup.restore(restored, orjson.dumps(first), "backup.json")
    assert counts["estimates"] == 3 and counts["explanations"] == 1
    again = restored.read()
    assert {**backup.export_doc(again, "T2"), "exported_at": "T1"} == first
    assert _fingerprint(again) == _fingerprint(snap)
    # A KPI without a due time or category is stored without them, as `kpi add` writes it.
    raw = orjson.loads((tmp_path / "restored.json").read_bytes())
    plain = next(d for d in raw["kpis"].values() if d["name"] == "Units per hour")
    assert "due" not in plain
    # ids go on after the restored ones
    x, _ = plans.plan(restored, "Daily output", 1.0, TODAY, by="cy")
    assert x.id == max(e["id"] for e in first["estimates"]) + 1


def test_restore_refuses_an_estimate_or_explanation_of_a_missing_kpi(tmp_path: Path) -> None:
    store = _every_feature(tmp_path / "team.json")
    doc = backup.export_doc(store.read(), "T1")
    doc["estimates"][0]["kpi_id"] = 999
    doc["explanations"][0]["kpi_id"] = 998
    target = tmp_path / "r.json"
    try:
        backup.restore(Store(target), orjson.dumps(doc), "x.json")
    except backup.RestoreRejected as exc:
        text = "\n".join(exc.details)
        assert "estimates id" in text and "KPI 999 does not exist" in text
        assert "explanations id" in text and "KPI 998 does not exist" in text
    else:
        raise AssertionError("restored an export naming missing KPIs")
    assert not target.exists() or not orjson.loads(target.read_bytes()).get("kpis")


def test_a_version_2_export_without_the_new_tables_still_restores(tmp_path: Path) -> None:
    store = _every_feature(tmp_path / "team.json")
    doc = backup.export_doc(store.read(), "T1")
    for table in ("estimates", "explanations"):
        del doc[table]
    for k in doc["kpis"]:
        del k["due"], k["category"]
    counts = backup.restore(Store(tmp_path / "r.json"), orjson.dumps(doc), "x.json")
    assert counts["estimates"] == 0 and counts["kpis"] == len(doc["kpis"])


# --- the fast record path on a store using every feature ------------------------------------

NOON = datetime.combine(TODAY, time(12, 0)).astimezone()

FAST_CASES: list[tuple[str, dict[str, Any]]] = [
    # due 16:00: a value for two days ago leaves yesterday's (due today 16:00) on time at noon,
    # but one for three days ago leaves the day before's (due yesterday 16:00) late
    ("a due time, late", {"kpi": "Changeover time", "value": 30.0, "day": TODAY - timedelta(3)}),
    ("the day's estimate", {"kpi": "Daily output", "value": 870.0}),
    ("an explanation in force", {"kpi": "Scrap cost", "value": 900.0}),
    ("a counter-metric", {"kpi": "Units per hour", "value": 130.0}),
    ("a goal on the board above", {"kpi": "Schedule attainment", "value": 80.0}),
]


@pytest.mark.parametrize(("what", "args"), FAST_CASES, ids=[c[0] for c in FAST_CASES])
def test_the_fast_record_path_answers_what_the_general_path_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str, args: dict[str, Any]
) -> None:
    import store.db
    from tui.cli.entries import record_line

    monkeypatch.setattr(store.db, "utcnow", lambda: "2026-11-20T12:00:00Z")
    fast_store = _every_feature(tmp_path / "fast.json")
    whole = Store(tmp_path / "whole.json")
    shutil.copyfile(fast_store.path, whole.path)
    kw = {"day": TODAY, **args}
    kpi, value, day = kw.pop("kpi"), kw.pop("value"), kw.pop("day")

    def never(*a: Any, **k: Any) -> ops.Recorded:
        raise AssertionError("the fast path fell back")

    fast = fastpath.record(fast_store, kpi, value, day, TODAY, now=NOON, fallback=never, **kw)
    slow = ops.record_whole(whole, kpi, value, day, TODAY, now=NOON, **kw)
    assert fast == slow
    assert fast_store.path.read_bytes() == whole.path.read_bytes()

    class Ctx:
        today = TODAY

        @staticmethod
        def paint(text: str, style: object) -> str:
            return text

    line = record_line(fast.view, fast.entry, fast.superseded, Ctx())  # type: ignore[arg-type]
    assert line == record_line(slow.view, slow.entry, slow.superseded, Ctx())  # type: ignore[arg-type]
    # Each case shows the feature it is about (so the comparison is not of two empty answers).
    v = fast.view
    if what == "a due time, late":
        assert v.late_due is not None
    elif what == "the day's estimate":
        assert fast.entry.plan is None  # compared with ana's latest estimate instead
        assert v.latest is not None and v.latest.plan == 890.0 and v.variance is not None
    elif what == "an explanation in force":
        assert v.explanation is not None and "without an action" not in line
    elif what == "a counter-metric":
        assert v.counter_name
    else:
        assert v.kpi.goal_id is not None


# --- a store from before the merge (schema 3, free-text goals) -------------------------------


def _schema_3(path: Path) -> dict[str, Any]:
    """The demo as teamboard wrote it before issues 10 and 11: no goal objects (each KPI's goal
    is its text), no reviews, estimates, explanations, escalations, due times or categories."""
    from store.demo import build

    build(Store(path), TODAY)
    raw = orjson.loads(path.read_bytes())
    for table in ("goals", "reviews", "estimates", "explanations"):
        del raw[table]
    for k in raw["kpis"].values():
        for f in ("goal_id", "due", "category"):
            k.pop(f, None)
    for b in raw["boards"].values():
        b.pop("review_days", None)
    for a in raw["actions"].values():
        a.pop("escalation", None)
    new = {"goals", "reviews", "estimates", "explanations"}
    raw["changes"] = {
        key: c
        for key, c in raw["changes"].items()
        if c["table"] not in new and c["field"] not in ("goal_id", "due", "category")
    }
    raw["meta"]["1"]["schema"] = 3
    path.write_bytes(orjson.dumps(raw))
    return raw  # type: ignore[no-any-return]


def test_a_schema_3_store_migrates_through_record_status_and_the_loader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from store.loader import Reader
    from tui.cli import main
    from tui.loader import Loader

    path = tmp_path / "old.json"
    old = _schema_3(path)
    texts = {(k["board"], k["goal"].strip().casefold()) for k in old["kpis"].values() if k["goal"]}
    assert texts  # the demo's KPIs name their goals in text

    # The loader (in process and as the app's child process) reads it as Store.read does.
    expected = Store(path).read()
    assert Reader(Store(path)).read() == expected
    child = Loader(Store(path))
    try:
        assert child.read(None) == expected
    finally:
        child.close()
    assert {(g.board, g.name.casefold()) for g in expected.goals.values()} == texts

    # status reads it (in memory: nothing written); record migrates it on the way.
    before = path.read_bytes()
    assert main(["--store", str(path), "status"], today=TODAY) == 0
    assert path.read_bytes() == before
    capsys.readouterr()
    assert main(["--store", str(path), "record", "Scrap cost", "5"], today=TODAY) == 0
    out, err = capsys.readouterr()
    assert "Scrap cost 5" in out and not err
    stored = orjson.loads(path.read_bytes())
    assert stored["meta"]["1"]["schema"] == 4
    assert {(g["board"], g["name"].casefold()) for g in stored["goals"].values()} == texts
    assert all(
        (k["goal_id"] is not None) == bool(k["goal"].strip()) for k in stored["kpis"].values()
    )
    assert stored["estimates"] == {} and stored["explanations"] == {}
    after = Store(path).read()
    assert after.goals == expected.goals and after.kpis == expected.kpis
    assert Reader(Store(path)).read() == after
    # Then the fast path vouches for it.
    assert main(["--store", str(path), "record", "Scrap cost", "6"], today=TODAY) == 0
    assert len(Store(path).read().entries[after.kpi_named("Scrap cost").id]) == len(
        after.entries[after.kpi_named("Scrap cost").id]
    ) + 1


# --- as of a day: the tiers too ---------------------------------------------------------------


def test_as_of_a_day_gives_back_its_goals_reviews_and_escalations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo (escalations raised two days ago, one answered yesterday), then today: the other
    taken over, a new goal a KPI now serves, a review."""
    import store.db as db
    from store import goals
    from store.asof import as_of
    from store.demo import build

    monkeypatch.setattr(db, "utcnow", lambda: "2026-11-20T12:00:00Z")
    store = Store(tmp_path / "team.json")
    build(store, TODAY)
    snap = store.read()
    waiting = next(a for a in snap.actions.values() if a.waiting)
    answered = next(a for a in snap.actions.values() if a.escalation and a.escalation.answer)
    escalation.take(store, waiting.id, "cy")
    goals.add_goal(store, "Zero waiting", "Line 2 Assembly")
    ops.edit_kpi(store, "Daily output", goal="Zero waiting")
    reviews.add_review(store, "Line 2 Assembly", TODAY, "seen")
    now = store.read()
    old_goal = snap.kpi_named("Daily output").goal_id
    assert now.kpi_named("Daily output").goal_id != old_goal
    assert now.actions[waiting.id].board != waiting.board

    past = as_of(now, TODAY - timedelta(days=1))
    assert past.goals == snap.goals  # the new goal was not there yet
    assert past.kpi_named("Daily output").goal_id == old_goal
    assert past.kpi_named("Daily output").goal == snap.kpi_named("Daily output").goal
    assert past.reviews == snap.reviews
    back = past.actions[waiting.id]
    assert back.board == waiting.board and back.waiting and back.owner == waiting.owner
    assert past.actions[answered.id].escalation == answered.escalation  # answered by then
    assert as_of(now, TODAY - timedelta(days=2)).actions[answered.id].waiting
    assert not [a for a in as_of(now, TODAY - timedelta(days=3)).actions.values() if a.escalation]
    # and the tree as of then is drawn from the goals of then
    tree = tiers.tree(past, None, TODAY - timedelta(days=1))
    assert tree and {g.goal.id for n in tree for g in n.goals} <= set(past.goals)


# --- the huddle: escalations (issue 10) and late KPIs (issue 11) on one agenda ---------------


def test_the_agenda_orders_escalations_reds_late_amber_and_gates_only_the_unexplained_red(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import store.db as db
    from store import huddle
    from tui.cli import main

    monkeypatch.setattr(db, "utcnow", lambda: "2026-11-20T07:00:00Z")
    store = Store(tmp_path / "t.json")
    ops.init(store)
    ops.add_board(store, "Plant")
    ops.add_board(store, "Team", parent="Plant")
    for name, target, amber, due in (("Scrap", 100.0, None, None), ("Yield", 99.0, None, None),
                                     ("Output", 50.0, None, time(9, 0)),
                                     ("Uptime", 90.0, 80.0, None)):  # fmt: skip
        ops.add_kpi(store, name, "Plant", target, amber=amber, due=due)
    yesterday, two_ago = TODAY - timedelta(days=1), TODAY - timedelta(days=2)
    ops.record(store, "Scrap", 10.0, yesterday, TODAY)  # red, the larger miss, no action
    ops.record(store, "Yield", 90.0, yesterday, TODAY)  # red, explained
    ops.record(store, "Output", 60.0, two_ago, TODAY)  # green, but yesterday's is late
    ops.record(store, "Uptime", 85.0, yesterday, TODAY)  # amber
    explain.explain(store, "Yield", "lab is re-calibrating the gauge", TODAY)
    raised = ops.add_action(store, "Need a second gauge", board="Team")
    escalation.escalate(store, raised.id, "budget is the plant's")
    reviews.add_review(store, "Plant", TODAY, "why is scrap red?")

    snap = store.read()
    plant = snap.board_named("Plant").id
    now = datetime.combine(TODAY, time(10, 0)).astimezone()
    views = {v.kpi.name: v for v in snap.views(plant, TODAY, now)}
    items = huddle.build_agenda(
        list(views.values()), snap.actions_of(plant), TODAY,
        escalations=tiers.escalations_to(snap, plant), boards=snap.boards,
    )  # fmt: skip
    K = huddle.ItemKind
    assert [(i.kind, i.name) for i in items] == [
        (K.ESCALATION, "Need a second gauge"),
        (K.RED, "Scrap"), (K.RED, "Yield"),
        (K.LATE, "Output"),
        (K.AMBER, "Uptime"),
    ]  # fmt: skip
    gated = [i.name for i in items if huddle.blocks(i, views.get(i.name), noted=False)]
    assert gated == ["Scrap"]  # Yield's explanation stands in for an action

    # The minutes carry the last review (issue 10) and the explanation in force (issue 11).
    ops.save_huddle(store, {
        "date": TODAY.isoformat(), "board": "Plant", "board_id": plant, "facilitator": "ana",
        "attendees": ["ana"], "started": "2026-11-20T07:30:00Z", "ended": "2026-11-20T07:40:00Z",
        "duration_s": 600, "timebox_min": 15, "actions": [], "notes": [], "skips": [],
        "items": [{"kind": i.kind.value, "name": i.name, "kpi": i.kpi, "action": i.action,
                   "status": i.status, "seconds": 60, "outcome": "discussed"} for i in items],
    })  # fmt: skip
    capsys.readouterr()
    assert main(["--store", str(store.path), "minutes", "--board", "Plant"], today=TODAY) == 0
    out = capsys.readouterr().out
    assert "- Last review: " in out and "(why is scrap red?)" in out
    assert "## Explanations" in out and "- Yield: lab is re-calibrating the gauge" in out
    assert "## Escalations" in out and "Need a second gauge" in out
    assert out.index("Need a second gauge") < out.index("| Scrap")
