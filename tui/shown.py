"""What the app shows, as a read's scope and the boards to follow (issue 14: a database store).

A file store is parsed whole whatever is shown: these say None (everything). On PostgreSQL the
app reads the board on screen (with every board below it, for the roll-up tiles) and every entry
of that board's own KPIs (its detail, huddle notes and calendar need no second read); the tree
reads every board's recent entries; a detail opened from the tree adds its KPI's history; a
past (as-of) board keeps every entry of what it reads (its periods end on another day). The
follower listens only for the boards a read loaded rows of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.scope import VIEW_PERIODS, Scope
from store.snapshot import Snapshot

if TYPE_CHECKING:
    from .app import TeamboardApp


def wanted(app: TeamboardApp) -> Scope | None:
    """The scope of what `app` shows now; None: everything (a file store)."""
    if app.store.engine == "file":
        return None
    from .detail_screen import DetailScreen
    from .huddle_screen import HuddleScreen
    from .tree_screen import TreeScreen

    snap = app.snapshot
    periods = None if app.as_of is not None else VIEW_PERIODS
    full: set[int] = set()
    boards: set[int | str] = set()
    tree = False
    for screen in app.screen_stack:
        if isinstance(screen, TreeScreen):
            tree = True
        elif isinstance(screen, DetailScreen):
            full.add(screen.kpi_id)
        elif isinstance(screen, HuddleScreen) and screen.board_id is not None:
            boards.add(screen.board_id)
    if app.pending_board is not None:  # the board about to be shown, not the one shown
        boards.add(app.pending_board)
    elif app.board_id is not None:
        boards.add(app.board_id)
    elif app.board_name:
        boards.add(app.board_name)
    if tree:
        if snap is not None and app.board_id is not None:
            full |= {k.id for k in snap.kpis_of(app.board_id, archived=True)}
        return Scope.of(None, periods=periods, full=full)
    # No board known yet (the first read, none named): the boards alone, to pick the first.
    return Scope.of(boards, periods=periods, full=full, own_history=not app.wall)


def followed(snap: Snapshot, scope: Scope | None) -> set[int] | None:
    """The boards whose writes change what a read with `scope` holds: every board it loaded a
    row of (the boards shown and those below, a counter-metric's board, an escalation's, the
    goals' boards above). None: every board. A write that names no board (the store's last
    change, a new board) reaches every follower anyway (store/pg/listen.py)."""
    if scope is None or scope.boards is None:
        return None
    found = {k.board for k in snap.kpis.values()}
    found |= {a.board for a in snap.actions.values()}
    found |= {g.board for g in snap.goals.values()}
    found |= {r.board for r in snap.reviews}
    found |= Scope(boards=scope.boards).ids(snap) or set()
    found |= {int(h["board_id"]) for h in snap.huddles if isinstance(h.get("board_id"), int)}
    # Boards below a shown one with nothing loaded yet (a new, empty team) count too.
    shown = Scope(boards=scope.boards).ids(snap) or set()
    found |= {b for b in snap.boards if Scope.under(b, shown, snap)}
    return found


def whole_boards(snap: Snapshot, scope: Scope | None) -> set[int] | None:
    """The boards whose views a read with `scope` holds whole: those named and every board
    below them (None: every board)."""
    if scope is None or scope.boards is None:
        return None
    named = Scope(boards=scope.boards).ids(snap) or set()
    return {b for b in snap.boards if Scope.under(b, named, snap)}
