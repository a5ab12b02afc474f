"""The KPI rules as pure functions: status, staleness, variance, trend and the flags.

Nothing here reads a clock or a file: `today` is always passed in, so every rule is testable
exhaustively and the board, the huddle and the command line agree on every answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .model import Action, Direction, Entry, Frequency, Kpi, Status


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
    amber: tuple[bool, ...] = ()  # the same periods as `met`: was each amber (missed, tolerated)?

    @property
    def latest(self) -> Entry | None:
        return self.history[-1] if self.history else None

    @property
    def benchmark(self) -> float:
        return benchmark(self.kpi, self.latest) if self.latest else self.kpi.target

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
) -> list[KpiView]:
    """Evaluate every KPI, then the flags that need a second KPI (counter-metrics)."""
    open_by_kpi: dict[int, list[Action]] = {}
    for a in actions:
        if a.open and a.kpi is not None:
            open_by_kpi.setdefault(a.kpi, []).append(a)
    first: dict[int, tuple[Kpi, tuple[Entry, ...], Status]] = {}
    for k in kpis:
        hist = tuple(series(k.frequency, entries_of.get(k.id, ())))
        first[k.id] = (k, hist, kpi_status(k, hist, today))
    names = {k.id: k.name for k in kpis}
    views = []
    for k, hist, status in first.values():
        flags: list[Flag] = []
        acts = tuple(sorted(open_by_kpi.get(k.id, ()), key=lambda a: (a.due or date.max, a.id)))
        if status is Status.RED and not acts:
            flags.append(Flag.RED_NO_ACTION)
        counter = first.get(k.counter) if k.counter is not None else None
        if status is Status.GREEN and counter is not None and counter[2] is Status.RED:
            flags.append(Flag.COUNTER_RED)
        stale_since = None
        if status is Status.STALE:
            flags.append(Flag.STALE)
            stale_since = next_period_start(k.frequency, period_start(k.frequency, hist[-1].day))
        views.append(
            KpiView(
                kpi=k,
                board_name=board_names.get(k.board, ""),
                history=hist,
                status=status,
                colour=entry_status(k, hist[-1]) if hist else None,
                trend=trend(k, hist),
                flags=tuple(flags),
                stale_since=stale_since,
                open_actions=acts,
                counter_name=names.get(k.counter) if k.counter is not None else None,
                met=tuple(entry_status(k, e) is Status.GREEN for e in hist[-SPARK_PERIODS:]),
                today=today,
                amber=tuple(entry_status(k, e) is Status.AMBER for e in hist[-SPARK_PERIODS:]),
            )
        )
    return views
