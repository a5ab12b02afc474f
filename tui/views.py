"""The views of each board, built once per load and per day, and read by every screen.

Evaluating a board runs the KPI rules over every entry of its KPIs: the board, its tiles, the
detail screen and each huddle refresh ask for the same answers many times between two loads.
"""

from __future__ import annotations

from datetime import date

from store.rules import BoardView, KpiView
from store.snapshot import Snapshot

from .tier_lines import TierView, tier_view


class Views:
    """A board's `BoardView` for one snapshot and day: built on first use, dropped when either
    changes (a reload, midnight)."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._today: date | None = None
        self._boards: dict[int, BoardView] = {}
        self._tiers: dict[int, TierView] = {}

    def board(self, snap: Snapshot, board_id: int, today: date) -> BoardView:
        if snap is not self._snapshot or today != self._today:
            self._snapshot, self._today, self._boards, self._tiers = snap, today, {}, {}
        view = self._boards.get(board_id)
        if view is None:
            view = BoardView(tuple(snap.views(board_id, today)), tuple(snap.actions_of(board_id)))
            self._boards[board_id] = view
        return view

    def kpi(self, snap: Snapshot, kpi_id: int | None, today: date) -> KpiView | None:
        """A KPI's view from its own board's (None when it is archived or gone)."""
        kpi = snap.kpis.get(kpi_id) if kpi_id is not None else None
        if kpi is None or kpi.board not in snap.boards:
            return None
        return self.board(snap, kpi.board, today).kpi(kpi.id)

    def tiers(self, snap: Snapshot, board_id: int, today: date) -> TierView:
        """The board's roll-up, escalations and review line, built once per load and day."""
        self.board(snap, board_id, today)  # drops what an older snapshot or day built
        view = self._tiers.get(board_id)
        if view is None:
            view = self._tiers[board_id] = tier_view(snap, board_id, today)
        return view
