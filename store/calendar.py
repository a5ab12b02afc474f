"""The SQCDP calendar: for one board and month, each day's worst status per category, the red
days per category and a Pareto of the reasons written in the notes of red entries. Pure.

How a day gets its status: each KPI's one entry per period (`rules.series`, the newest record
wins) is coloured by `rules.entry_status`, as on the board, and covers every day of its period.
A daily KPI colours its day; a weekly one the seven days of its week (Monday to Sunday) and a
monthly one every day of its month, as long as they are in the month shown and not after today.
A category's day is the worst of its KPIs that day (red, then amber, then green); a day none of
them covers is empty. A red week therefore counts as seven red days, but its note counts once
in the Pareto: a reason is counted once per red entry that gives it (each line of a note is one
reason, compared without case, repeated spaces or a trailing full stop).
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .model import Entry, Frequency, Kpi, Status
from .rules import entry_status, next_period_start, period_start, series

SQCDP = {"S": "Safety", "Q": "Quality", "C": "Cost", "D": "Delivery", "P": "People"}
_WORDS = {w.casefold(): w for w in SQCDP.values()} | {k.casefold(): w for k, w in SQCDP.items()}
_RANK = {Status.GREEN: 1, Status.AMBER: 2, Status.RED: 3}
_TRAILING = ".;,:!"


def canonical(category: str) -> str:
    """A category as the calendar groups it: S or safety is Safety; a team's own as it is."""
    c = " ".join(category.split())
    return _WORDS.get(c.casefold(), c)


def letter(category: str) -> str:
    """The letter a category is drawn as: S for Safety, E for Environment."""
    c = canonical(category)
    return c[:1].upper()


def _order(category: str) -> tuple[int, str]:
    words = list(SQCDP.values())
    return (words.index(category), "") if category in words else (len(words), category.casefold())


def month_days(first: date) -> list[date]:
    count = monthrange(first.year, first.month)[1]
    return [first.replace(day=n) for n in range(1, count + 1)]


def _shift(day: date, days: int) -> date:
    """`day` moved by `days`, kept within the calendar's years 1 to 9999."""
    n = min(max(day.toordinal() + days, 1), date.max.toordinal())
    return date.fromordinal(n)


def _period_end(frequency: Frequency, start: date) -> date:
    try:
        return next_period_start(frequency, start) - timedelta(days=1)
    except OverflowError:  # the last period of the year 9999
        return date.max


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    status: Status | None  # green, amber or red; None: nothing recorded (or after today)
    red: tuple[str, ...] = ()  # the KPIs that were red that day


@dataclass(frozen=True, slots=True)
class CategoryMonth:
    category: str  # Safety, ..., or a team's own word
    kpis: tuple[str, ...]  # the names of the board's KPIs in it
    days: tuple[Day, ...]  # every day of the month, the 1st first

    @property
    def letter(self) -> str:
        return letter(self.category)

    def count(self, status: Status) -> int:
        return sum(1 for d in self.days if d.status is status)

    @property
    def red_days(self) -> int:
        return self.count(Status.RED)


WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


def weeks(days: Sequence[Day]) -> list[list[Day | None]]:
    """A month's days as calendar rows, Monday first; None pads the first and last week."""
    if not days:
        return []
    row: list[Day | None] = [None] * days[0].day.weekday()
    out = []
    for d in days:
        row.append(d)
        if len(row) == 7:
            out.append(row)
            row = []
    if row:
        out.append(row + [None] * (7 - len(row)))
    return out


@dataclass(frozen=True, slots=True)
class Reason:
    text: str  # as first written (spaces folded)
    count: int  # red entries whose note gives it
    cumulative: float  # percent of all the reasons given, this one and those above it
    categories: tuple[str, ...]  # the letters of the categories it was given in


@dataclass(frozen=True, slots=True)
class MonthCalendar:
    board: str
    month: date  # its first day
    today: date
    categories: tuple[CategoryMonth, ...]  # S Q C D P first, then a team's own by name
    uncategorised: tuple[str, ...]  # the board's KPIs without a category
    reasons: tuple[Reason, ...]  # the Pareto: most often given first
    red_entries: int  # red entries in the month (a red week is one)
    unexplained: int  # of those, how many have no note

    @property
    def red_days(self) -> int:
        return sum(c.red_days for c in self.categories)


def _reason_lines(note: str) -> list[tuple[str, str]]:
    """(key, text) for each line of a note: the key without case, spaces or a final stop."""
    out = []
    for line in note.splitlines():
        text = " ".join(line.split()).rstrip(_TRAILING).strip()
        if text:
            out.append((text.casefold(), text))
    return out


def build(
    board: str,
    kpis: Sequence[Kpi],
    entries_of: Mapping[int, Sequence[Entry]],
    first: date,
    today: date,
) -> MonthCalendar:
    """The calendar of `kpis` (a board's live ones) for the month starting at `first`."""
    first = first.replace(day=1)
    days = month_days(first)
    last = days[-1]
    groups: dict[str, list[Kpi]] = {}
    uncategorised = []
    for k in kpis:
        cat = canonical(k.category)
        if cat:
            groups.setdefault(cat, []).append(k)
        else:
            uncategorised.append(k.name)
    # Only entries of periods that overlap the month matter: a week reaches 6 days beyond it.
    lo_day, hi_day = _shift(first, -7), _shift(last, 7)
    reasons: dict[str, list[Any]] = {}  # key -> [text, count, set of letters]
    red_entries = unexplained = 0
    months = []
    for cat in sorted(groups, key=_order):
        worst: list[Status | None] = [None] * len(days)
        red: list[list[str]] = [[] for _ in days]
        for k in groups[cat]:
            near = (e for e in entries_of.get(k.id, ()) if lo_day <= e.day <= hi_day)
            for e in series(k.frequency, near):
                start = period_start(k.frequency, e.day)
                end = _period_end(k.frequency, start)
                lo, hi = max(start, first), min(end, last, today)
                if lo > hi:
                    continue
                status = entry_status(k, e)
                for n in range((lo - first).days, (hi - first).days + 1):
                    cur = worst[n]
                    if cur is None or _RANK[status] > _RANK[cur]:
                        worst[n] = status
                    if status is Status.RED:
                        red[n].append(k.name)
                if status is Status.RED:
                    red_entries += 1
                    lines = _reason_lines(e.note)
                    unexplained += not lines
                    for key, text in lines:
                        item = reasons.setdefault(key, [text, 0, set()])
                        item[1] += 1
                        item[2].add(letter(cat))
        months.append(
            CategoryMonth(
                cat,
                tuple(k.name for k in groups[cat]),
                tuple(Day(d, worst[n], tuple(red[n])) for n, d in enumerate(days)),
            )
        )
    return MonthCalendar(
        board=board,
        month=first,
        today=today,
        categories=tuple(months),
        uncategorised=tuple(uncategorised),
        reasons=_pareto(reasons),
        red_entries=red_entries,
        unexplained=unexplained,
    )


def _pareto(reasons: Mapping[str, list[Any]]) -> tuple[Reason, ...]:
    total = sum(item[1] for item in reasons.values())
    ranked = sorted(reasons.values(), key=lambda item: (-item[1], item[0].casefold()))
    out = []
    running = 0
    for text, count, letters in ranked:
        running += count
        order = sorted(letters, key=lambda x: _order(canonical(x)))
        out.append(Reason(text, count, running / total * 100.0, tuple(order)))
    return tuple(out)


def as_json(cal: MonthCalendar) -> dict[str, Any]:
    """The calendar as plain data, for `teamboard calendar --json`."""
    return {
        "board": cal.board,
        "month": f"{cal.month.year:04d}-{cal.month.month:02d}",
        "today": cal.today.isoformat(),
        "categories": [
            {
                "category": c.category,
                "letter": c.letter,
                "kpis": list(c.kpis),
                "red_days": c.red_days,
                "amber_days": c.count(Status.AMBER),
                "green_days": c.count(Status.GREEN),
                "days": [
                    {
                        "date": d.day.isoformat(),
                        "status": d.status.value if d.status else None,
                        "red": list(d.red),
                    }
                    for d in c.days
                ],
            }
            for c in cal.categories
        ],
        "uncategorised": list(cal.uncategorised),
        "red_entries": cal.red_entries,
        "unexplained": cal.unexplained,
        "reasons": [
            {
                "reason": r.text,
                "count": r.count,
                "cumulative_pct": round(r.cumulative, 1),
                "categories": list(r.categories),
            }
            for r in cal.reasons
        ],
    }
