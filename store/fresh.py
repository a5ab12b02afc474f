"""Freshness contracts and the board's clock: when a period's value is due, whether a KPI is
current, late or stale at an instant, and when the board's views next change with no write.

Pure: `now` is always passed in, a naive local datetime (an aware one is converted). A KPI with
no `due` time keeps the old rule: its last period is required from midnight on, and it is
stale at once when the value is missing (no late phase).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from .model import Action, Explanation, Kpi
from .rules import last_complete_period, next_period_start, period_start, previous_period_start

if TYPE_CHECKING:
    from .snapshot import Snapshot

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


def next_change(
    kpis: Iterable[Kpi],
    latest_days: dict[int, date],
    actions: Iterable[Action],
    now: datetime,
    explanations: Iterable[Explanation] = (),
) -> datetime:
    """The next instant the board's views change with no write, after `now`: the next midnight
    (dates, staleness, overdue actions, expiring explanations), each KPI's next due time, and,
    while a KPI is late, the next minute (its "late 35 min" counts up). Schedule one timer for
    it, then ask again."""
    now = local(now)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0))
    times = [midnight]
    for k in kpis:
        if k.archived or k.due is None:
            continue
        last = last_complete_period(k.frequency, now.date())
        for period in (last, next_period_start(k.frequency, last)):
            when = due_at(k, period)
            if when > now:
                times.append(when)
                break
        if freshness(k, latest_days.get(k.id), now).state is State.LATE:
            times.append(now.replace(second=0, microsecond=0) + timedelta(minutes=1))
    for a in actions:
        if a.open and a.due is not None:
            when = datetime.combine(a.due + timedelta(days=1), time(0))
            if when > now:
                times.append(when)
    for x in explanations:
        when = datetime.combine(x.until + timedelta(days=1), time(0))
        if when > now:
            times.append(when)
    return min(times)


def board_next_change(snap: Snapshot, now: datetime, board_id: int | None = None) -> datetime:
    """`next_change` for a snapshot's KPIs and actions (one board's, or all when None)."""
    kpis = snap.kpis_of(board_id)
    ids = {k.id for k in kpis}
    latest = {i: max(e.day for e in es) for i, es in snap.entries.items() if es and i in ids}
    actions = snap.actions_of(board_id)
    explained = [x for i, xs in snap.explanations.items() if i in ids for x in xs]
    return next_change(kpis, latest, actions, now, explained)
