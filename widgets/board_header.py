"""The header that answers "are we winning or losing?": counts by status, the board, a clock."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label

from store.model import Change, Status
from store.present import STATUS_GLYPH, STATUS_WORD

from .literal import literal, since


@dataclass(frozen=True)
class HeaderData:
    title: str  # "Operations › Line 2 Assembly"
    statuses: tuple[Status, ...]
    change: Change | None
    position: str = ""  # "board 1 of 2" when rotating


class BoardHeader(Vertical):
    """Two lines: the board and the clock above, the score and the last change below."""

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
    BoardHeader .spacer { width: 1fr; padding: 0; }
    BoardHeader .changed { color: $text-muted; }
    BoardHeader .clock { padding-right: 0; text-style: bold; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(classes="title")
            yield Label(classes="spacer")
            yield Label(classes="clock")
        with Horizontal():
            for status in Status:
                yield Label(classes=f"count {status.value}")
            yield Label(classes="spacer")
            yield Label(classes="changed")

    def show(self, data: HeaderData, now: datetime) -> None:
        title = data.title + (f"  ({data.position})" if data.position else "")
        self.query_one(".title", Label).update(literal(title))
        counts = Counter(data.statuses)
        for status in Status:
            label = self.query_one(f".count.{status.value}", Label)
            n = counts.get(status, 0)
            label.update(f"{STATUS_GLYPH[status]} {n} {STATUS_WORD[status]}")
            label.display = bool(n) or status in (Status.GREEN, Status.RED)
        self.tick(data.change, now)

    def tick(self, change: Change | None, now: datetime) -> None:
        """Redraw what changes with time only: the clock and "changed N min ago"."""
        text = f"changed {since(change.at, now)} by {change.who}" if change else ""
        self.query_one(".changed", Label).update(literal(text))
        self.query_one(".clock", Label).update(now.strftime("%a %-d %b %H:%M"))
