"""What a read must hold (issue 14): `Store.read(scope=...)` names the boards shown and how much
of each KPI's history their views need, so a database store loads those rows, not the store.

A scoped snapshot's views of a board in scope equal a full snapshot's views of that board
(tests/pg/test_scope.py holds the engines to it). What it holds, for the boards in `boards`:

- every board (the boards table is small: names, parents, the tree the app walks);
- those boards and every board below them (a roll-up tile counts all tiers under a child):
  their KPIs, targets, actions (open and done), reviews, huddles, estimates, explanations;
- the KPIs those need elsewhere (counter-metrics, an action's KPI), with their entries too;
- actions escalated to or from those boards, and actions on their KPIs wherever they moved;
- the goals of those boards and of every board above them, the goals their KPIs serve, and
  every goal above those;
- the change log of what it holds;
- entries: per KPI, its latest `periods` periods that have entries, plus every entry from
  `since` on (all of them for the KPIs in `full`, and when both are None).

A file store parses the whole file anyway and ignores the scope: its snapshot, the whole store,
holds every scope. Nothing here imports more than the standard library (start-up time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

VIEW_PERIODS = 32
"""The periods of history a board's views read: the sparkline and the huddle's chart (30), the
health's red window (30 + 2), the trend (5). tests/pg/test_scope.py checks it covers them."""


@dataclass(frozen=True)
class Scope:
    """The part of the store a read must hold. `Scope()` is the whole store."""

    boards: frozenset[int | str] | None = None
    """The boards shown, by id or by name (case-insensitive; a name that matches no board loads
    nothing, and the snapshot's `board_named` then says which boards exist). None: every board."""
    periods: int | None = None
    """Each KPI's latest `periods` periods that have entries (None: no limit by periods)."""
    since: date | None = None
    """Every entry from this day on as well (the calendar's months). None with `periods`
    None: every entry."""
    full: frozenset[int] = field(default_factory=frozenset)
    """KPIs whose every entry is needed (a detail screen's chart and list)."""

    @classmethod
    def of(
        cls,
        boards: Iterable[int | str] | None,
        periods: int | None = VIEW_PERIODS,
        since: date | None = None,
        full: Iterable[int] = (),
    ) -> Scope:
        """What showing `boards` needs (None: every board), with the recent history views read."""
        return cls(
            boards=None if boards is None else frozenset(boards),
            periods=periods,
            since=since,
            full=frozenset(full),
        )

    @property
    def whole(self) -> bool:
        """Does this scope ask for the whole store?"""
        return self.boards is None and self.periods is None and self.since is None
