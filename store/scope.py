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
  `since` on (all of them for the KPIs in `full`, for the own KPIs of the boards named with
  `own_history`, and when both are None).

A file store parses the whole file anyway and ignores the scope: its snapshot, the whole store,
holds every scope. Nothing here imports more than the standard library (start-up time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .snapshot import Snapshot

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
    own_history: bool = False
    """The KPIs of the boards named in `boards` (not those below) keep every entry: a board
    screen's detail, huddle notes and calendar then need no second read."""

    @classmethod
    def of(
        cls,
        boards: Iterable[int | str] | None,
        periods: int | None = VIEW_PERIODS,
        since: date | None = None,
        full: Iterable[int] = (),
        own_history: bool = False,
    ) -> Scope:
        """What showing `boards` needs (None: every board), with the recent history views read."""
        return cls(
            boards=None if boards is None else frozenset(boards),
            periods=periods,
            since=since,
            full=frozenset(full),
            own_history=own_history,
        )

    @property
    def whole(self) -> bool:
        """Does this scope ask for the whole store?"""
        return self.boards is None and self.periods is None and self.since is None

    def covers(self, want: Scope, snap: Snapshot) -> bool:
        """Does a snapshot read with this scope (`snap`) hold all that `want` needs? (The app
        reads again when the boards or screens it shows need more.)"""
        if self.whole:
            return True
        mine = self.ids(snap)
        if want.boards is None:
            if self.boards is not None:
                return False
            wanted: set[int] = set()
        else:
            wanted = Scope(boards=want.boards).ids(snap) or set()
            if mine is not None and any(not self.under(b, mine, snap) for b in wanted):
                return False
        if self.periods is None and self.since is None:  # this read kept every entry
            return True
        if want.periods is None and want.since is None:
            return False
        if want.periods is not None and (self.periods or 0) < want.periods:
            return False
        if want.since is not None and (self.since is None or self.since > want.since):
            return False
        kept = set(self.full)
        if self.own_history and mine is not None:
            kept |= {k.id for k in snap.kpis.values() if k.board in mine}
        need = set(want.full)
        if want.own_history:
            need |= {k.id for k in snap.kpis.values() if k.board in wanted}
        return need <= kept

    def ids(self, snap: Snapshot) -> set[int] | None:
        """The ids of the boards named (None: every board)."""
        if self.boards is None:
            return None
        names = {b.strip().casefold() for b in self.boards if isinstance(b, str)}
        ids = {b for b in self.boards if isinstance(b, int) and b in snap.boards}
        return ids | {b.id for b in snap.boards.values() if b.name.casefold() in names}

    @staticmethod
    def under(board: int, roots: set[int], snap: Snapshot) -> bool:
        """Is `board` one of `roots` or below one of them?"""
        seen: set[int] = set()
        node: int | None = board
        while node is not None and node not in seen and node in snap.boards:
            if node in roots:
                return True
            seen.add(node)
            node = snap.boards[node].parent
        return False
