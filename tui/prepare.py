"""What a load hands the UI ready-made, so the UI thread only swaps references and redraws.

After a read, the app's reading thread (`TeamboardApp._load`) evaluates what the screen will
ask for first: the shown board's views, its tier view (`tui.tier_lines`) and the next moment
they change with no write (`timekeeping.next_change`). Evaluating them runs the KPI rules over
every entry of the board's KPIs (a roll-up: of every board below it), which at 100,000 entries
and more is hundreds of milliseconds of Python. In the reading thread that work gives the GIL
back every switch interval (5 ms), so the UI loop keeps running; on the UI thread it would
freeze it for as long. The UI takes them only when they are still right for what it shows
(the same snapshot, board and moment); else it builds them lazily, as before (`tui.views`).

Also here: the garbage collector around the big loads (`quiet_collector`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from store.errors import StoreError
from store.rules import BoardView
from store.snapshot import Snapshot

from . import timekeeping
from .tier_lines import TierView, tier_view

THREAD_FROM = 20_000
"""Entries from which a change of time builds the views in a thread: below, the UI thread
builds them in a few milliseconds, sooner than a thread's round trip."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """The views of one board of one snapshot, built at `moment`, good until `until`."""

    snapshot: Snapshot
    board_id: int
    moment: datetime
    until: datetime | None  # None: an as-of board (its moment never moves)
    view: BoardView
    tiers: TierView


def board_to_show(snap: Snapshot, shown: int | None, name: str | None) -> int | None:
    """The board the app will show for `snap` (what `TeamboardApp._pick_board` picks, without
    its notice)."""
    if shown in snap.boards:
        return shown
    if name:
        try:
            return snap.board_named(name).id
        except StoreError:
            pass
    return snap.default_board().id if snap.boards else None


def prepare(
    snap: Snapshot, board_id: int | None, moment: datetime, live: bool
) -> Prepared | None:
    """The board's views at `moment` (and, on a live board, when they next change), or None
    when there is no board, or when building them fails (the UI then builds them itself, and
    whatever went wrong shows there, as it did before)."""
    if board_id is None or board_id not in snap.boards:
        return None
    try:
        until = timekeeping.next_change(snap, moment) if live else None
        day = moment.date()
        views = snap.views(board_id, day, moment)
        view = BoardView(tuple(views), tuple(snap.actions_of(board_id)))
        tiers = tier_view(snap, board_id, day, moment)
    except Exception:  # the UI thread builds them again, and meets it there
        return None
    return Prepared(snap, board_id, moment, until, view, tiers)


QUIET_MAX_S = 120.0
"""The longest the collector stays off for loads: past it, a load that still runs is hung (a
stalled network mount) and the app, which may run for weeks, collects again meanwhile. A whole
load of 1,000,000 entries takes seconds, even under load."""

_quiet = threading.Lock()
_quiet_loads = 0  # big loads running now, in any thread (a hung one and its successor)
_quiet_restore = False  # the collector was on when the first of them began


@contextmanager
def quiet_collector(big: bool, max_s: float = QUIET_MAX_S) -> Iterator[None]:
    """Around a load that makes many objects at once (the first, or a loader's whole answer):
    no collection while they are made, then `gc.freeze()` on what is alive.

    A full collection walks every tracked object: at 1,000,000 entries a million `Entry`
    objects, seconds under load, and it holds the GIL from whatever thread triggers it, so the
    UI loop stops for as long. Allocating a million objects triggers several of them. Frozen
    objects are never walked again; an entry holds no reference cycles, so it is still freed
    by its reference count when a later snapshot drops it. Only a cycle alive at that moment
    and dropped later stays until exit (a load freezes a handful of times in an app's life).

    Loads may overlap (one blocked for good, the next given its turn): the collector comes
    back when the last of them ends, or after `max_s` whatever is still running.
    """
    global _quiet_loads, _quiet_restore
    if not big:
        yield
        return
    with _quiet:
        if _quiet_loads == 0:
            _quiet_restore = gc.isenabled()
            gc.disable()
        _quiet_loads += 1
    guard = threading.Timer(max_s, _collect_again)
    guard.daemon = True
    guard.start()
    try:
        yield
    finally:
        guard.cancel()
        gc.freeze()
        with _quiet:
            _quiet_loads -= 1
            if _quiet_loads == 0 and _quiet_restore:
                gc.enable()


def _collect_again() -> None:
    """A big load has run for `QUIET_MAX_S`: collect again, as before it began."""
    with _quiet:
        if _quiet_loads and _quiet_restore:
            gc.enable()
