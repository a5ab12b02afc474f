"""When the board's views change with no write: the moment they are built for, and the next
moment after it that changes them (midnight, a KPI's due time, an action's due date).

The app keeps one timer for the next change and recomputes the views from the snapshot it has
(no re-read). Nothing here sleeps: `delay` says how long the app's one timer waits, never more
than `CHECK_S`, so a clock that jumps (a suspend, an NTP step, a hand-set date) is caught within
that time, and each wait is measured afresh from the wall clock, so nothing drifts over weeks.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from store import fresh
from store.snapshot import Snapshot

CHECK_S = 60.0  # the longest the app waits before it looks at the wall clock again


def aware(when: datetime) -> datetime:
    """`when` with the machine's time zone when it has none."""
    return when if when.tzinfo is not None else when.astimezone()


def next_midnight(now: datetime) -> datetime:
    """The next local midnight after `now` (the local zone's, so a DST change is honoured)."""
    now = aware(now)
    return datetime.combine(now.date() + timedelta(days=1), time()).astimezone(now.tzinfo)


def end_of(day: date) -> datetime:
    """The instant an as-of board is evaluated for: the end of `day`, local time (the same
    instant as `teamboard status --as-of`)."""
    return aware(fresh.end_of(day))


def next_change(snap: Snapshot | None, now: datetime) -> datetime:
    """The next moment after `now` at which a view of `snap` changes without a write: midnight,
    a KPI's due time, an action's due date, an explanation's end (`store.fresh`), on any board
    (the huddle may be on another than the board on screen)."""
    try:
        if snap is None:
            return next_midnight(now)
        return aware(fresh.board_next_change(snap, now))
    except (OverflowError, ValueError):  # a due date at the calendar's end (9999-12-31)
        try:
            return next_midnight(now)
        except (OverflowError, ValueError):
            return aware(now) + timedelta(seconds=CHECK_S)


def stale(moment: datetime | None, until: datetime | None, now: datetime) -> bool:
    """Are views built at `moment`, good until `until`, out of date at `now`? Also when the
    clock went back before `moment` (a jump back may un-pass a midnight)."""
    if moment is None or until is None:
        return True
    return not moment <= now < until


def delay(until: datetime | None, now: datetime, check_s: float = CHECK_S) -> float:
    """Seconds the app's timer waits: to `until`, but never more than `check_s`."""
    if until is None:
        return check_s
    return min(check_s, max(0.001, (until - now).total_seconds()))

