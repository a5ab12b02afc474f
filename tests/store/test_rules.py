"""The KPI rules (store/rules.py), exhaustively and as properties, and the demo store's story."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest
from conftest import TODAY
from hypothesis import assume, example, given
from hypothesis import strategies as st

from store import Store
from store.demo import build
from store.model import Action, Direction, Entry, Frequency, Kpi, Stage, Status, Target
from store.rules import (
    Flag,
    KpiView,
    Trend,
    benchmark,
    colour,
    entry_status,
    is_stale,
    kpi_status,
    last_complete_period,
    next_period_start,
    period_start,
    previous_period_start,
    series,
    trend,
    variance,
    view_kpis,
)

UP, DOWN = Direction.UP, Direction.DOWN
DAILY, WEEKLY, MONTHLY = Frequency.DAILY, Frequency.WEEKLY, Frequency.MONTHLY

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
ints = st.integers(min_value=-100_000, max_value=100_000).map(float)
finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
directions = st.sampled_from(list(Direction))
frequencies = st.sampled_from(list(Frequency))


def kpi(
    direction: Direction = UP,
    target: float = 100.0,
    amber: float | None = None,
    frequency: Frequency = DAILY,
    targets: Sequence[Target] | None = None,
    kpi_id: int = 1,
    counter: int | None = None,
) -> Kpi:
    return Kpi(
        id=kpi_id,
        board=1,
        name=f"kpi{kpi_id}",
        targets=tuple(targets) if targets else (Target(target),),
        direction=direction,
        amber=amber,
        frequency=frequency,
        counter=counter,
    )


def entry(
    day: date, value: float, entry_id: int = 1, plan: float | None = None, kpi_id: int = 1
) -> Entry:
    return Entry(id=entry_id, kpi=kpi_id, day=day, value=value, plan=plan)


def action(kpi_id: int | None, stage: Stage = Stage.DO, action_id: int = 1) -> Action:
    return Action(id=action_id, title="fix it", board=1, kpi=kpi_id, stage=stage)


# --- colour: direction, amber band, plan -----------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "value", "expected"),
    [
        (UP, 101, Status.GREEN),
        (UP, 100, Status.GREEN),  # meeting the target is green
        (UP, 95, Status.AMBER),
        (UP, 90, Status.AMBER),  # on the amber threshold is still amber
        (UP, 89.9, Status.RED),
        (DOWN, 99, Status.GREEN),
        (DOWN, 100, Status.GREEN),
        (DOWN, 105, Status.AMBER),
        (DOWN, 110, Status.AMBER),
        (DOWN, 110.1, Status.RED),
    ],
)
def test_colour_table(direction: Direction, value: float, expected: Status) -> None:
    amber = 90.0 if direction is UP else 110.0
    k = kpi(direction, 100.0, amber)
    assert colour(k, value, 100.0, 100.0) is expected


@given(value=ints, bench=ints)
def test_colour_without_amber_is_green_or_red_by_direction(value: float, bench: float) -> None:
    up = colour(kpi(UP, bench), value, bench, bench)
    down = colour(kpi(DOWN, bench), value, bench, bench)
    assert up is (Status.GREEN if value >= bench else Status.RED)
    assert down is (Status.GREEN if value <= bench else Status.RED)


@given(value=ints, target=ints, gap=st.integers(min_value=0, max_value=10_000).map(float))
def test_amber_band_against_the_target(value: float, target: float, gap: float) -> None:
    """Up: green at/above target, amber down to the threshold, red below it. Down mirrors."""
    up = colour(kpi(UP, target, target - gap), value, target, target)
    if value >= target:
        assert up is Status.GREEN
    elif value >= target - gap:
        assert up is Status.AMBER
    else:
        assert up is Status.RED
    down = colour(kpi(DOWN, target, target + gap), value, target, target)
    if value <= target:
        assert down is Status.GREEN
    elif value <= target + gap:
        assert down is Status.AMBER
    else:
        assert down is Status.RED


@given(value=finite, bench=finite, target=finite, amber=st.none() | finite)
def test_down_is_the_mirror_of_up(
    value: float, bench: float, target: float, amber: float | None
) -> None:
    mirrored = None if amber is None else -amber
    assert colour(kpi(UP, target, amber), value, bench, target) is colour(
        kpi(DOWN, -target, mirrored), -value, -bench, -target
    )


@given(value=finite, bench=finite, target=finite, amber=st.none() | finite, d=directions)
def test_colour_is_never_stale_or_no_data(
    value: float, bench: float, target: float, amber: float | None, d: Direction
) -> None:
    assert colour(kpi(d, target, amber), value, bench, target) in (
        Status.GREEN,
        Status.AMBER,
        Status.RED,
    )


def test_plan_overrides_the_target() -> None:
    k = kpi(UP, 100.0, 90.0)  # tolerance 10
    day = date(2026, 5, 4)
    assert entry_status(k, entry(day, 85.0)) is Status.RED  # vs target 100
    assert entry_status(k, entry(day, 85.0, plan=80.0)) is Status.GREEN  # vs plan 80
    assert entry_status(k, entry(day, 72.0, plan=80.0)) is Status.AMBER  # within 10 of the plan
    assert entry_status(k, entry(day, 69.0, plan=80.0)) is Status.RED
    assert entry_status(k, entry(day, 105.0, plan=110.0)) is Status.AMBER  # short of the plan
    assert benchmark(k, entry(day, 1.0, plan=0.0)) == 0.0  # a plan of 0 is still a plan


@given(value=ints, plan=ints, target=ints, gap=st.integers(0, 1000).map(float), d=directions)
def test_plan_is_the_benchmark_with_the_targets_tolerance(
    value: float, plan: float, target: float, gap: float, d: Direction
) -> None:
    amber = target - gap if d is UP else target + gap
    k = kpi(d, target, amber)
    e = entry(date(2026, 1, 1), value, plan=plan)
    assert benchmark(k, e) == plan
    assert entry_status(k, e) is colour(k, value, plan, target)


# --- time-phased targets -----------------------------------------------------------------------


def test_target_on_steps() -> None:
    k = kpi(
        UP,
        targets=[Target(110.0), Target(120.0, date(2026, 3, 1)), Target(125.0, date(2026, 6, 1))],
        amber=100.0,
    )
    assert k.target_on(date(2025, 1, 1)) == 110.0
    assert k.target_on(date(2026, 2, 28)) == 110.0
    assert k.target_on(date(2026, 3, 1)) == 120.0  # in force from its first day
    assert k.target_on(date(2026, 5, 31)) == 120.0
    assert k.target_on(date(2026, 6, 1)) == 125.0
    assert k.target == 125.0
    # The same value is green against the old target and amber against the new one.
    assert entry_status(k, entry(date(2026, 2, 28), 115.0)) is Status.GREEN
    assert entry_status(k, entry(date(2026, 3, 1), 115.0)) is Status.AMBER
    # The tolerance follows the target in force: 100 is amber under 110 (10) and 120 (20)...
    assert entry_status(k, entry(date(2026, 2, 1), 100.0)) is Status.AMBER
    # ...but 99 is red under 110 (1 beyond a tolerance of 10) and under 125 (26 > 25).
    assert entry_status(k, entry(date(2026, 2, 1), 99.0)) is Status.RED
    assert entry_status(k, entry(date(2026, 7, 1), 99.0)) is Status.RED


def test_a_first_target_with_a_start_date_still_applies_before_it() -> None:
    k = kpi(targets=[Target(50.0, date(2026, 1, 1)), Target(60.0, date(2026, 2, 1))])
    assert k.target_on(date(2025, 6, 1)) == 50.0


@given(
    first=ints,
    steps=st.lists(st.tuples(days, ints), max_size=6, unique_by=lambda t: t[0]),
    day=days,
)
def test_target_on_is_the_latest_step_started(
    first: float, steps: list[tuple[date, float]], day: date
) -> None:
    steps.sort()
    k = kpi(targets=[Target(first), *(Target(v, d) for d, v in steps)])
    started = [v for d, v in steps if d <= day]
    assert k.target_on(day) == (started[-1] if started else first)
    assert k.target == (steps[-1][1] if steps else first)


# --- periods and staleness ---------------------------------------------------------------------


@given(f=frequencies, day=days)
def test_periods_tile_the_calendar(f: Frequency, day: date) -> None:
    start = period_start(f, day)
    nxt = next_period_start(f, start)
    prev = previous_period_start(f, start)
    assert start <= day < nxt
    assert period_start(f, start) == start
    assert period_start(f, nxt) == nxt and period_start(f, prev) == prev
    assert next_period_start(f, prev) == start
    assert previous_period_start(f, nxt) == start
    assert period_start(f, nxt - timedelta(days=1)) == start
    if f is WEEKLY:
        assert start.weekday() == 0 and (nxt - start).days == 7
    if f is MONTHLY:
        assert start.day == 1 and 28 <= (nxt - start).days <= 31


@pytest.mark.parametrize(
    ("f", "today", "expected"),
    [
        (DAILY, date(2026, 1, 1), date(2025, 12, 31)),
        (DAILY, date(2028, 3, 1), date(2028, 2, 29)),
        (WEEKLY, date(2026, 11, 20), date(2026, 11, 9)),  # Friday -> last week's Monday
        (WEEKLY, date(2026, 11, 16), date(2026, 11, 9)),  # Monday
        (WEEKLY, date(2027, 1, 3), date(2026, 12, 21)),  # Sunday, across the new year
        (MONTHLY, date(2027, 1, 5), date(2026, 12, 1)),
        (MONTHLY, date(2027, 1, 1), date(2026, 12, 1)),
        (MONTHLY, date(2026, 12, 31), date(2026, 11, 1)),
        (MONTHLY, date(2028, 3, 1), date(2028, 2, 1)),
    ],
)
def test_last_complete_period(f: Frequency, today: date, expected: date) -> None:
    assert last_complete_period(f, today) == expected


@pytest.mark.parametrize(
    ("f", "today", "latest", "stale"),
    [
        (DAILY, date(2026, 11, 20), date(2026, 11, 20), False),  # today
        (DAILY, date(2026, 11, 20), date(2026, 11, 19), False),  # yesterday
        (DAILY, date(2026, 11, 20), date(2026, 11, 18), True),  # nothing for yesterday or today
        (DAILY, date(2027, 1, 1), date(2026, 12, 31), False),
        (DAILY, date(2027, 1, 1), date(2026, 12, 30), True),
        (WEEKLY, date(2026, 11, 20), date(2026, 11, 9), False),  # Monday of last week
        (WEEKLY, date(2026, 11, 20), date(2026, 11, 15), False),  # Sunday of last week
        (WEEKLY, date(2026, 11, 20), date(2026, 11, 8), True),  # the week before
        (WEEKLY, date(2026, 11, 16), date(2026, 11, 8), True),  # a Monday with no last week
        (WEEKLY, date(2027, 1, 4), date(2026, 12, 28), False),  # week across the year end
        (WEEKLY, date(2027, 1, 4), date(2026, 12, 27), True),
        (MONTHLY, date(2027, 1, 5), date(2026, 12, 1), False),
        (MONTHLY, date(2027, 1, 5), date(2026, 12, 31), False),
        (MONTHLY, date(2027, 1, 5), date(2026, 11, 30), True),
        (MONTHLY, date(2027, 1, 31), date(2026, 11, 30), True),
        (MONTHLY, date(2028, 3, 1), date(2028, 2, 29), False),  # leap day
        (MONTHLY, date(2028, 3, 31), date(2028, 1, 31), True),
    ],
)
def test_staleness_per_frequency(f: Frequency, today: date, latest: date, stale: bool) -> None:
    k = kpi(frequency=f)
    e = entry(latest, 100.0)
    assert is_stale(k, e, today) is stale
    assert kpi_status(k, [e], today) is (Status.STALE if stale else Status.GREEN)


@given(f=frequencies, today=days, back=st.integers(min_value=-1, max_value=120))
def test_stale_means_the_last_complete_period_is_missing(
    f: Frequency, today: date, back: int
) -> None:
    latest = today - timedelta(days=back)
    k = kpi(frequency=f)
    last = last_complete_period(f, today)
    covered = period_start(f, latest) >= last  # an entry in that period, or a later one
    assert is_stale(k, entry(latest, 1.0), today) is not covered


def test_no_data() -> None:
    k = kpi(UP, 100.0, 90.0)
    assert kpi_status(k, [], TODAY) is Status.NO_DATA
    [v] = view_kpis([k], {}, [], {1: "B"}, TODAY)
    assert v.status is Status.NO_DATA
    assert v.colour is None and v.latest is None and v.variance is None
    assert v.trend is Trend.UNKNOWN and v.flags == () and v.stale_since is None
    assert v.benchmark == 100.0 and v.spark() == []


# --- series -------------------------------------------------------------------------------------


def test_series_supersedes_the_same_date() -> None:
    d = date(2026, 11, 18)
    first, fixed, other = entry(d, 812.0, 10), entry(d, 854.0, 11), entry(d - timedelta(1), 9.0, 5)
    assert series(DAILY, [fixed, other, first]) == [other, fixed]
    assert series(DAILY, [first, fixed]) == [fixed]


def test_series_keeps_one_per_period() -> None:
    # Weekly: the latest day of the week wins, even when an earlier day was recorded later.
    mon, fri = date(2026, 11, 16), date(2026, 11, 20)
    late_mon = entry(mon, 1.0, 9)
    assert series(WEEKLY, [entry(fri, 2.0, 3), late_mon]) == [entry(fri, 2.0, 3)]
    # Monthly across the year end.
    dec, jan = entry(date(2026, 12, 31), 3.0, 1), entry(date(2027, 1, 1), 4.0, 2)
    assert series(MONTHLY, [jan, dec]) == [dec, jan]


@given(
    f=frequencies,
    raw=st.lists(st.tuples(st.dates(date(2026, 1, 1), date(2026, 4, 30)), ints), max_size=40),
)
def test_series_matches_a_reference(f: Frequency, raw: list[tuple[date, float]]) -> None:
    entries = [entry(d, v, i + 1) for i, (d, v) in enumerate(raw)]
    got = series(f, reversed(entries))  # input order must not matter
    starts = [period_start(f, e.day) for e in got]
    assert starts == sorted(set(starts))  # one per period, oldest first
    assert {period_start(f, e.day) for e in entries} == set(starts)
    for e in got:
        same = [o for o in entries if period_start(f, o.day) == period_start(f, e.day)]
        assert e == max(same, key=lambda o: (o.day, o.id))


# --- variance -----------------------------------------------------------------------------------


@given(value=ints, bench=ints, d=directions)
def test_variance_sign_and_percent(value: float, bench: float, d: Direction) -> None:
    k = kpi(d, bench)
    diff, pct = variance(k, entry(date(2026, 1, 1), value))
    assert diff == value - bench
    if bench == 0:
        assert pct is None
    else:
        assert pct is not None
        assert pct == pytest.approx((value - bench) / abs(bench) * 100.0)
        assert (pct > 0) == (diff > 0) and (pct < 0) == (diff < 0)  # sign of the actual's side


def test_variance_examples() -> None:
    day = date(2026, 1, 1)
    assert variance(kpi(UP, 200.0), entry(day, 150.0)) == (-50.0, -25.0)
    assert variance(kpi(UP, -200.0), entry(day, -150.0)) == (50.0, 25.0)  # |bench|
    assert variance(kpi(UP, 100.0), entry(day, 90.0, plan=80.0)) == (10.0, 12.5)  # vs the plan
    assert variance(kpi(UP, 0.0), entry(day, 3.0)) == (3.0, None)
    assert variance(kpi(UP, 100.0), entry(day, 3.0, plan=0.0)) == (3.0, None)


# --- trend --------------------------------------------------------------------------------------


def history(values: Sequence[float]) -> list[Entry]:
    start = date(2026, 1, 1)
    return [entry(start + timedelta(days=i), v, i + 1) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("values", "up", "down"),
    [
        ([90, 92, 94, 96, 98], Trend.IMPROVING, Trend.WORSENING),
        ([98, 96, 94, 92, 90], Trend.WORSENING, Trend.IMPROVING),
        ([100, 100, 100, 100, 100], Trend.FLAT, Trend.FLAT),
        ([100, 100.5, 99.6, 100.4, 100.3], Trend.FLAT, Trend.FLAT),  # noise under 2%
        ([100], Trend.UNKNOWN, Trend.UNKNOWN),
        ([], Trend.UNKNOWN, Trend.UNKNOWN),
        ([100, 103], Trend.IMPROVING, Trend.WORSENING),
        # Only the last 5 periods count: an old slump does not make a trend.
        ([10, 20, 30, 100, 100, 100, 100, 100], Trend.FLAT, Trend.FLAT),
    ],
)
def test_trend_examples(values: list[float], up: Trend, down: Trend) -> None:
    assert trend(kpi(UP, 100.0), history(values)) is up
    assert trend(kpi(DOWN, 100.0), history(values)) is down


def test_trend_with_a_zero_target_scales_by_the_mean() -> None:
    assert trend(kpi(DOWN, 0.0), history([50, 50, 50, 50, 51])) is Trend.FLAT
    assert trend(kpi(DOWN, 0.0), history([50, 45, 40, 35, 30])) is Trend.IMPROVING
    assert trend(kpi(DOWN, 0.0), history([0, 0, 0, 0, 0])) is Trend.FLAT


@given(values=st.lists(ints, min_size=0, max_size=12), target=ints)
def test_trend_direction_flips_and_reversal_flips(values: list[float], target: float) -> None:
    flip = {Trend.IMPROVING: Trend.WORSENING, Trend.WORSENING: Trend.IMPROVING}
    up = trend(kpi(UP, target), history(values))
    down = trend(kpi(DOWN, target), history(values))
    assert down is flip.get(up, up)
    window = values[-5:]
    assume(len(window) >= 2)
    rev = trend(kpi(UP, target), history(list(reversed(window))))
    assert rev is flip.get(up, up)


@given(start=ints, step=st.integers(min_value=1, max_value=1000).map(float))
@example(start=0.0, step=1.0)
def test_a_steady_rise_of_more_than_2_percent_is_a_trend(start: float, step: float) -> None:
    values = [start + i * step for i in range(5)]
    target = 10 * step  # 2% of it is 0.2 steps; the rise is 4 steps
    assert trend(kpi(UP, target), history(values)) is Trend.IMPROVING
    assert trend(kpi(DOWN, target), history(values)) is Trend.WORSENING


# --- flags --------------------------------------------------------------------------------------


def views(
    kpis: list[Kpi], entries: list[Entry], actions: list[Action], today: date = TODAY
) -> dict[int, KpiView]:
    by_kpi: dict[int, list[Entry]] = {}
    for e in entries:
        by_kpi.setdefault(e.kpi, []).append(e)
    return {v.kpi.id: v for v in view_kpis(kpis, by_kpi, actions, {1: "Line"}, today)}


def test_red_without_an_open_action_is_flagged() -> None:
    k = kpi(UP, 100.0, 90.0)
    red = [entry(TODAY, 50.0)]
    assert views([k], red, [])[1].flags == (Flag.RED_NO_ACTION,)
    assert views([k], red, [action(1, Stage.DONE)])[1].flags == (Flag.RED_NO_ACTION,)
    assert views([k], red, [action(2, Stage.DO)])[1].flags == (Flag.RED_NO_ACTION,)  # other KPI
    assert views([k], red, [action(None, Stage.DO)])[1].flags == (Flag.RED_NO_ACTION,)
    for stage in (Stage.PLAN, Stage.DO, Stage.CHECK, Stage.ACT):
        v = views([k], red, [action(1, stage), action(1, Stage.DONE, 2)])[1]
        assert v.flags == () and [a.id for a in v.open_actions] == [1]
    # Amber and green need no action.
    assert views([k], [entry(TODAY, 95.0)], [])[1].flags == ()
    assert views([k], [entry(TODAY, 105.0)], [])[1].flags == ()


def test_open_actions_are_ordered_by_due_date() -> None:
    k = kpi(UP, 100.0)
    acts = [
        Action(id=1, title="a", board=1, kpi=1, due=None),
        Action(id=2, title="b", board=1, kpi=1, due=date(2026, 12, 1)),
        Action(id=3, title="c", board=1, kpi=1, due=date(2026, 11, 1)),
    ]
    v = views([k], [entry(TODAY, 1.0)], acts)[1]
    assert [a.id for a in v.open_actions] == [3, 2, 1]


@pytest.mark.parametrize(
    ("guarded", "guard", "flagged"),
    [
        (130.0, 90.0, True),  # green guarded by a red counter
        (130.0, 97.0, False),  # counter amber
        (130.0, 99.0, False),  # counter green
        (120.0, 90.0, True),  # exactly on target is green
        (110.0, 90.0, False),  # guarded KPI amber: its own colour speaks
    ],
)
def test_counter_red(guarded: float, guard: float, flagged: bool) -> None:
    uph = kpi(UP, 120.0, 100.0, kpi_id=1, counter=2)
    fpy = kpi(UP, 98.0, 96.5, kpi_id=2)
    pair = [entry(TODAY, guarded, 1, kpi_id=1), entry(TODAY, guard, 2, kpi_id=2)]
    v = views([uph, fpy], pair, [])
    assert (Flag.COUNTER_RED in v[1].flags) is flagged
    assert v[1].counter_name == "kpi2"
    assert Flag.COUNTER_RED not in v[2].flags


def test_counter_that_is_stale_or_missing_does_not_flag() -> None:
    uph = kpi(UP, 120.0, kpi_id=1, counter=2)
    fpy = kpi(UP, 98.0, kpi_id=2)
    old = TODAY - timedelta(days=10)
    v = views([uph, fpy], [entry(TODAY, 130.0, 1, kpi_id=1), entry(old, 1.0, 2, kpi_id=2)], [])
    assert v[2].status is Status.STALE and v[1].flags == ()
    lone = views([kpi(UP, 120.0, kpi_id=1, counter=99)], [entry(TODAY, 130.0)], [])
    assert lone[1].flags == () and lone[1].counter_name is None


@pytest.mark.parametrize(
    ("f", "latest", "since"),
    [
        (DAILY, date(2026, 11, 15), date(2026, 11, 16)),
        (WEEKLY, date(2026, 11, 4), date(2026, 11, 9)),  # the week after that entry's week
        (MONTHLY, date(2026, 9, 17), date(2026, 10, 1)),
    ],
)
def test_stale_flag_and_since(f: Frequency, latest: date, since: date) -> None:
    k = kpi(UP, 100.0, frequency=f)
    v = views([k], [entry(latest, 50.0)], [])[1]
    assert v.status is Status.STALE
    assert v.flags == (Flag.STALE,)  # stale, not red: no red-no-action on an old number
    assert v.stale_since == since
    assert v.colour is Status.RED  # the latest entry's own colour is kept


@given(f=frequencies, today=days, back=st.integers(min_value=0, max_value=400))
def test_stale_since_is_the_first_missing_period(f: Frequency, today: date, back: int) -> None:
    latest = today - timedelta(days=back)
    v = views([kpi(UP, 1.0, frequency=f)], [entry(latest, 1.0)], [], today)[1]
    if v.status is Status.STALE:
        assert v.stale_since is not None
        assert v.stale_since == next_period_start(f, period_start(f, latest))
        assert v.stale_since <= last_complete_period(f, today)
    else:
        assert v.stale_since is None and Flag.STALE not in v.flags


# --- the demo store: the story the board tells -----------------------------------------------


EXPECTED = {
    "On-time delivery": (Status.AMBER, ()),
    "Customer complaints": (Status.GREEN, ()),
    "Near misses reported": (Status.NO_DATA, ()),
    "Units per hour": (Status.GREEN, (Flag.COUNTER_RED,)),
    "First-pass yield": (Status.RED, (Flag.RED_NO_ACTION,)),
    "Scrap cost": (Status.RED, ()),
    "Changeover time": (Status.STALE, (Flag.STALE,)),
    "Daily output": (Status.GREEN, ()),
    # The tiers (issue 10): a department that looks fine and a second team, all green.
    "Schedule attainment": (Status.GREEN, ()),
    "Kaizen ideas": (Status.GREEN, ()),
    "Line 3 output": (Status.GREEN, ()),
    "Line 3 yield": (Status.GREEN, ()),
}


def test_demo_shows_every_status_and_flag(demo_store: Store) -> None:
    snap = demo_store.read()
    ops, line = snap.board_named("Operations"), snap.board_named("Line 2 Assembly")
    dept = snap.board_named("Assembly")  # plant → department → team
    assert line.parent == dept.id and dept.parent == ops.id
    assert ops.parent is None and ops.kpi_limit == 7
    got = {v.kpi.name: (v.status, v.flags) for v in snap.views(None, TODAY)}
    assert got == EXPECTED
    by_name = {v.kpi.name: v for v in snap.views(None, TODAY)}
    assert by_name["Scrap cost"].open_actions  # red with an action under way
    assert by_name["Changeover time"].stale_since == TODAY - timedelta(days=4)
    assert by_name["Units per hour"].counter_name == "First-pass yield"
    assert {v.kpi.name for v in snap.views(line.id, TODAY)} == {
        "Units per hour",
        "First-pass yield",
        "Scrap cost",
        "Changeover time",
        "Daily output",
    }


def test_demo_has_the_details_a_board_shows(demo_store: Store) -> None:
    snap = demo_store.read()
    kpis = {k.name: k for k in snap.kpis.values()}
    uph = kpis["Units per hour"]
    assert [t.since for t in uph.targets] == [None, TODAY - timedelta(days=30)]
    assert uph.target_on(TODAY - timedelta(days=31)) < uph.target_on(TODAY - timedelta(days=30))
    assert {k.frequency for k in kpis.values()} == {DAILY, WEEKLY, MONTHLY}
    assert {k.direction for k in kpis.values()} == {UP, DOWN}
    assert all(k.owner and k.goal for k in kpis.values())
    assert {k.owner for k in kpis.values()} <= {"ana", "ben", "chen", "dara", "emil", "fay"}
    entries = [e for lst in snap.entries.values() for e in lst]
    assert len({e.day for e in entries}) >= 90
    assert sum(1 for e in entries if e.note) >= 5
    assert any(e.plan is not None for e in entries)
    people = {"ana", "ben", "chen", "dara", "emil", "fay"}
    assert all(e.who in people and e.at.endswith("Z") for e in entries)
    twice = [
        (k, d)
        for k, lst in snap.entries.items()
        for d in {e.day for e in lst}
        if sum(e.day == d for e in lst) > 1
    ]
    assert len(twice) == 1  # one superseded value, corrected with a note
    k_id, day = twice[0]
    first, fixed = [e for e in snap.entries[k_id] if e.day == day]
    assert fixed.id > first.id and fixed.note and fixed.at > first.at
    assert series(snap.kpis[k_id].frequency, snap.entries[k_id])[-3] == fixed
    stages = {a.stage for a in snap.actions.values()}
    assert stages == set(Stage)
    assert any(a.overdue(TODAY) for a in snap.actions.values())
    for a in snap.actions.values():
        assert a.owner and a.due and a.history
        moves = [h for h in a.history if h.field == "stage"]
        assert moves[0].new == "plan" and moves[-1].new == a.stage.value
        assert [h.at for h in a.history] == sorted(h.at for h in a.history)


def _comparable(path: Path) -> dict[str, object]:
    raw = orjson.loads(path.read_bytes())
    del raw["meta"]["1"]["last_change"]  # who built it, and when, on the real clock
    return raw  # type: ignore[no-any-return]


def test_demo_is_a_function_of_today_and_seed(tmp_path: Path) -> None:
    a, b, c = (Store(tmp_path / f"{n}.json") for n in "abc")
    build(a, TODAY)
    build(b, TODAY)
    build(c, TODAY, seed=8)
    assert _comparable(a.path) == _comparable(b.path)
    assert _comparable(a.path) != _comparable(c.path)


@pytest.mark.parametrize(
    "today",
    [date(2027, 1, 1), date(2027, 1, 4), date(2028, 2, 29), date(2028, 3, 1), date(2026, 3, 31)],
)
@pytest.mark.parametrize("seed", [7, 11])
def test_demo_story_holds_on_any_day(tmp_path: Path, today: date, seed: int) -> None:
    store = Store(tmp_path / "demo.json")
    build(store, today, seed)
    got = {v.kpi.name: (v.status, v.flags) for v in store.read().views(None, today)}
    assert got == EXPECTED


def test_demo_refuses_a_store_with_boards(demo_store: Store) -> None:
    from store.errors import BadInput

    before = demo_store.path.read_bytes()
    with pytest.raises(BadInput, match="new store"):
        build(demo_store, TODAY)
    assert demo_store.path.read_bytes() == before
