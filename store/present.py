"""The one formatter: numbers, units, variances, dates, status and trend words, so a value reads
the same on the board, in the huddle, in the minutes and on the command line.

Pure strings, no Textual, cheap to import (the command line loads it at start-up). A status
always has a glyph and a word as well as a colour, so the board reads for the colour-blind and on
a monochrome terminal. The style (README, "How values read"):

- a value shows as it was recorded: up to 15 significant digits (every number typed with that
  many comes back exactly), no trailing zeros, never rounded to fewer; `fit_num` shortens one
  for a space too narrow, marked `≈`;
- no thousands separators (people type values without them, and the input refuses commas); a
  real minus sign `−` (the input takes it); e-notation (`1e-7`, `1e15`) only below 0.0001 and
  from 10^15 on;
- `%` right after the number, other units after a space (`85%`, `12 min`, `5 °C`);
- a variance as `−6.5 (−7.6%)`: the difference to as many decimals as its two values have, the
  percentage to one decimal;
- a date as `Mon 17 Nov` in the current year, `17 Nov 2024` in any other (or when the year is not
  known); a stored time as local `2024-05-10 09:12`.

Store text (a unit, a counter-metric's name) goes into these strings as it is: each front end
makes the whole line safe for its screen (`validate.printable`, the widgets' `literal`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime

from .model import Action, Board, Kpi, Review, Stage, Status
from .rules import Flag, KpiView, Trend

STATUS_GLYPH = {
    Status.GREEN: "✔",
    Status.AMBER: "▲",
    Status.RED: "✖",
    Status.STALE: "?",
    Status.NO_DATA: "–",
}
STATUS_WORD = {
    Status.GREEN: "green",
    Status.AMBER: "amber",
    Status.RED: "red",
    Status.STALE: "stale",
    Status.NO_DATA: "no data",
}
STAGE_GLYPH = {
    Stage.PLAN: "◔",
    Stage.DO: "◑",
    Stage.CHECK: "◕",
    Stage.ACT: "●",
    Stage.DONE: "✓",
}
TREND_ARROW = {
    Trend.IMPROVING: "↗",
    Trend.WORSENING: "↘",
    Trend.FLAT: "→",
    Trend.UNKNOWN: "·",
}
MINUS = "−"  # U+2212: a number's sign that no line-break or font takes for a hyphen
DIGITS = 15  # significant digits: every decimal typed with up to 15 survives a float exactly


def status_text(status: Status) -> str:
    """`✔ green`: the glyph and the word, never the colour alone."""
    return f"{STATUS_GLYPH[status]} {STATUS_WORD[status]}"


def trend_text(trend: Trend) -> str:
    """`↗ improving`; empty while there are too few periods to tell a trend."""
    return "" if trend is Trend.UNKNOWN else f"{TREND_ARROW[trend]} {trend.value}"


# --- numbers ------------------------------------------------------------------------------------


def _digits(x: float, digits: int) -> str:
    """`x` to `digits` significant digits, without trailing zeros, e-notation only at the ends."""
    text = f"{abs(x):.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return (MINUS if x < 0 else "") + text


def num(x: float) -> str:
    """A value as it was recorded: `77.25`, `1250`, `−3`, `1e-7`. A non-finite value (only a
    hand-edited store has one) shows as `∞` or `n/a`, never fails."""
    if not math.isfinite(x):
        return "n/a" if math.isnan(x) else ("∞" if x > 0 else MINUS + "∞")
    if x == 0:
        return "0"  # and never `−0`
    return _digits(x, DIGITS)


def fit_num(x: float, width: int) -> str:
    """`num(x)` in at most `width` characters where it can be: rounded to the significant
    digits that fit and marked `≈` (`≈1234568` for 1234567.891 in 8), so a shortened value
    never passes for the recorded one."""
    text = num(x)
    if len(text) <= width or not math.isfinite(x):
        return text
    for digits in range(DIGITS - 1, 0, -1):
        short = "≈" + _digits(x, digits)
        if len(short) <= width:
            return short
    return "≈" + _digits(x, 1)


def with_unit(x: float, unit: str) -> str:
    """`85%`, `12 min`, `5 °C`: `%` right after the number, other units after a space."""
    if not unit:
        return num(x)
    return f"{num(x)}{'' if unit == '%' else ' '}{unit}"


def signed(x: float) -> str:
    """`+1.5`, `−6.5`, `0`: a difference always shows its sign."""
    return ("+" if x > 0 else "") + num(x)


def _decimals(x: float) -> int | None:
    """How many decimals `num` shows for `x` (None in e-notation)."""
    text = num(x)
    if "e" in text:
        return None
    return len(text.partition(".")[2])


def difference(value: float, bench: float) -> float:
    """`value - bench` to the decimals of the two values, so float noise never shows
    (100.01 − 100 is 0.01, not 0.010000000000005116)."""
    diff = value - bench
    places = [_decimals(value), _decimals(bench)]
    if None in places or not math.isfinite(diff):
        return diff
    return round(diff, max(p for p in places if p is not None)) + 0.0


def variance_text(view: KpiView) -> str:
    """`−6.5 (−7.6%)`: the actual against its target or plan; empty when there is no entry."""
    latest = view.latest
    var = view.variance
    if latest is None or var is None:
        return ""
    diff = difference(latest.value, view.benchmark)
    pct = var[1]
    return signed(diff) + (f" ({signed(round(pct, 1))}%)" if pct is not None else "")


def benchmark_label(view: KpiView) -> str:
    """`plan 40` when the latest entry has an estimate, else `target 85%`."""
    latest = view.latest
    word = "plan" if latest is not None and latest.plan is not None else "target"
    text = f"{word} {with_unit(view.benchmark, view.kpi.unit)}"
    nxt = view.kpi.next_target(view.today) if view.today is not None else None
    if word == "target" and nxt is not None and nxt.since is not None:
        text += f" · {with_unit(nxt.value, view.kpi.unit)} from {day_month(nxt.since, view.today)}"
    return text


def flag_text(view: KpiView, flag: Flag, today: date | None = None) -> str:
    """`red, no action`, `counter-metric red (Scrap)`, `stale since Mon 6 May`."""
    if flag is Flag.RED_NO_ACTION:
        return "red, no action"
    if flag is Flag.COUNTER_RED:
        return f"counter-metric red ({view.counter_name})"
    if flag is Flag.LATE:
        return late_text(view)
    if flag is Flag.EXPLAINED and view.explanation is not None:
        until = until_text(view.explanation.until, today or view.today)
        return f"explained: {view.explanation.text} (until {until})"
    if view.stale_since is not None:
        return f"stale since {short_date(view.stale_since, today)}"
    return "stale"


def flag_texts(view: KpiView, today: date | None = None) -> list[str]:
    """Every flag of the KPI, as words (see `flag_text`)."""
    return [flag_text(view, flag, today) for flag in view.flags]


def late_text(view: KpiView) -> str:
    """`late 35 min · ben`: how long the period's value is overdue, and whose it is."""
    minutes = 0
    if view.late_due is not None and view.now is not None:
        minutes = max(0, int((view.now - view.late_due).total_seconds() // 60))
    text = f"late {duration(minutes)}"
    return f"{text} · {view.kpi.owner}" if view.kpi.owner else text


def duration(minutes: int) -> str:
    """`35 min`, `2 h 5 min`, `3 h`, `2 days`."""
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        h, m = divmod(minutes, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    return f"{minutes // (24 * 60)} days"


def target_text(kpi: Kpi, today: date) -> str:
    """`88 · 92 from 1 Jan`: the target in force `today`, and the next one when one is set."""
    text = with_unit(kpi.target_on(today), kpi.unit)
    nxt = kpi.next_target(today)
    if nxt is not None and nxt.since is not None:
        text += f" · {with_unit(nxt.value, kpi.unit)} from {day_month(nxt.since, today)}"
    return text


# --- dates and times ----------------------------------------------------------------------------


def day_month(d: date, today: date | None = None) -> str:
    """`1 Jan` in `today`'s year, `1 Jan 2027` in another (or when `today` is not given)."""
    if today is None or d.year != today.year:
        return d.strftime("%-d %b %Y")
    return d.strftime("%-d %b")


def until_text(d: date, today: date | None = None) -> str:
    """`Fri` within the coming week, else as `short_date`: how long an explanation holds."""
    if today is not None and 0 <= (d - today).days < 7:
        return "today" if d == today else d.strftime("%a")
    return short_date(d, today)


def as_of_text(day: date) -> str:
    """`as of Tue 31 Dec 2013`: the header of a board shown as it stood at the end of a day
    (always with its year, so nobody takes it for live)."""
    return "as of " + day.strftime("%a %-d %b %Y")



def short_date(d: date, today: date | None = None) -> str:
    """`Mon 17 Nov` in `today`'s year; `17 Nov 2024` in another, or when `today` is not given:
    a date without its year must never pass for this year's."""
    if today is None or d.year != today.year:
        return d.strftime("%-d %b %Y")
    return d.strftime("%a %-d %b")


def local_time(stamp: str) -> datetime | None:
    """A stored UTC timestamp in the machine's local time (None when there is none).

    Raises OverflowError for a time at the calendar's edge that has no local time.
    """
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone()


def local_stamp(stamp: str) -> str:
    """A stored UTC timestamp as local `2024-05-10 09:12`; as stored when it has no local
    time (unparsable, or at the calendar's edge); empty for none."""
    try:
        when = local_time(stamp)
    except OverflowError:
        return stamp
    if when is None:
        return stamp
    return when.strftime("%Y-%m-%d %H:%M")


def ago(stamp: str, now: datetime) -> str:
    """`just now`, `5 min ago`, `3 h ago`, `2 days ago`."""
    when = local_time(stamp)
    if when is None:
        return "never"
    if now.tzinfo is None:
        now = now.astimezone()
    secs = (now - when).total_seconds()
    if secs < 60:
        return "just now"
    if secs < 3600:
        return f"{int(secs // 60)} min ago"
    if secs < 86400:
        return f"{int(secs // 3600)} h ago"
    return f"{int(secs // 86400)} days ago"


# --- the SQCDP calendar -------------------------------------------------------------------------

NO_MARK = "·"  # a calendar day with nothing recorded: a glyph too, so an empty day reads as one


def month_title(first: date) -> str:
    """`November 2026`: a month always with its year."""
    return first.strftime("%B %Y")


def percent(x: float) -> str:
    """`62%`: a share, rounded to a whole percent (a Pareto's cumulative share)."""
    return f"{round(x):d}%"


def day_cell(n: int, status: Status | None, after_today: bool = False) -> str:
    """` 7✖`: a calendar day's number and its status glyph (`·` nothing recorded, blank after
    today), three characters wide."""
    mark = " " if after_today else (STATUS_GLYPH[status] if status else NO_MARK)
    return f"{n:>2}{mark}"
# --- the KPI tree across tiers (issue 10) -------------------------------------------------------


def days_since(stamp: str, today: date) -> int | None:
    """Whole days from a stored UTC timestamp's day to `today` (None when there is none)."""
    try:
        day = date.fromisoformat(stamp[:10]) if stamp else None
    except ValueError:
        return None
    return None if day is None else max((today - day).days, 0)


def days_text(n: int) -> str:
    """`today`, `1 day`, `3 days`."""
    return "today" if n == 0 else f"{n} day{'s' if n != 1 else ''}"


def review_text(review: Review | None, today: date) -> str:
    """`last review 3 d ago · ana`, `last review today · ana`, or `never reviewed`."""
    if review is None:
        return "never reviewed"
    n = days_since(review.at, today)
    when = "?" if n is None else ("today" if n == 0 else f"{n} d ago")
    return f"last review {when} · {review.who or 'someone'}"


def waiting_text(action: Action, boards: Mapping[int, Board], today: date) -> str:
    """The board above's view of an escalation: `from Line 2 Assembly, 2 days`."""
    e = action.escalation
    if e is None:
        return ""
    origin = boards.get(e.origin)
    n = days_since(e.at, today)
    return f"from {origin.name if origin else '?'}, {days_text(n) if n is not None else '?'}"


def escalation_state(action: Action, boards: Mapping[int, Board], today: date) -> str:
    """The team's view: `escalated to Operations, waiting 2 days`, `answered by dara: …`,
    `taken over by dara (Operations)`; empty when it was never escalated."""
    e = action.escalation
    if e is None:
        return ""
    to = boards.get(e.to)
    where = to.name if to else "?"
    if e.taken_at:
        return f"taken over by {e.taken_by or 'someone'} ({where})"
    if e.answered_at:
        return f"answered by {e.answered_by or 'someone'} ({where}): {e.answer}"
    n = days_since(e.at, today)
    return f"escalated to {where}, waiting {days_text(n) if n is not None else '?'}"


def limit_text(n: int, limit: int) -> str:
    """`3/7`, or `4/3 over the limit` when forced past it: a view never hides it."""
    return f"{n}/{limit}" + (" over the limit" if n > limit else "")


def share_text(share: float | None) -> str:
    """`75%`, or `–` when there is nothing to count."""
    return "–" if share is None else f"{round(share * 100)}%"
