"""The views of each board, built once per load and per day, and read by every screen.

Evaluating a board runs the KPI rules over every entry of its KPIs: the board, its tiles, the
detail screen and each huddle refresh ask for the same answers many times between two loads.
"""

from __future__ import annotations

from datetime import date, datetime

from store.rules import BoardView, KpiView
from store.snapshot import Snapshot

from .tier_lines import TierView, tier_view


class Views:
    """A board's `BoardView` for one snapshot and moment: built on first use, dropped when
    either changes (a reload, a change of time: midnight, a due time)."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._today: date | None = None
        self._now: datetime | None = None
        self._boards: dict[int, BoardView] = {}
        self._tiers: dict[int, TierView] = {}

    def board(
        self, snap: Snapshot, board_id: int, today: date, now: datetime | None = None
    ) -> BoardView:
        if snap is not self._snapshot or today != self._today or now != self._now:
            self._snapshot, self._today, self._now = snap, today, now
            self._boards, self._tiers = {}, {}
        view = self._boards.get(board_id)
        if view is None:
            views = snap.views(board_id, today, now)
            view = BoardView(tuple(views), tuple(snap.actions_of(board_id)))
            self._boards[board_id] = view
        return view

    def prime(
        self,
        snap: Snapshot,
        board_id: int,
        today: date,
        now: datetime | None,
        view: BoardView,
        tiers: TierView,
    ) -> None:
        """Take a board's views built elsewhere (the reading thread: `tui.prepare`) for this
        snapshot and moment, as if `board` and `tiers` had built them."""
        if snap is not self._snapshot or today != self._today or now != self._now:
            self._snapshot, self._today, self._now = snap, today, now
            self._boards, self._tiers = {}, {}
        self._boards[board_id] = view
        self._tiers[board_id] = tiers

    def kpi(
        self, snap: Snapshot, kpi_id: int | None, today: date, now: datetime | None = None
    ) -> KpiView | None:
        """A KPI's view from its own board's (None when it is archived or gone)."""
        kpi = snap.kpis.get(kpi_id) if kpi_id is not None else None
        if kpi is None or kpi.board not in snap.boards:
            return None
        return self.board(snap, kpi.board, today, now).kpi(kpi.id)

    def tiers(
        self, snap: Snapshot, board_id: int, today: date, now: datetime | None = None
    ) -> TierView:
        """The board's roll-up, escalations and review line, built once per load and moment."""
        self.board(snap, board_id, today, now)  # drops what an older snapshot or moment built
        view = self._tiers.get(board_id)
        if view is None:
            view = self._tiers[board_id] = tier_view(snap, board_id, today, now)
        return view
