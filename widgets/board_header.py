"""The header that answers "are we winning or losing?": counts by status, the board, a clock."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from textual import getters
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Label

from store.model import Change, Status
from store.present import STATUS_GLYPH, STATUS_WORD

from .literal import literal, since
from .redraw import show


@dataclass(frozen=True)
class HeaderData:
    title: str  # "Operations › Line 2 Assembly"
    statuses: tuple[Status, ...]
    position: str = ""  # "board 1 of 2" when rotating
    review: str = ""  # "last review 3 d ago · ana" (present.review_text)
    review_overdue: bool = False  # flagged: no leader has looked for too long
    late: int = 0  # KPIs whose value is past its due time (they keep their colour meanwhile)


class BoardHeader(Vertical):
    """Two lines: the board and the clock above, the score and the last change below.

    Set `data` when the board changes, `change` when the store does, and `now` as time
    passes (the clock, "changed … ago").
    """

    DEFAULT_CSS = """
    BoardHeader { height: 2; background: $panel; padding: 0 1; dock: top; }
    BoardHeader Horizontal { height: 1; }
    BoardHeader Label { width: auto; padding-right: 2; }
    BoardHeader .title { text-style: bold; color: $text; }
    BoardHeader .count { text-style: bold; }
    BoardHeader .green { color: $success; }
    BoardHeader .amber { color: $warning; }
    BoardHeader .red { color: $error; }
    BoardHeader .stale, BoardHeader .no-data { color: $text-muted; }
    BoardHeader .late { color: $warning; }
    BoardHeader .spacer { width: 1fr; padding: 0; }
    BoardHeader .changed { color: $text-muted; }
    BoardHeader .review { color: $text-muted; }
    BoardHeader .review.-overdue { color: $error; text-style: bold; }
    BoardHeader .clock { padding-right: 0; text-style: bold; }
    BoardHeader .clock.-as-of { background: $warning; color: $text; padding: 0 1; }
    """

    data: reactive[HeaderData | None] = reactive(None, init=False, repaint=False)
    change: reactive[Change | None] = reactive(None, init=False, repaint=False)
    now: reactive[datetime | None] = reactive(None, init=False, repaint=False)
    """Set every second; the labels it changes redraw themselves (no repaint of the header)."""
    as_of: reactive[str | None] = reactive(None, init=False, repaint=False)
    """`as of Tue 31 Dec 2013 · read-only`: shown where the clock is, so a past board is never
    taken for live."""

    title_label = getters.query_one(".title", Label)
    changed_label = getters.query_one(".changed", Label)
    clock_label = getters.query_one(".clock", Label)

    def __init__(self) -> None:
        super().__init__()
        self._drawn: dict[str, str] = {}  # the time labels' texts as last drawn

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(classes="title")
            yield Label(classes="spacer")
            yield Label(classes="clock")
        with Horizontal():
            for status in Status:
                yield Label(classes=f"count {status.value}")
            yield Label(classes="count late")
            yield Label(classes="spacer")
            yield Label(classes="review")
            yield Label(classes="changed")

    def watch_data(self, data: HeaderData | None) -> None:
        if data is None:
            return
        title = data.title + (f"  ({data.position})" if data.position else "")
        show(self.title_label, literal(title))  # only what changed is drawn again (redraw.py)
        counts = Counter(data.statuses)
        for status in Status:
            label = self.query_one(f".count.{status.value}", Label)
            n = counts.get(status, 0)
            show(label, f"{STATUS_GLYPH[status]} {n} {STATUS_WORD[status]}")
            label.display = bool(n) or status in (Status.GREEN, Status.RED)
        review = self.query_one(".review", Label)
        overdue = data.review_overdue and bool(data.review)
        show(review, literal(("⚑ " if overdue else "") + data.review))
        review.set_class(overdue, "-overdue")
        review.display = bool(data.review)
        late = self.query_one(".count.late", Label)
        show(late, f"◷ {data.late} late")
        late.display = bool(data.late)

    def watch_change(self) -> None:
        self._draw_time()

    def watch_now(self) -> None:
        self._draw_time()

    def watch_as_of(self) -> None:
        self._draw_time()

    def _draw_time(self) -> None:
        """What changes with time only: the clock and "changed N min ago". Asked every second,
        it touches a label only when its text changes (about once a minute): an update of an
        auto-sized label lays the whole screen out again, a stall of its own."""
        now = self.now
        if now is None:
            return
        change = self.change
        text = f"changed {since(change.at, now)} by {change.who}" if change else ""
        if text != self._drawn.get("changed"):
            self._drawn["changed"] = text
            show(self.changed_label, literal(text))
        clock = self.as_of if self.as_of is not None else now.strftime("%a %-d %b %H:%M")
        if clock != self._drawn.get("clock"):
            self._drawn["clock"] = clock
            show(self.clock_label, literal(clock) if self.as_of is not None else clock)
        self.clock_label.set_class(self.as_of is not None, "-as-of")
