"""Issue 11 in the store: freshness contracts, the board's clock, as-of boards, targets in
time, estimates and explained reds, all with a frozen clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from store import Store, ops
from store.asof import as_of
from store.errors import BadInput
from store.explain import default_until, explain
from store.fresh import State, board_next_change, due_at, end_of, freshness, next_change
from store.huddle import ItemKind, blocks, build_agenda
from store.model import (
    Action,
    Board,
    Direction,
    Entry,
    Estimate,
    Explanation,
    Frequency,
    Kpi,
    Revision,
    Stage,
    Status,
    Target,
)
from store.plans import estimate_series, plan, report
from store.present import (
    as_of_text,
    benchmark_label,
    flag_texts,
    short_date,
    target_text,
    variance_text,
)
from store.rules import Flag
from store.snapshot import Snapshot

DAY = date(2026, 11, 20)  # a Friday


def kpi(
    kpi_id: int = 1,
    due: time | None = None,
    frequency: Frequency = Frequency.DAILY,
    owner: str = "ben",
    targets: tuple[Target, ...] = (Target(100.0),),
    amber: float | None = 90.0,
    direction: Direction = Direction.UP,
    at: str = "",
) -> Kpi:
    return Kpi(
        id=kpi_id,
        board=1,
        name=f"K{kpi_id}",
        targets=targets,
        frequency=frequency,
        owner=owner,
        due=due,
        amber=amber,
        direction=direction,
        at=at,
    )


def entry(i: int, day: date, value: float, kpi_id: int = 1, at: str = "") -> Entry:
    return Entry(id=i, kpi=kpi_id, day=day, value=value, at=at)


def snap_of(
    kpis: list[Kpi],
    entries: list[Entry],
    actions: list[Action] | None = None,
    estimates: list[Estimate] | None = None,
    explanations: list[Explanation] | None = None,
) -> Snapshot:
    by: dict[int, list[Entry]] = {}
    for e in entries:
        by.setdefault(e.kpi, []).append(e)
    est: dict[int, list[Estimate]] = {}
    for x in estimates or []:
        est.setdefault(x.kpi, []).append(x)
    exp: dict[int, list[Explanation]] = {}
    for y in explanations or []:
        exp.setdefault(y.kpi, []).append(y)
    return Snapshot(
        boards={1: Board(1, "Line")},
        kpis={k.id: k for k in kpis},
        entries=by,
        actions={a.id: a for a in actions or []},
        estimates=est,
        explanations=exp,
    )


# --- freshness contracts --------------------------------------------------------------------


def test_a_due_time_gives_grace_after_midnight_then_late_then_stale() -> None:
    k = kpi(due=time(7, 0))
    thursday = DAY - timedelta(days=1)
    # Friday 06:59: Thursday's value is not due yet; Wednesday's counts as current.
    assert freshness(k, thursday - timedelta(days=1), datetime(2026, 11, 20, 6, 59)).state is (
        State.CURRENT
    )
    late = freshness(k, thursday - timedelta(days=1), datetime(2026, 11, 20, 7, 35))
    assert late.state is State.LATE and late.due == datetime(2026, 11, 20, 7, 0)
    assert late.late_minutes(datetime(2026, 11, 20, 7, 35)) == 35
    # Saturday 07:00 Friday's value falls due too: more than one period missing is stale.
    assert freshness(k, thursday - timedelta(days=1), datetime(2026, 11, 21, 7, 0)).state is (
        State.STALE
    )
    assert freshness(k, thursday, datetime(2026, 11, 20, 23, 0)).state is State.CURRENT


def test_no_due_time_keeps_the_old_rule_stale_at_midnight() -> None:
    k = kpi(due=None)
    assert freshness(k, date(2026, 11, 18), datetime(2026, 11, 19, 23, 59)).state is State.CURRENT
    assert freshness(k, date(2026, 11, 18), datetime(2026, 11, 20, 0, 0)).state is State.STALE


def test_weekly_due_is_on_the_first_day_of_the_next_week() -> None:
    k = kpi(due=time(9, 30), frequency=Frequency.WEEKLY)
    assert due_at(k, date(2026, 11, 18)) == datetime(2026, 11, 23, 9, 30)  # Monday


def test_the_tile_says_late_with_the_owner_and_the_huddle_lists_it() -> None:
    k = kpi(due=time(7, 0))
    snap = snap_of([k], [entry(1, date(2026, 11, 18), 120.0)])
    view = snap.views(1, DAY, now=datetime(2026, 11, 20, 7, 35))[0]
    assert view.status is Status.GREEN and Flag.LATE in view.flags
    assert flag_texts(view, DAY) == ["late 35 min · ben"]
    agenda = build_agenda([view], [], DAY)
    assert [i.kind for i in agenda] == [ItemKind.LATE]
    later = snap.views(1, DAY + timedelta(days=1), now=datetime(2026, 11, 21, 8, 0))[0]
    assert later.status is Status.STALE
    assert flag_texts(later, DAY) == ["stale since Thu 19 Nov"]


# --- the board's clock --------------------------------------------------------------------


def test_next_change_is_the_due_time_then_each_minute_while_late_then_midnight() -> None:
    k = kpi(due=time(7, 0))
    latest = {1: date(2026, 11, 18)}
    assert next_change([k], latest, [], datetime(2026, 11, 20, 6, 0)) == datetime(
        2026, 11, 20, 7, 0
    )
    assert next_change([k], latest, [], datetime(2026, 11, 20, 7, 35, 20)) == datetime(
        2026, 11, 20, 7, 36
    )
    fresh_latest = {1: date(2026, 11, 19)}
    assert next_change([k], fresh_latest, [], datetime(2026, 11, 20, 8, 0)) == datetime(
        2026, 11, 21, 0, 0
    )


def test_crossing_midnight_turns_a_kpi_stale_and_an_action_overdue_with_no_write() -> None:
    k = kpi()
    act = Action(id=1, title="fix", board=1, kpi=1, due=date(2026, 11, 20), stage=Stage.DO)
    snap = snap_of([k], [entry(1, date(2026, 11, 19), 120.0)], [act])
    before = datetime(2026, 11, 20, 23, 59, 59)
    when = board_next_change(snap, before)
    assert when == datetime(2026, 11, 21, 0, 0)
    assert snap.views(1, before.date(), now=before)[0].status is Status.GREEN
    assert not act.overdue(before.date())
    after = when
    assert snap.views(1, after.date(), now=after)[0].status is Status.STALE
    assert act.overdue(after.date())


def test_a_due_time_crossed_with_no_write_makes_the_kpi_late() -> None:
    k = kpi(due=time(6, 30))
    snap = snap_of([k], [entry(1, date(2026, 11, 18), 120.0)])
    at = datetime(2026, 11, 20, 6, 0)
    assert Flag.LATE not in snap.views(1, DAY, now=at)[0].flags
    step = board_next_change(snap, at)
    assert step == datetime(2026, 11, 20, 6, 30)
    assert Flag.LATE in snap.views(1, DAY, now=step)[0].flags


# --- targets in time ------------------------------------------------------------------------


def test_a_future_target_shows_beside_the_one_in_force() -> None:
    k = kpi(targets=(Target(88.0), Target(92.0, date(2027, 1, 1))), amber=None)
    assert target_text(k, DAY) == "88 · 92 from 1 Jan 2027"
    assert target_text(k, date(2026, 12, 31)) == "88 · 92 from 1 Jan 2027"
    assert target_text(k, date(2027, 2, 1)) == "92"
    view = snap_of([k], []).views(1, DAY)[0]
    assert view.benchmark == 88.0
    assert benchmark_label(view) == "target 88 · 92 from 1 Jan 2027"


def test_a_second_target_for_one_date_supersedes_and_both_stay(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.json")
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "OEE", None, 88.0)
    ops.set_target(store, "OEE", 90.0, date(2027, 1, 1))
    k = ops.set_target(store, "OEE", 92.0, date(2027, 1, 1))
    assert [t.value for t in k.targets] == [88.0, 90.0, 92.0]
    assert target_text(k, DAY) == "88 · 92 from 1 Jan 2027"
    assert k.target_on(date(2027, 1, 1)) == 92.0


# --- estimates ------------------------------------------------------------------------------


def test_estimates_are_the_benchmark_and_the_report_shows_bias(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.json")
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "Hours", None, 20.0, direction=Direction.DOWN)
    plan(store, "Hours", 12.0, date(2026, 11, 18), by="ann")
    x, old = plan(store, "Hours", 15.0, date(2026, 11, 18), by="ann")  # revised
    assert old is not None and old.value == 12.0 and x.value == 15.0
    plan(store, "Hours", 20.0, date(2026, 11, 18), by="ben")
    plan(store, "Hours", 10.0, date(2026, 11, 19), by="ann")
    plan(store, "Hours", 30.0, date(2026, 12, 1), by="ann")  # a future period
    ops.record(store, "Hours", 20.0, date(2026, 11, 18), DAY)
    ops.record(store, "Hours", 8.0, date(2026, 11, 19), DAY)
    snap = store.read()
    kid = snap.kpi_named("Hours").id
    assert len(snap.estimates[kid]) == 5  # nothing is lost
    assert [(e.day, e.value) for e in estimate_series(snap, kid)] == [
        (date(2026, 11, 18), 20.0),
        (date(2026, 11, 19), 10.0),
        (date(2026, 12, 1), 30.0),
    ]
    view = snap.views(None, DAY)[0]
    assert benchmark_label(view) == "plan 10"
    assert variance_text(view) == "−2 (−20%)"
    stats = {s.by: s for s in report(snap, None)}
    assert stats["ann"].count == 3 and stats["ann"].compared == 2
    # ann: (15−20)/20 = −25%, (10−8)/8 = +25% → mean 0; ben: 0%.
    assert stats["ann"].mean_bias == pytest.approx(0.0)
    assert stats["ann"].gaps[0].bias == pytest.approx(-25.0)
    assert stats["ben"].mean_bias == pytest.approx(0.0) and stats["ben"].count == 1
    since = {s.by: s for s in report(snap, None, since=date(2026, 11, 19))}
    assert since["ann"].mean_bias == pytest.approx(25.0) and "ben" not in since


# --- explained reds -------------------------------------------------------------------------


def test_an_explanation_opens_the_gate_until_it_expires(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.json")
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "OEE", None, 88.0)
    ops.record(store, "OEE", 70.0, date(2026, 11, 19), DAY)
    snap = store.read()
    view = snap.views(None, DAY)[0]
    item = build_agenda([view], [], DAY)[0]
    assert view.flags == (Flag.RED_NO_ACTION,) and blocks(item, view, noted=False)
    x = explain(store, "OEE", "supplier strike, nothing we can do", DAY)
    assert x.until == date(2026, 11, 21) == default_until(snap.kpi_named("OEE"), DAY)
    snap = store.read()
    view = snap.views(None, DAY)[0]
    assert view.flags == (Flag.EXPLAINED,) and not blocks(item, view, noted=False)
    assert flag_texts(view, DAY) == ["explained: supplier strike, nothing we can do (until Sat)"]
    # Sunday: expired, the flag and the gate return.
    sunday = date(2026, 11, 22)
    ops.record(store, "OEE", 70.0, date(2026, 11, 21), sunday)
    snap = store.read()
    view = snap.views(None, sunday)[0]
    assert Flag.RED_NO_ACTION in view.flags and blocks(item, view, noted=False)


def test_explain_refuses_a_past_until_and_empty_text(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.json")
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "OEE", None, 88.0)
    before = (tmp_path / "s.json").read_bytes()
    with pytest.raises(BadInput, match="before today"):
        explain(store, "OEE", "why", DAY, until=DAY - timedelta(days=1))
    with pytest.raises(BadInput, match="needs its text"):
        explain(store, "OEE", "  ", DAY)
    assert (tmp_path / "s.json").read_bytes() == before


# --- as-of ----------------------------------------------------------------------------------


def year_of_data() -> Snapshot:
    """Five daily KPIs over 2013, loaded later (a back-fill), each ending differently on
    31 Dec 2013: green, amber, red, late (due 07:00, 29 Dec the last value) and stale."""
    loaded = "2026-11-20T10:00:00Z"
    start = date(2013, 1, 1)
    kpis = [
        kpi(1, at=loaded),
        kpi(2, at=loaded),
        kpi(3, at=loaded),
        kpi(4, due=time(7, 0), at=loaded),
        kpi(5, at=loaded),
    ]
    entries: list[Entry] = []
    i = 0
    last = {1: 120.0, 2: 95.0, 3: 50.0, 4: 120.0, 5: 120.0}
    ends = {1: 365, 2: 365, 3: 365, 4: 363, 5: 360}
    for k in kpis:
        for n in range(ends[k.id]):
            i += 1
            day = start + timedelta(days=n)
            entries.append(
                entry(i, day, last[k.id] if n == ends[k.id] - 1 else 110.0, k.id, loaded)
            )
        # and a value of 2014, which the board of 31 Dec 2013 must not see
        i += 1
        entries.append(entry(i, date(2014, 1, 1), 0.0, k.id, loaded))
    return snap_of(kpis, entries)


def test_as_of_the_years_last_day_shows_every_status_with_its_year() -> None:
    day = date(2013, 12, 31)
    past = as_of(year_of_data(), day)
    views = past.views(1, day, now=end_of(day))
    assert [v.status for v in views] == [
        Status.GREEN,
        Status.AMBER,
        Status.RED,
        Status.GREEN,
        Status.STALE,
    ]
    assert Flag.LATE in views[3].flags and Flag.RED_NO_ACTION in views[2].flags
    assert flag_texts(views[4], day) == ["stale since Fri 27 Dec"]
    assert flag_texts(views[4], DAY) == ["stale since 27 Dec 2013"]
    assert flag_texts(views[3], day) == ["late 16 h 59 min · ben"]
    assert as_of_text(day) == "as of Tue 31 Dec 2013"
    assert short_date(date(2014, 1, 1), DAY) == "1 Jan 2014"
    agenda = build_agenda(views, [], day)
    assert [i.kind for i in agenda] == [
        ItemKind.RED,
        ItemKind.STALE,
        ItemKind.LATE,
        ItemKind.AMBER,
    ]


def test_as_of_undoes_later_changes_and_hides_later_records() -> None:
    k = kpi(
        1,
        amber=None,
        at="2026-11-01T08:00:00Z",
        targets=(
            Target(100.0, None, "", "2026-11-01T08:00:00Z"),
            Target(50.0, date(2026, 11, 1), "", "2026-11-19T08:00:00Z"),
        ),
    )
    early = entry(1, date(2026, 11, 10), 120.0, at="2026-11-11T08:00:00Z")
    late_fix = entry(2, date(2026, 11, 10), 10.0, at="2026-11-19T08:00:00Z")
    act = Action(id=1, title="new", board=1, kpi=1, at="2026-11-19T08:00:00Z")
    snap = snap_of([k], [early, late_fix], [act])
    day = date(2026, 11, 11)
    past = as_of(snap, day)
    assert past.kpis[1].targets == k.targets[:1]
    assert [e.value for e in past.entries[1]] == [120.0]
    assert past.actions == {}
    assert past.views(1, day, now=end_of(day))[0].status is Status.GREEN
    # Today's store says red for that day: the later correction, against the later target.
    assert snap.views(1, day)[0].status is Status.RED


def test_as_of_gives_back_an_actions_stage_and_a_kpis_fields() -> None:
    from store.model import Revision, StageChange

    k = kpi(1, at="2026-11-01T08:00:00Z", owner="ann")
    act = Action(
        id=1,
        title="fix the filler",
        board=1,
        kpi=1,
        owner="cy",
        due=date(2026, 11, 30),
        stage=Stage.DONE,
        at="2026-11-02T08:00:00Z",
        history=(
            StageChange(Stage.PLAN, "ann", "2026-11-02T08:00:00Z", "stage", "", "plan"),
            StageChange(Stage.DO, "ann", "2026-11-03T08:00:00Z", "stage", "plan", "do"),
            StageChange(Stage.DO, "ann", "2026-11-15T08:00:00Z", "owner", "bo", "cy"),
            StageChange(Stage.DO, "ann", "2026-11-15T08:00:00Z", "due", "2026-11-09", "2026-11-30"),
            StageChange(Stage.DONE, "ann", "2026-11-16T08:00:00Z", "stage", "do", "done"),
        ),
    )
    rev = Revision(7, "kpis", 1, "owner", "bo", "ann", "edited", "ann", "2026-11-15T08:00:00Z")
    snap = replace_revisions(snap_of([k], [entry(1, date(2026, 11, 9), 120.0)], [act]), [rev])
    past = as_of(snap, date(2026, 11, 10))
    then = past.actions[1]
    assert (then.stage, then.owner, then.due) == (Stage.DO, "bo", date(2026, 11, 9))
    assert then.overdue(date(2026, 11, 10))  # open and past its due date, as it was that day
    assert past.kpis[1].owner == "bo"
    assert len(past.revisions) == 0
    assert as_of(snap, date(2026, 11, 20)).actions[1].stage is Stage.DONE


def replace_revisions(snap: Snapshot, revisions: list[Revision]) -> Snapshot:
    from dataclasses import replace

    return replace(snap, revisions=revisions)


def test_next_change_survives_the_calendars_last_day() -> None:
    k = kpi(due=time(7, 0))
    act = Action(id=1, title="someday", board=1, due=date.max, stage=Stage.DO)
    why = Explanation(1, 1, "x", DAY, date.max)
    at = datetime(2026, 11, 20, 12, 0)
    assert next_change([k], {1: date(2026, 11, 19)}, [act], at, [why]) == datetime(
        2026, 11, 21, 0, 0
    )
