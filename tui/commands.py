"""The command palette: jump to a board or a KPI by typing part of its name.

Board and KPI names are store text: every hit is built as `Content` (never a str, which the
palette parses as markup), with control characters made visible. The help lines are fixed text.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from store.validate import printable

from .calendar_screen import open_calendar

if TYPE_CHECKING:
    from .app import TeamboardApp


def highlight(matcher: Matcher, candidate: str) -> Content:
    """`Matcher.highlight` without its markup parsing: a `[/]` in a name is only text."""
    content = Content(candidate)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    for offset in offsets:
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class BoardCommands(Provider):
    @property
    def board_app(self) -> TeamboardApp:
        """The app with its snapshot (a provider knows only that it runs in some App)."""
        return cast("TeamboardApp", self.app)

    def _targets(self) -> list[tuple[str, str, Callable[[], None]]]:
        app = self.board_app
        snap = app.snapshot
        if snap is None:
            return []
        out: list[tuple[str, str, Callable[[], None]]] = [
            ("KPI tree", "Boards → goals → KPIs across every tier", app.open_tree)
        ]
        for b in snap.boards.values():
            out.append(
                (printable(f"Board: {b.name}"), "Show this board", partial(app.show_board, b.id))
            )
        for k in snap.kpis_of(None):
            board = snap.boards[k.board].name
            out.append(
                (
                    printable(f"KPI: {k.name} ({board})"),
                    "Open its trend and history",
                    partial(self._open_kpi, k.board, k.id),
                )
            )
        out.append(("SQCDP calendar", "Each category's month: red days and their reasons",
                    partial(open_calendar, app)))  # fmt: skip
        return out

    def _open_kpi(self, board_id: int, kpi_id: int) -> None:
        app = self.board_app
        app.show_board(board_id)
        app.open_detail(kpi_id)

    async def discover(self) -> Hits:
        for name, help_text, callback in self._targets():
            yield DiscoveryHit(Content(name), callback, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._targets():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, highlight(matcher, name), callback, text=name, help=help_text)
