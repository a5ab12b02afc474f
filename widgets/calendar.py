"""The SQCDP calendar's pieces: one category's month as a grid of day cells, and the side panel
with the red days per category and the Pareto of their reasons. They draw what they are given.

Every day shows its number and a glyph (✔ ▲ ✖, `·` nothing recorded), and its colour: the
colour is never the only signal. A wide block (`-wide`, on big screens) draws each day two rows
tall and five columns wide, to read across a room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from store.calendar import WEEKDAYS, CategoryMonth, MonthCalendar, weeks
from store.model import Status
from store.present import NO_MARK, STATUS_GLYPH, day_cell, percent, status_text
from store.validate import printable

NARROW_CELL = 3  # "12✖"
WIDE_CELL = 7  # three rows (" 12", "▲ amber", colour) and a gap before the next week
NARROW_WIDTH = 7 * (NARROW_CELL + 1) - 1 + 1  # seven cells, a space between, padding left
WIDE_WIDTH = 7 * (WIDE_CELL + 1) - 1 + 1


@dataclass(frozen=True)
class MonthBlock:
    month: CategoryMonth
    today: date


PARETO_BAR = 12  # the longest bar of the Pareto, when the panel is wide enough for bars
PARETO_BAR_FROM = 60


def clip(text: str, width: int) -> str:
    """`text` in at most `width` characters, an ellipsis marking a cut (a block keeps its rows)."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _part(status: Status | None, future: bool) -> str:
    if future:
        return "calendar--future"
    return f"calendar--{status.value}" if status else "calendar--empty"


class CategoryCalendar(Widget):
    """One category's month: its letter and word, the red days, then the weeks, Monday first."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "calendar--green",
        "calendar--amber",
        "calendar--red",
        "calendar--empty",
        "calendar--future",
        "calendar--title",
        "calendar--muted",
        "calendar--alarm",
    }
    DEFAULT_CSS = f"""
    CategoryCalendar {{ width: {NARROW_WIDTH}; height: auto; padding: 0 0 0 1; }}
    CategoryCalendar.-wide {{ width: {WIDE_WIDTH}; }}
    CategoryCalendar > .calendar--green {{ background: $success; color: $background; }}
    CategoryCalendar > .calendar--amber {{ background: $warning; color: $background; }}
    CategoryCalendar > .calendar--red {{ background: $error; color: $background;
        text-style: bold; }}
    CategoryCalendar > .calendar--empty {{ color: $text-muted; }}
    CategoryCalendar > .calendar--future {{ color: $text-disabled; }}
    CategoryCalendar > .calendar--title {{ text-style: bold; }}
    CategoryCalendar > .calendar--muted {{ color: $text-muted; }}
    CategoryCalendar > .calendar--alarm {{ color: $error; text-style: bold; }}
    """

    data: reactive[MonthBlock | None] = reactive(None, layout=True)

    def render(self) -> Text:
        if self.data is None:
            return Text("")
        cm, today = self.data.month, self.data.today
        wide = self.has_class("-wide")
        style = self.get_component_rich_style
        out = Text(no_wrap=True, overflow="ellipsis")
        red = cm.red_days
        size = WIDE_CELL if wide else NARROW_CELL
        width = 7 * (size + 1) - 1
        recorded = any(d.status for d in cm.days)
        summary = f"{red} red day{'s' if red != 1 else ''}" if recorded else "no data"
        title = clip(f"{cm.letter} {printable(cm.category)}", width - 3 - len(summary))
        out.append(title, style("calendar--title"))
        out.append(f" · {summary}\n", style("calendar--alarm") if red else style("calendar--muted"))
        out.append(clip(printable("; ".join(cm.kpis)), width) + "\n", style("calendar--muted"))
        out.append(" ".join(w.center(size) for w in WEEKDAYS) + "\n", style("calendar--muted"))
        rows = weeks(cm.days)
        for i, row in enumerate(rows):
            last = i == len(rows) - 1
            lines = ((0, 1, 2) if last else (0, 1, 2, 3)) if wide else (0,)
            for line in lines:
                for n, d in enumerate(row):
                    if n:
                        out.append(" ")
                    if d is None:
                        out.append(" " * size)
                        continue
                    future = d.day > today
                    part = style(_part(d.status, future))
                    if not wide:
                        out.append(day_cell(d.day.day, d.status, future), part)
                    elif line == 0:
                        out.append(f" {d.day.day:<{size - 1}}", part)
                    elif line == 1:
                        mark = "" if future else status_text(d.status) if d.status else NO_MARK
                        out.append(mark.center(size), part)
                    else:  # a coloured row, then a gap before the next week
                        out.append(" " * size, part if line == 2 else None)
                if not (last and line == lines[-1]):
                    out.append("\n")
        return out


class RedDaysPanel(Widget):
    """Beside the calendars: the red days per category, then the reasons written on red days,
    most often given first, with their counts and cumulative share (a Pareto)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"red-days--title", "red-days--red", "red-days--muted"}
    DEFAULT_CSS = """
    RedDaysPanel { height: auto; width: 1fr; padding: 0 1; }
    RedDaysPanel > .red-days--title { text-style: bold; }
    RedDaysPanel > .red-days--red { color: $error; text-style: bold; }
    RedDaysPanel > .red-days--muted { color: $text-muted; }
    """

    data: reactive[MonthCalendar | None] = reactive(None, layout=True)

    def render(self) -> Text:
        cal = self.data
        out = Text()
        if cal is None or not cal.categories:
            return out
        style = self.get_component_rich_style
        out.append("Red days\n", style("red-days--title"))
        width = max(len(printable(c.category)) for c in cal.categories)
        for c in cal.categories:
            out.append(f"{c.letter} {printable(c.category):<{width}} ")
            part = "red-days--red" if c.red_days else "red-days--muted"
            out.append(f"{STATUS_GLYPH[Status.RED]}{c.red_days:>3}\n", style(part))
        out.append("\nReasons on red days (Pareto)\n", style("red-days--title"))
        if not cal.red_entries:
            out.append("No red days this month.\n", style("red-days--muted"))
        if cal.reasons:
            n = max(len(str(r.count)) for r in cal.reasons)
            most = max(r.count for r in cal.reasons)
            bars = PARETO_BAR if self.size.width >= PARETO_BAR_FROM else 0
            head = f"{'n':>{n}} {'cum.':>4} " + ("".ljust(bars + 1) if bars else "")
            out.append(f"{head}reason\n", style("red-days--muted"))
            for r in cal.reasons:
                out.append(f"{r.count:>{n}} {percent(r.cumulative):>4} ")
                if bars:  # the Pareto's bars: each reason's count against the most given
                    bar = "█" * max(1, round(r.count / most * bars))
                    out.append(bar.ljust(bars + 1), style("red-days--red"))
                out.append(printable(" ".join(r.text.split())))
                out.append(f" ({' '.join(r.categories)})\n", style("red-days--muted"))
        if cal.unexplained:
            s = "y" if cal.unexplained == 1 else "ies"
            out.append(
                f"{cal.unexplained} red entr{s} without a note\n", style("red-days--muted")
            )
        return out
