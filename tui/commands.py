"""The command palette: jump to a board or a KPI by typing part of its name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import TeamboardApp


class BoardCommands(Provider):
    def _targets(self) -> list[tuple[str, str, object]]:
        app: TeamboardApp = self.app  # type: ignore[assignment]
        snap = app.snapshot
        if snap is None:
            return []
        out: list[tuple[str, str, object]] = []
        for b in snap.boards.values():
            out.append((f"Board: {b.name}", "Show this board", partial(app.show_board, b.id)))
        for k in snap.kpis_of(None):
            board = snap.boards[k.board].name
            out.append(
                (
                    f"KPI: {k.name} ({board})",
                    "Open its trend and history",
                    partial(self._open_kpi, k.board, k.id),
                )
            )
        return out

    def _open_kpi(self, board_id: int, kpi_id: int) -> None:
        app: TeamboardApp = self.app  # type: ignore[assignment]
        app.show_board(board_id)
        app.open_detail(kpi_id)

    async def discover(self) -> Hits:
        for name, help_text, callback in self._targets():
            # Rich Text, not a str: a str prompt would be parsed as markup.
            yield DiscoveryHit(Text(name), callback, text=name, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._targets():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)  # type: ignore[arg-type]
