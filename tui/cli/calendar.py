"""`teamboard calendar`: the SQCDP calendar of a board's month as text, or `--json`.

The same data as the app's calendar screen (`store.calendar`): each category's days green,
amber or red (a glyph on every day, so it reads without colour), the red days per category,
and a Pareto of the reasons written in the notes of red entries.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from store import validate
from store.model import Status
from store.present import STATUS_GLYPH, STATUS_WORD, day_cell, month_title, percent, short_date

from .base import Ctx, Sub, command, json_flag, quote
from .output import Painter, one_line

if TYPE_CHECKING:  # the module itself is imported by the handlers: `teamboard record` starts fast
    from store import calendar

HOW_TO_SET = "teamboard {store}kpi edit NAME --category Q"
CATEGORY_HELP = "S Q C D P (Safety, Quality, Cost, Delivery, People) or a word of your own"


def legend(paint: Painter) -> str:
    marks = [paint(f"{STATUS_GLYPH[s]} {STATUS_WORD[s]}", s) for s in _SHOWN]
    return "  ".join([*marks, "· nothing recorded"])


_SHOWN = (Status.GREEN, Status.AMBER, Status.RED)


def block(cm: calendar.CategoryMonth, today: date, paint: Painter) -> list[str]:
    """One category's month: a title line, the weekdays, then a row per week."""
    from store import calendar

    counts = ", ".join(f"{cm.count(s)} {STATUS_WORD[s]}" for s in reversed(_SHOWN))
    if not any(d.status for d in cm.days):
        counts = "nothing recorded this month"
    kpis = "; ".join(one_line(k) for k in cm.kpis)
    lines = [f"{paint(cm.letter, 'bold')}  {one_line(cm.category)}: {counts} ({kpis})"]
    lines.append("   " + " ".join(f"{w:>3}" for w in calendar.WEEKDAYS))
    for row in calendar.weeks(cm.days):
        cells = []
        for d in row:
            if d is None:
                cells.append("   ")
                continue
            text = day_cell(d.day.day, d.status, d.day > today)
            cells.append(paint(text, d.status) if d.status else text)
        lines.append(("   " + " ".join(cells)).rstrip())
    return lines


def pareto(cal: calendar.MonthCalendar) -> list[str]:
    if not cal.red_entries:
        return ["No red days this month."]
    out = [f"Reasons written on red days ({cal.red_entries} red entries, Pareto):"]
    if cal.reasons:
        width = max(len(str(r.count)) for r in cal.reasons)
        out.append(f"  {'n':>{width}}  cum.  reason")
        for r in cal.reasons:
            out.append(
                f"  {r.count:>{width}}  {percent(r.cumulative):>4}  {one_line(r.text)} "
                f"({' '.join(r.categories)})"
            )
    if cal.unexplained:
        s = "y" if cal.unexplained == 1 else "ies"
        out.append(
            f"  {cal.unexplained} red entr{s} without a note: say why with "
            "`teamboard note KPI TEXT`"
        )
    return out


def cmd_calendar(ctx: Ctx) -> int:
    from store import calendar

    a = ctx.args
    snap = ctx.snapshot()
    board = snap.board_named(a.board) if a.board else snap.default_board()
    first = validate.month(a.month) if a.month else ctx.today.replace(day=1)
    cal = calendar.build(board.name, snap.kpis_of(board.id), snap.entries, first, ctx.today)
    if a.json:
        ctx.json(calendar.as_json(cal))
        return 0
    paint = ctx.paint
    ctx.print(
        f"{paint(one_line(board.name), 'bold')} · SQCDP calendar · {month_title(cal.month)} "
        f"(today {short_date(ctx.today, ctx.today)})"
    )
    store = ctx.store_flag()
    if not cal.categories:
        if cal.uncategorised:
            ctx.print(
                f"No KPI of {one_line(board.name)} has a category yet: set one with "
                f"`{HOW_TO_SET.format(store=store)}` ({CATEGORY_HELP})."
            )
        else:
            ctx.print(
                f"{one_line(board.name)} has no KPIs yet: add one with `teamboard {store}kpi add "
                f"NAME --board {quote(board.name)} --target T --category Q`."
            )
        return 0
    ctx.print(legend(paint))
    for cm in cal.categories:
        ctx.print()
        for line in block(cm, ctx.today, paint):
            ctx.print(line)
    ctx.print()
    red = " · ".join(f"{cm.letter} {cm.red_days}" for cm in cal.categories)
    ctx.print(f"Red days: {red} (total {cal.red_days})")
    for line in pareto(cal):
        ctx.print(line)
    if cal.uncategorised:
        names = "; ".join(one_line(n) for n in cal.uncategorised)
        ctx.print(
            f"Not on the calendar (no category): {names}; set one with "
            f"`{HOW_TO_SET.format(store=store)}`"
        )
    return 0


def register(sub: Sub) -> None:
    c = command(
        sub,
        "calendar",
        "the SQCDP calendar: each category's days green, amber or red, red days and their "
        "reasons",
        cmd_calendar,
    )
    c.add_argument(
        "board", nargs="?", metavar="BOARD", help="the board (default: the first top-level one)"
    )
    c.add_argument("--month", metavar="YYYY-MM", help="the month (default: this month)")
    json_flag(c)
