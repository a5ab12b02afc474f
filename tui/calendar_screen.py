"""The SQCDP calendar of the board on screen: each category's month day by day, beside the red
days per category and the Pareto of the reasons written on them (`store.calendar`).

`c` on the board or "SQCDP calendar" in the palette opens it; ←/→ change the month, `t` comes
back to this month, `b` shows the next board, escape returns. It redraws after every load.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from store import calendar
from store.model import Status
from store.present import NO_MARK, STATUS_GLYPH, STATUS_WORD, month_title
from widgets.banner import Banner
from widgets.calendar import (
    NARROW_WIDTH,
    WIDE_WIDTH,
    CategoryCalendar,
    MonthBlock,
    RedDaysPanel,
)
from widgets.literal import literal

if TYPE_CHECKING:
    from .app import TeamboardApp

WIDE_FROM = 160  # columns from which each day is drawn big enough to read across a room
SIDE_MIN = 20  # the red days and the Pareto keep at least this much beside the calendars
HOW_TO_SET = "teamboard kpi edit NAME --category Q"


def legend(colours: dict[Status, str]) -> Text:
    """`✔ green  ▲ amber  ✖ red  · nothing recorded`, each in its day's colour."""
    out = Text()
    for status in (Status.GREEN, Status.AMBER, Status.RED):
        style = f"bold black on {colours[status]}" if colours.get(status) else "bold"
        out.append(f" {STATUS_GLYPH[status]} {STATUS_WORD[status]} ", style)
        out.append("  ")
    out.append(f"{NO_MARK} nothing recorded")
    return out


def shift_month(first: date, step: int) -> date:
    """The first day of the month `step` months from `first`'s (within years 1 to 9999)."""
    n = first.year * 12 + first.month - 1 + step
    year, month = divmod(n, 12)
    if not 1 <= year <= 9999:
        return first
    return date(year, month + 1, 1)


def open_calendar(app: TeamboardApp) -> None:
    """Open the calendar of the board on screen (the palette's and the board's `c`)."""
    if not isinstance(app.screen, CalendarScreen):
        app.push_screen(CalendarScreen())


class CalendarScreen(Screen[None]):
    CSS_PATH = "calendar.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        # priority: the scrolling panes would take the arrows for themselves
        Binding("left", "month(-1)", "Prev month", priority=True),
        Binding("right", "month(1)", "Next month", priority=True),
        Binding("t", "this_month", "This month"),
        Binding("b", "next_board", "Board", show=False),
    ]

    app: TeamboardApp

    title_label = getters.query_one("#calendar-title", Label)
    legend_label = getters.query_one("#legend", Label)
    empty = getters.query_one("#calendar-empty", Static)
    grid = getters.query_one("#months", Grid)
    side = getters.query_one(RedDaysPanel)

    def __init__(self, first: date | None = None) -> None:
        super().__init__()
        self.first = first
        self.calendar: calendar.MonthCalendar | None = None

    def compose(self) -> ComposeResult:
        yield Banner()
        yield Label(id="calendar-title")
        yield Label(id="legend")
        yield Static(id="calendar-empty")
        with Horizontal(id="calendar-body"):
            with VerticalScroll(id="months-box"):
                yield Grid(id="months")
            with VerticalScroll(id="side-box"):
                yield RedDaysPanel()
        if not self.app.wall:
            yield Footer(compact=True)

    async def on_mount(self) -> None:
        theme = self.app.current_theme  # the day cells' colours ($success, $warning, $error)
        colours = {Status.GREEN: theme.success, Status.AMBER: theme.warning}
        colours[Status.RED] = theme.error
        self.legend_label.update(legend({k: str(v or "") for k, v in colours.items()}))
        if self.first is None:
            self.first = self.app.today().replace(day=1)
        self.app.data_changed.subscribe(self, lambda _: self.refresh_calendar())
        await self.refresh_calendar()

    def on_resize(self) -> None:
        self._reflow()

    async def refresh_calendar(self) -> None:
        app = self.app
        snap, board_id = app.snapshot, app.board_id
        first = self.first or app.today().replace(day=1)
        if snap is None or board_id is None or board_id not in snap.boards:
            self._empty(app.empty_message())
            return
        board = snap.boards[board_id]
        cal = calendar.build(board.name, snap.kpis_of(board_id), snap.entries, first, app.today())
        self.calendar = cal
        self.title_label.update(
            literal(f"{app.board_title()} · SQCDP calendar · {month_title(cal.month)}")
        )
        if not cal.categories:
            if cal.uncategorised:
                self._empty(
                    f"No KPI of {board.name} has a category yet, so the calendar is empty.\n"
                    f"Set one with  {HOW_TO_SET}\n"
                    "(S Q C D P: Safety, Quality, Cost, Delivery, People, or a word of your own)."
                )
            else:
                self._empty(
                    f"{board.name} has no KPIs yet. Add one with a category:\n"
                    f"  teamboard kpi add NAME --board {board.name!r} --target T --category Q"
                )
            return
        self.empty.display = False
        self.legend_label.display = True
        self.query_one("#calendar-body").display = True
        blocks = list(self.grid.query_children(CategoryCalendar))
        if len(blocks) != len(cal.categories):
            await self.grid.remove_children()
            blocks = [CategoryCalendar() for _ in cal.categories]
            await self.grid.mount_all(blocks)
        for block, cm in zip(blocks, cal.categories, strict=True):
            block.data = MonthBlock(cm, cal.today)
        self.side.data = cal
        self._reflow()

    def _empty(self, text: str) -> None:
        self.calendar = None
        self.empty.update(literal(text))
        self.empty.display = True
        self.legend_label.display = False
        self.query_one("#calendar-body").display = False

    def _reflow(self) -> None:
        """As many calendars side by side as fit beside the panel; big days on a big screen."""
        wide = self.size.width >= WIDE_FROM
        blocks = list(self.grid.query_children(CategoryCalendar))
        for block in blocks:
            block.set_class(wide, "-wide")
        if not blocks:
            return
        each = (WIDE_WIDTH if wide else NARROW_WIDTH) + 1
        fit = max(1, (self.size.width - 2 - SIDE_MIN) // each)
        cols = min(len(blocks), fit)
        rows = math.ceil(len(blocks) / cols)
        cols = math.ceil(len(blocks) / rows)  # even rows: 2 + 2, not 3 + 1
        self.grid.styles.grid_size_columns = cols
        self.grid.styles.width = cols * each
        self.query_one("#months-box").styles.width = cols * each + 1

    # --- keys ------------------------------------------------------------------------------

    async def action_month(self, step: int) -> None:
        self.first = shift_month(self.first or self.app.today().replace(day=1), step)
        await self.refresh_calendar()

    async def action_this_month(self) -> None:
        self.first = self.app.today().replace(day=1)
        await self.refresh_calendar()

    def action_next_board(self) -> None:
        self.app.cycle_board(1)  # the app publishes data_changed: this screen redraws


__all__ = ["CalendarScreen", "open_calendar", "shift_month"]
