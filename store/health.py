"""A board's health, from the data already there: are the team and its leaders using the board?

Pure functions over a `Snapshot` and `today` (no clock, no file), so the command line, the app's
roll-up tiles and the tests agree. The measures:

- huddles held in the last two weeks (today included) and their median attendance;
- the share of red episodes (a KPI turning red, in the last 30 days) that got an action within
  a day of the red value being recorded (an action already open on that KPI counts too);
- the median age, in days, of the board's open actions;
- countermeasure-gate skips in the huddles of the last two weeks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .model import Action, Stage, Status
from .rules import KpiView, entry_status
from .snapshot import Snapshot

WINDOW_DAYS = 14  # "the last two weeks"
RED_WINDOW_DAYS = 30  # red episodes looked at for the action share
ACTION_WITHIN = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Health:
    huddles_14d: int
    median_attendance: float | None  # None: no huddle in the window
    red_action_share: float | None  # 0..1; None: no red episode in the window
    red_episodes: int
    median_open_age: float | None  # days; None: no open action
    gate_skips: int


def median(values: Sequence[float]) -> float:
    """The middle value (the mean of the two middle ones); `statistics` costs start-up time."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def stamp_time(stamp: str) -> datetime | None:
    """A stored UTC ISO timestamp as an aware datetime (None when there is none or it is bad)."""
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def stamp_day(stamp: str) -> date | None:
    """The (UTC) day of a stored timestamp."""
    when = stamp_time(stamp)
    return when.date() if when is not None else None


def _done_at(a: Action) -> datetime | None:
    for h in reversed(a.history):
        if h.field == "stage" and h.new == Stage.DONE.value:
            return stamp_time(h.at)
    return None


def _red_episodes(
    snap: Snapshot, board_id: int, today: date, views: Sequence[KpiView] | None
) -> tuple[int, int]:
    """(episodes, covered): a KPI's value turning red in the window, and how many of those had
    an action on that KPI open within a day of the red value being recorded."""
    since = today - timedelta(days=RED_WINDOW_DAYS)
    acts: dict[int, list[Action]] = {}
    for a in snap.actions.values():
        if a.kpi is not None:
            acts.setdefault(a.kpi, []).append(a)
    episodes = covered = 0
    for v in views if views is not None else snap.views(board_id, today):
        prev: Status | None = None
        # One entry per period: the last RED_WINDOW_DAYS + 2 cover the window (and the one
        # before it, which says whether the first in the window turned red), at any frequency.
        for e in v.history[-(RED_WINDOW_DAYS + 2) :]:
            status = entry_status(v.kpi, e)
            if status is Status.RED and prev is not Status.RED and e.day >= since:
                episodes += 1
                seen = stamp_time(e.at)
                if seen is not None and any(
                    (t := stamp_time(a.at)) is not None
                    and t <= seen + ACTION_WITHIN
                    and ((d := _done_at(a)) is None or d >= seen)
                    for a in acts.get(v.kpi.id, ())
                ):
                    covered += 1
            prev = status
    return episodes, covered


def board_health(
    snap: Snapshot, board_id: int, today: date, views: Sequence[KpiView] | None = None
) -> Health:
    """The board's health today (see the module docstring); `views`: the board's KPIs,
    when already evaluated for `today`."""
    start = (today - timedelta(days=WINDOW_DAYS - 1)).isoformat()
    end = today.isoformat()
    recent = [
        h
        for h in snap.huddles
        if h.get("board_id") == board_id and start <= str(h.get("date", "")) <= end
    ]
    attendance = [len(h.get("attendees") or []) for h in recent]
    episodes, covered = _red_episodes(snap, board_id, today, views)
    ages = [
        (today - day).days
        for a in snap.actions_of(board_id)
        if (day := stamp_day(a.at)) is not None
    ]
    return Health(
        huddles_14d=len(recent),
        median_attendance=float(median(attendance)) if attendance else None,
        red_action_share=covered / episodes if episodes else None,
        red_episodes=episodes,
        median_open_age=float(median(ages)) if ages else None,
        gate_skips=sum(len(h.get("skips") or []) for h in recent),
    )
