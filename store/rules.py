"""The KPI rules as pure functions: status, staleness, variance, trend and the flags.

Nothing here reads a clock or a file: `today` is always passed in, so every rule is testable
exhaustively and the board, the huddle and the command line agree on every answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from . import viewmemo
from .model import Action, Direction, Entry, Estimate, Explanation, Frequency, Kpi, Status


class Trend(StrEnum):
    IMPROVING = "improving"
    WORSENING = "worsening"
    FLAT = "flat"
    UNKNOWN = "unknown"


SPARK_PERIODS = 30  # the recent story a tile's sparkline tells


class Flag(StrEnum):
    RED_NO_ACTION = "red-no-action"  # a red KPI must get a countermeasure
    COUNTER_RED = "counter-red"  # green while its counter-metric is red: the number may be gamed
    STALE = "stale"
    LATE = "late"  # the period due is missing and its due time passed (store/fresh.py)
    EXPLAINED = "explained"  # red, no action, but explained until a date (store/explain.py)


def period_start(frequency: Frequency, day: date) -> date:
    """The first day of the period that holds `day` (weeks start on Monday)."""
    if frequency is Frequency.WEEKLY:
        return day - timedelta(days=day.weekday())
    if frequency is Frequency.MONTHLY:
        return day.replace(day=1)
    return day


def previous_period_start(frequency: Frequency, start: date) -> date:
    """The first day of the period before the one starting at `start`."""
    if frequency is Frequency.WEEKLY:
        return start - timedelta(days=7)
    if frequency is Frequency.MONTHLY:
        return (start - timedelta(days=1)).replace(day=1)
    return start - timedelta(days=1)


def next_period_start(frequency: Frequency, start: date) -> date:
    """The first day of the period after the one starting at `start`."""
    if frequency is Frequency.WEEKLY:
        return start + timedelta(days=7)
    if frequency is Frequency.MONTHLY:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def last_complete_period(frequency: Frequency, today: date) -> date:
    """The start of the last period that has ended by `today` (yesterday, for a daily KPI)."""
    return previous_period_start(frequency, period_start(frequency, today))


def series(frequency: Frequency, entries: Iterable[Entry]) -> list[Entry]:
    """One entry per period, oldest first: the newest record wins, superseded ones drop out."""
    best: dict[date, Entry] = {}
    for e in entries:
        key = period_start(frequency, e.day)
        cur = best.get(key)
        if cur is None or (e.day, e.id) > (cur.day, cur.id):
            best[key] = e
    return [best[k] for k in sorted(best)]


def benchmark(kpi: Kpi, entry: Entry) -> float:
    """What the actual is compared with: the plan when there is one, else the target in force."""
    return entry.plan if entry.plan is not None else kpi.target_on(entry.day)


def colour(kpi: Kpi, value: float, bench: float, target: float) -> Status:
    """Green, amber or red for `value` against `bench`, honouring the KPI's direction.

    The amber threshold is set against the target; its distance from the target is the
    tolerance, so it applies to a plan the same way (estimate vs actual).
    """
    better = value >= bench if kpi.direction is Direction.UP else value <= bench
    if better:
        return Status.GREEN
    if kpi.amber is None:
        return Status.RED
    tolerance = abs(target - kpi.amber)
    return Status.AMBER if abs(value - bench) <= tolerance else Status.RED


def entry_status(kpi: Kpi, entry: Entry) -> Status:
    return colour(kpi, entry.value, benchmark(kpi, entry), kpi.target_on(entry.day))


def is_stale(kpi: Kpi, latest: Entry, today: date) -> bool:
    """Stale when nothing was recorded for the last complete period (nor since)."""
    return latest.day < last_complete_period(kpi.frequency, today)


def kpi_status(kpi: Kpi, history: Sequence[Entry], today: date) -> Status:
    """The KPI's status today from its per-period history (see `series`)."""
    if not history:
        return Status.NO_DATA
    latest = history[-1]
    if is_stale(kpi, latest, today):
        return Status.STALE
    return entry_status(kpi, latest)


def variance(kpi: Kpi, entry: Entry) -> tuple[float, float | None]:
    """Actual minus benchmark, absolute and in percent of the benchmark (None when it is 0)."""
    bench = benchmark(kpi, entry)
    diff = entry.value - bench
    return diff, (diff / abs(bench) * 100.0 if bench else None)


def shortfall(kpi: Kpi, entry: Entry) -> float:
    """How far the actual is on the wrong side of its benchmark, in percent (0 when met).

    Used to order a huddle's agenda: the largest miss first, whatever the unit.
    """
    diff, pct = variance(kpi, entry)
    wrong = -diff if kpi.direction is Direction.UP else diff
    if wrong <= 0:
        return 0.0
    return abs(pct) if pct is not None else wrong


def trend(kpi: Kpi, history: Sequence[Entry], periods: int = 5) -> Trend:
    """Improving, worsening or flat over the last `periods` periods, honouring direction.

    A least-squares slope, projected over the window and compared with 2% of the target
    (or of the mean when the target is 0), so noise does not read as a trend.
    """
    values = [e.value for e in history[-periods:]]
    n = len(values)
    if n < 2:
        return Trend.UNKNOWN
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    sxx = sum((i - mean_x) ** 2 for i in range(n))
    slope = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values)) / sxx
    scale = abs(kpi.target) or abs(mean_y) or 1.0
    change = slope * (n - 1)
    if abs(change) < 0.02 * scale:
        return Trend.FLAT
    up = change > 0
    good = up if kpi.direction is Direction.UP else not up
    return Trend.IMPROVING if good else Trend.WORSENING


@dataclass(frozen=True, slots=True)
class KpiView:
    """Everything a tile, a status line or a huddle item shows about one KPI."""

    kpi: Kpi
    board_name: str
    history: tuple[Entry, ...]  # one per period, oldest first
    status: Status
    colour: Status | None  # the latest entry's own colour, even when stale
    trend: Trend
    flags: tuple[Flag, ...]
    stale_since: date | None
    open_actions: tuple[Action, ...]
    counter_name: str | None = None
    met: tuple[bool, ...] = ()  # the last SPARK_PERIODS periods: did each meet its benchmark?
    today: date | None = None  # the day it was evaluated for: dates are shown against it
    now: datetime | None = None  # the instant it was evaluated for (lateness counts from it)
    late_due: datetime | None = None  # when the missing value was due, while it is late
    explanation: Explanation | None = None  # the explanation in force today, if any
    amber: tuple[bool, ...] = ()  # the same periods as `met`: was each amber (missed, tolerated)?

    @property
    def latest(self) -> Entry | None:
        return self.history[-1] if self.history else None

    @property
    def benchmark(self) -> float:
        if self.latest:
            return benchmark(self.kpi, self.latest)
        return self.kpi.target_on(self.today) if self.today else self.kpi.target

    @property
    def variance(self) -> tuple[float, float | None] | None:
        return variance(self.kpi, self.latest) if self.latest else None

    def spark(self, periods: int = SPARK_PERIODS) -> list[float]:
        return [e.value for e in self.history[-periods:]]


@dataclass(frozen=True, slots=True)
class BoardView:
    """A board's KPIs evaluated for one day, and its open actions: what every screen reads.

    The app builds one per board per load (and per day), so the board, the detail and the
    huddle never evaluate the rules again and always agree.
    """

    kpis: tuple[KpiView, ...]  # the board's own, in the order they were added
    actions: tuple[Action, ...]  # the board's open actions, the soonest due first

    def kpi(self, kpi_id: int | None) -> KpiView | None:
        return next((v for v in self.kpis if v.kpi.id == kpi_id), None)


def view_kpis(
    kpis: Sequence[Kpi],
    entries_of: dict[int, list[Entry]],
    actions: Sequence[Action],
    board_names: dict[int, str],
    today: date,
    now: datetime | None = None,
    estimates_of: dict[int, list[Estimate]] | None = None,
    explanations_of: dict[int, list[Explanation]] | None = None,
) -> list[KpiView]:
    """Evaluate every KPI, then the flags that need a second KPI (counter-metrics).

    `now` (default: the end of `today`) decides lateness against a KPI's due time; an entry
    without a plan is compared with the period's estimate (`teamboard plan`) when there is one;
    an explanation in force today stands in for an action on a red KPI.
    """
    when = local(now) if now is not None else end_of(today)
    open_by_kpi: dict[int, list[Action]] = {}
    for a in actions:
        if a.open and a.kpi is not None:
            open_by_kpi.setdefault(a.kpi, []).append(a)
    first: dict[int, tuple[Kpi, tuple[Entry, ...], Status]] = {}
    lates: dict[int, datetime | None] = {}
    tails: dict[int, tuple[Any, ...]] = {}
    for k in kpis:
        ests = (estimates_of or {}).get(k.id) or ()
        tails[k.id] = got = viewmemo.tail(k, entries_of.get(k.id, ()), ests, _tail)
        hist, colour_now = got[0], got[1]
        state = freshness(k, hist[-1].day if hist else None, when)
        if not hist:
            st = Status.NO_DATA
        elif state.state is State.STALE:
            st = Status.STALE
        else:
            st = colour_now
        lates[k.id] = state.due if state.state is State.LATE else None
        first[k.id] = (k, hist, st)
    names = {k.id: k.name for k in kpis}
    views = []
    for k, hist, status in first.values():
        flags: list[Flag] = []
        acts = tuple(sorted(open_by_kpi.get(k.id, ()), key=lambda a: (a.due or date.max, a.id)))
        why = next(
            (x for x in reversed((explanations_of or {}).get(k.id, ())) if x.active(today)), None
        )
        if status is Status.RED and not acts:
            flags.append(Flag.EXPLAINED if why is not None else Flag.RED_NO_ACTION)
        if lates[k.id] is not None:
            flags.append(Flag.LATE)
        counter = first.get(k.counter) if k.counter is not None else None
        if status is Status.GREEN and counter is not None and counter[2] is Status.RED:
            flags.append(Flag.COUNTER_RED)
        stale_since = None
        if status is Status.STALE:
            flags.append(Flag.STALE)
            stale_since = next_period_start(k.frequency, period_start(k.frequency, hist[-1].day))
        _, colour_now, how, met, amber = tails[k.id]
        views.append(
            KpiView(
                kpi=k,
                board_name=board_names.get(k.board, ""),
                history=hist,
                status=status,
                colour=colour_now,
                trend=how,
                flags=tuple(flags),
                stale_since=stale_since,
                open_actions=acts,
                counter_name=names.get(k.counter) if k.counter is not None else None,
                met=met,
                today=today,
                now=when,
                late_due=lates[k.id],
                explanation=why,
                amber=amber,
            )
        )
    return views


def _tail(k: Kpi, entries: Sequence[Entry], ests: Sequence[Estimate]) -> tuple[Any, ...]:
    """What a KPI's view takes from its own entries and estimates alone (not the clock, not
    other KPIs): its history, the latest colour, trend, and the sparkline's marks. Remembered
    across reads by `store.viewmemo` while those objects stay the same."""
    hist = tuple(series(k.frequency, entries))
    if ests:
        hist = with_estimates(k, hist, ests)
    marks = [entry_status(k, e) for e in hist[-SPARK_PERIODS:]]
    return (
        hist,
        entry_status(k, hist[-1]) if hist else None,
        trend(k, hist),
        tuple(m is Status.GREEN for m in marks),
        tuple(m is Status.AMBER for m in marks),
    )


def with_estimates(
    kpi: Kpi, history: Sequence[Entry], estimates: Sequence[Estimate]
) -> tuple[Entry, ...]:
    """The history with each period's latest estimate as the plan of an entry that has none:
    the variance views show is then against the estimate made before the work."""
    from dataclasses import replace

    best: dict[date, Estimate] = {}
    for x in estimates:  # in record order: a later estimate supersedes
        best[period_start(kpi.frequency, x.day)] = x
    return tuple(
        replace(e, plan=best[key].value)
        if e.plan is None and (key := period_start(kpi.frequency, e.day)) in best
        else e
        for e in history
    )


# --- freshness contracts (issue 11; the clock that uses them is store/fresh.py) ---------------
#
# Pure: `now` is always passed in, a naive local datetime (an aware one is converted). A KPI with
# no `due` time keeps the old rule: its last period is required from midnight on, and it is
# stale at once when the value is missing (no late phase).

END_OF_DAY = time(23, 59, 59)


def local(now: datetime) -> datetime:
    """`now` as a naive local datetime (how every rule here compares times)."""
    return now.astimezone().replace(tzinfo=None) if now.tzinfo is not None else now


def end_of(day: date) -> datetime:
    """The last second of `day`: the instant an as-of board is evaluated for."""
    return datetime.combine(day, END_OF_DAY)


def due_at(kpi: Kpi, period: date) -> datetime:
    """When the value of the period holding `period` is due: the KPI's `due` time on the first
    day of the next period (midnight when it sets none)."""
    start = period_start(kpi.frequency, period)
    return datetime.combine(next_period_start(kpi.frequency, start), kpi.due or time(0))


def required_period(kpi: Kpi, now: datetime) -> date:
    """The start of the newest period whose value is due by `now`: the last complete one once
    its due time has passed, the one before it until then (the grace after midnight)."""
    now = local(now)
    last = last_complete_period(kpi.frequency, now.date())
    if kpi.due is not None and now < due_at(kpi, last):
        return previous_period_start(kpi.frequency, last)
    return last


class State(StrEnum):
    CURRENT = "current"
    LATE = "late"  # the one period due is missing, and its due time has passed
    STALE = "stale"  # more is missing than that (or the KPI sets no due time)


@dataclass(frozen=True, slots=True)
class Freshness:
    state: State
    missing: date | None = None  # the first period with no value (start day)
    due: datetime | None = None  # when its value was due

    def late_minutes(self, now: datetime) -> int:
        """Whole minutes since the missing value was due (0 when none is late)."""
        if self.state is not State.LATE or self.due is None:
            return 0
        return max(0, int((local(now) - self.due).total_seconds() // 60))


def freshness(kpi: Kpi, latest_day: date | None, now: datetime) -> Freshness:
    """Is the KPI's latest value (for the period holding `latest_day`) current at `now`?"""
    if latest_day is None:
        return Freshness(State.CURRENT)
    required = required_period(kpi, now)
    latest = period_start(kpi.frequency, latest_day)
    if latest >= required:
        return Freshness(State.CURRENT)
    missing = next_period_start(kpi.frequency, latest)
    due = due_at(kpi, missing)
    if kpi.due is not None and missing == required:
        return Freshness(State.LATE, missing, due)
    return Freshness(State.STALE, missing, due)
