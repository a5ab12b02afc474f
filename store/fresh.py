"""Freshness contracts and the board's clock: when a period's value is due, whether a KPI is
current, late or stale at an instant, and when the board's views next change with no write.

Pure: `now` is always passed in, a naive local datetime (an aware one is converted). A KPI with
no `due` time keeps the old rule: its last period is required from midnight on, and it is
stale at once when the value is missing (no late phase).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from operator import attrgetter
from typing import TYPE_CHECKING

from .model import Action, Explanation, Kpi
from .rules import (
    END_OF_DAY,
    Freshness,
    State,
    due_at,
    end_of,
    freshness,
    last_complete_period,
    local,
    next_period_start,
    required_period,
)

if TYPE_CHECKING:
    from .snapshot import Snapshot

# The contract itself lives in `rules` (the views evaluate it); this module is its clock.
__all__ = [
    "END_OF_DAY",
    "Freshness",
    "State",
    "board_next_change",
    "due_at",
    "end_of",
    "freshness",
    "local",
    "next_change",
    "required_period",
]


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
    ends = [a.due for a in actions if a.open and a.due is not None]
    ends += [x.until for x in explanations]
    for day in ends:
        if day < date.max:  # the calendar's last day has no midnight after it
            when = datetime.combine(day + timedelta(days=1), time(0))
            if when > now:
                times.append(when)
    return min(times)


def board_next_change(snap: Snapshot, now: datetime, board_id: int | None = None) -> datetime:
    """`next_change` for a snapshot's KPIs and actions (one board's, or all when None)."""
    kpis = snap.kpis_of(board_id)
    ids = {k.id for k in kpis}
    day = attrgetter("day")
    latest = {i: max(map(day, es)) for i, es in snap.entries.items() if es and i in ids}
    actions = snap.actions_of(board_id)
    explained = [x for i, xs in snap.explanations.items() if i in ids for x in xs]
    return next_change(kpis, latest, actions, now, explained)
