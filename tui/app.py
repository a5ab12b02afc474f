"""The teamboard app: its life cycle, the current snapshot and the views built from it, and the
follower that reloads when anyone writes.

One source of truth: the app keeps the latest good `Snapshot` and each board's views of it
(`views`, built once per load and day); screens redraw from them when the `data_changed` signal
fires. Parsing happens in a daemon thread; bursts of changes coalesce into one reload; a broken,
missing or unreadable file keeps the last good data under a banner. The writes are in `flows`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.actions import ActionParseResult
from textual.actions import parse as parse_action
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal
from textual.timer import Timer

from store import asof, pg, present
from store.db import Store
from store.errors import StoreError
from store.rules import BoardView, KpiView
from store.scope import Scope
from store.snapshot import Snapshot
from store.validate import printable

from . import flows, prepare, shown, timekeeping
from .board_screen import BoardScreen
from .commands import BoardCommands
from .detail_screen import DetailScreen
from .follow import follow_store
from .help_screen import HelpScreen, key_rows
from .huddle_screen import HuddleScreen
from .loader import Loader
from .messages import StoreFailed, StoreLoaded, ViewsReady
from .read_only import ReadOnlyStore, refusal, writes
from .themes import WALL
from .tier_lines import TierView
from .tree_screen import TreeScreen
from .views import Views

Clock = Callable[[], datetime]

SLOW_READ_S = 3.0  # a read still running after this is given up on (a FIFO, a stalled mount)
SLOW_READ_RATE = 8e6  # bytes a second a busy machine surely reads: a big file gets longer
MAX_HUNG_READS = 4  # reads given up on but still blocked; no more are started past this


def local_now() -> datetime:
    return datetime.now().astimezone()


class TeamboardApp(App[int]):
    TITLE = "teamboard"
    COMMANDS = App.COMMANDS | {BoardCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False),
        Binding("question_mark", "help", "Help"),
        Binding(flows.UNDO_KEY, "undo", "Undo", show=False),
    ]

    def __init__(
        self,
        store_path: Path | str,
        board: str | None = None,
        wall: bool = False,
        rotate: float = 0,
        poll: bool = False,
        huddle: bool = False,
        minutes: int = 15,
        clock: Clock = local_now,
        as_of: date | None = None,
        read_only: str | None = None,
    ) -> None:
        super().__init__()
        if read_only is None and as_of is not None:
            read_only = present.as_of_text(as_of)  # a past board is never written from
        self.read_only = read_only
        """Why this app may not write (e.g. "served read-only", "as of Tue 31 Dec 2013"), or
        None: every write refuses."""
        self.store: Store
        if isinstance(store_path, str) and pg.is_url(store_path):
            # A database (issue 14: store/pg); read-only, it refuses every write the same way.
            refuse = None if read_only is None else refusal(read_only)
            self.store = pg.open_store(store_path, refuse=refuse)
        elif read_only is not None:
            self.store = ReadOnlyStore(store_path, read_only)
        else:
            self.store = Store(store_path)
        self.board_name = board
        self.wall = wall
        self.rotate = rotate
        self.poll = poll
        self.huddle_at_start = huddle
        self.huddle_minutes = minutes
        self.clock = clock
        self.snapshot: Snapshot | None = None
        """The last good read of the store; None until the first one."""
        self.board_id: int | None = None
        """The board on screen."""
        self.banner: str | None = None
        self.banner_info = False
        self.reloads = 0  # completed loads, good or bad: tests wait on it
        self.data_changed: Signal[None] = Signal(self, "data_changed")
        """Published after each load (good or bad) and when the board changes: redraw."""
        self.last_undo: flows.Undo | None = None
        """The last stage change made here, until it is undone (the `u` key)."""
        self._views = Views()
        self._loading = False
        self._again = False
        self._generation = 0  # of the newest read started
        self._given_up: set[int] = set()  # reads that took too long and may never come back
        self._slow: Timer | None = None
        self._more_time: dict[int, float] = {}  # a read's extra seconds for its file's size
        self._failing_since: datetime | None = None
        self._stop = asyncio.Event()
        self.loader = (
            Loader(self.store) if Loader.wanted() and self.store.engine == "file" else None
        )
        """Parses the store in a child process, off this one's GIL (`tui.loader`)."""
        self.as_of = as_of
        """The day whose end the board shows (`--as-of`); None: live, following the clock."""
        self.time_check_s = timekeeping.CHECK_S
        self._last_read: Snapshot | None = None  # the last read (what the next one reuses)
        # A database reads what is shown (tui/shown.py): each read's scope, the scope of the
        # snapshot in hand, the boards whose views it holds whole and those it follows.
        self._scopes: dict[int, Scope | None] = {}
        self._read_scope: Scope | None = None
        self._whole_boards: set[int] | None = None
        self._followed: set[int] | None = None
        self.pending_board: int | None = None
        """The board to show once a read holds it (a database; `show_board`)."""
        self._moment: datetime | None = None  # the instant the views are built for
        self._until: datetime | None = None  # the next moment they change with no write
        self._time_timer: Timer | None = None
        self._views_pending = 0  # views being built in a thread for a change of time
        self.views_thread_from = prepare.THREAD_FROM
        """A store this big builds a change of time's views in a thread (`tui.prepare`)."""
        self.views_prepared = 0  # views taken ready-made from a thread: a test checks the path
        self.register_theme(WALL)
        if wall:
            self.theme = WALL.name

    # --- time ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """The day a write is for (the clock's); on an as-of board, the as-of day."""
        return self.as_of if self.as_of is not None else self.clock().date()

    def view_day(self) -> date:
        """The day the views on screen are for (what overdue and stale are measured against)."""
        return self.moment().date()

    def moment(self) -> datetime:
        """The instant the views are built for: the end of the as-of day, or the clock as of
        the last load or change of time (`keep_time`)."""
        if self.as_of is not None:
            return timekeeping.end_of(self.as_of)
        if self._moment is None:
            self._moment = timekeeping.aware(self.now())
        return self._moment

    def keep_time(self) -> None:
        """The app's one time timer: when the clock has passed the next change (or jumped back),
        rebuild the views from the snapshot in hand and redraw; then wait for the next change."""
        if self.as_of is not None:
            return
        now = timekeeping.aware(self.now())
        if timekeeping.stale(self._moment, self._until, now):
            self._set_moment(now)
            if self.snapshot is not None and self.snapshot.entry_count >= self.views_thread_from:
                self._views_in_thread(self.snapshot)
            elif self.snapshot is not None:
                self.data_changed.publish(None)
        else:
            self._schedule(now)

    def _views_in_thread(self, snap: Snapshot) -> None:
        """The shown board's views at the new moment, built off the UI thread (`ViewsReady`
        redraws); anything drawn before then builds them itself, as before."""
        board, moment = self.board_id, self.moment()
        self._views_pending += 1

        def build() -> None:
            ready = prepare.prepare(snap, board, moment, live=False)
            with contextlib.suppress(RuntimeError):  # the app ended meanwhile
                self.post_message(ViewsReady(ready))

        threading.Thread(target=build, name="teamboard-views", daemon=True).start()

    @on(ViewsReady)
    def _views_ready(self, message: ViewsReady) -> None:
        self._views_pending -= 1
        ready, snap = message.prepared, self.snapshot
        if snap is None:
            return
        self._prime(snap, ready)
        self.data_changed.publish(None)

    def _prime(self, snap: Snapshot, ready: prepare.Prepared | None) -> None:
        """Take views built in a thread when they are for what is shown now."""
        if (
            ready is not None
            and ready.snapshot is snap
            and ready.board_id == self.board_id
            and ready.moment == self.moment()
        ):
            self._views.prime(snap, ready.board_id, self.view_day(), self.moment(),
                              ready.view, ready.tiers)  # fmt: skip
            self.views_prepared += 1

    def _set_moment(self, now: datetime) -> None:
        """Build the views for `now` from here on, and wait for their next change."""
        self._moment = now
        self._until = timekeeping.next_change(self.snapshot, now)
        self._schedule(now)

    def _schedule(self, now: datetime) -> None:
        """The one time timer: the old one stops, a new one waits for the next change."""
        if self._time_timer is not None:
            self._time_timer.stop()
        wait = timekeeping.delay(self._until, now, self.time_check_s)
        self._time_timer = self.set_timer(wait, self.keep_time, name="keep-time")

    # --- life cycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(BoardScreen())
        if self.huddle_at_start:  # `teamboard huddle`: its board is picked once the store is read
            self.push_screen(HuddleScreen(None, self.huddle_minutes))
        self.request_reload()
        self.follow()
        self.keep_time()
        if self.rotate > 0:
            self.set_interval(self.rotate, lambda: self.cycle_board(1))

    async def on_unmount(self) -> None:
        self._stop.set()
        if self.loader is not None:
            self.loader.close()

    @work(exclusive=True, group="follow")
    async def follow(self) -> None:
        """Follow the store's folder (a database: its notifications) while the app runs."""
        if self.store.engine != "file":
            from store.pg.listen import follow_pg

            # Lost: read now, so the banner says why while the last good data stays.
            url = getattr(self.store, "url")  # noqa: B009
            lost = lambda _why: self.request_reload()  # noqa: E731
            boards = lambda: self._followed  # noqa: E731  (the boards the last read loaded)
            await follow_pg(url, self.request_reload, self._stop, lost=lost, boards=boards)
            return
        await follow_store(self.store.path, self.request_reload, self._stop, poll=self.poll)

    def request_reload(self) -> None:
        """Reload soon; a burst of requests while one load runs leads to one more load."""
        if self._loading or len(self._given_up) >= MAX_HUNG_READS:
            self._again = True
            return
        self._loading = True
        self._generation += 1
        self._scopes[self._generation] = scope = shown.wanted(self)
        self._slow = self.set_timer(SLOW_READ_S, self._read_is_slow)
        # A daemon thread, not a worker: a read that blocks for good (a FIFO, a hung network
        # mount) must not keep `q` from ending the process, as the executor's threads would.
        threading.Thread(
            target=self._load, args=(self._generation, scope), name="teamboard-read", daemon=True
        ).start()

    def _load(self, generation: int, scope: Scope | None = None) -> None:
        """Read the store (in its own thread) and post what happened to the app."""
        message: StoreLoaded | StoreFailed
        self._more_time[generation] = self._time_for_size()
        try:
            loader = self.loader
            big = self._last_read is None or (loader is not None and loader.whole_next())
            with prepare.quiet_collector(big):
                read = self._read(self._last_read, scope)
            # An as-of board shows the store as it stood then (built here, off the UI thread).
            shown = read if self.as_of is None else asof.as_of(read, self.as_of)
            message = StoreLoaded(shown, generation, read, self._prepare(shown))
        except StoreError as exc:
            missing = self.store_missing()
            message = StoreFailed(str(exc), missing=missing, generation=generation)
        except Exception as exc:  # the one broad catch: whatever a bad file raises, it stops here
            # The board keeps its last good data; the type goes in the banner for the report.
            detail = f"{type(exc).__name__}: {exc}"
            message = StoreFailed(
                f"{self.store} cannot be read ({detail[:200]}).", generation=generation
            )
        with contextlib.suppress(RuntimeError):  # the app ended while this read was blocked
            self.post_message(message)

    def _prepare(self, snap: Snapshot) -> prepare.Prepared | None:
        """The shown board's views, built here in the reading thread (`tui.prepare`)."""
        live = self.as_of is None
        try:
            moment = timekeeping.aware(self.now()) if live else self.moment()
            board = prepare.board_to_show(snap, self.board_id, self.board_name)
        except Exception:  # the UI thread meets it again, as before
            return None
        return prepare.prepare(snap, board, moment, live)

    def _take_prepared(self, snap: Snapshot, ready: prepare.Prepared | None) -> None:
        """Use the moment and views the reading thread built when they are still right for
        what is shown; else the views are built on first use, as before."""
        if ready is not None and ready.snapshot is not snap:
            ready = None
        if self.as_of is None:  # a write may bring a new due time: the next change is afresh
            now = timekeeping.aware(self.now())
            if ready is None or timekeeping.stale(ready.moment, ready.until, now):
                self._set_moment(now)
            else:
                self._moment, self._until = ready.moment, ready.until
                self._schedule(now)
        if self.board_id not in snap.boards:
            self.board_id = self._pick_board(snap)
        self._prime(snap, ready)

    def _read(self, previous: Snapshot | None, scope: Scope | None = None) -> Snapshot:
        """The first read here (the first paint need not wait for a process to start); later
        ones through the loader process (`Store.via`), which this starts meanwhile. A database
        reads `scope`, what is shown (`tui.shown`)."""
        if scope is not None:
            return self.store.read(previous=previous, scope=scope)
        snap = self.store.read(previous=previous)
        if self.loader is not None and self.store.via is None:
            self.store.via = self.loader.read  # it starts the process if `_start_loader` has not
        return snap

    def _start_loader(self) -> None:
        """Start the loader process soon after the first paint, not during it (its start-up
        and first parse would compete with the paint for the CPU)."""
        loader = self.loader
        if loader is not None:
            threading.Thread(target=loader.start, name="teamboard-loader", daemon=True).start()

    def _time_for_size(self) -> float:
        """The seconds a read of the store's file may take beyond `SLOW_READ_S` for its size (a
        million entries are over 100 MB), so a big file is not called stalled. Run in the
        reading thread: a stat on a stalled mount blocks there, not in the UI."""
        if self.store.engine != "file":
            return 0.0
        try:
            st = os.stat(self.store.path)
        except OSError:
            return 0.0
        return st.st_size / SLOW_READ_RATE if stat.S_ISREG(st.st_mode) else 0.0

    def _read_is_slow(self) -> None:
        """A read has not come back: say so, and let the next change start a fresh one. A big
        file gets the time its size needs first (`_time_for_size`)."""
        if not self._loading:
            return
        more = self._more_time.pop(self._generation, 0.0)
        if more >= 0.5:
            self._slow = self.set_timer(more, self._read_is_slow)
            return
        self._given_up.add(self._generation)
        self._failed(
            f"Reading {self.store.path} has taken more than {SLOW_READ_S:.0f} s (is it a FIFO, "
            "a device or a stalled network mount?).",
            missing=False,
        )

    def _current(self, generation: int) -> bool:
        """Is this read's result the newest? A read given up on counts only if none followed."""
        self._more_time.pop(generation, None)
        if generation in self._given_up:
            self._given_up.discard(generation)
            if generation != self._generation or self._loading:
                if self._again and not self._loading:  # waiting for a blocked read to end
                    self._again = False
                    self.request_reload()
                return False
            return True
        if self._slow is not None:
            self._slow.stop()
        return True

    def _loaded(self) -> None:
        self.reloads += 1
        self._loading = False
        if self._again:
            self._again = False
            self.request_reload()
        self.data_changed.publish(None)

    @on(StoreLoaded)
    def _store_loaded(self, message: StoreLoaded) -> None:
        if not self._current(message.generation):
            return
        snap = message.snapshot
        if self.snapshot is None and self.loader is not None:
            self.set_timer(0.5, self._start_loader)
        self.snapshot = snap
        self._last_read = message.read or snap
        self._read_scope = self._scopes.pop(message.generation, None)
        self._whole_boards = shown.whole_boards(self._last_read, self._read_scope)
        self._followed = shown.followed(self._last_read, self._read_scope)
        pending = self.pending_board
        if pending is not None and (pending not in snap.boards or self.holds(pending)):
            self.pending_board = None
            if pending in snap.boards:
                self.board_id = pending
        self._take_prepared(snap, message.prepared)
        self._failing_since = None
        self.banner = None
        self._loaded()
        self.rescope()

    @on(StoreFailed)
    def _store_failed(self, message: StoreFailed) -> None:
        self._scopes.pop(message.generation, None)
        if self._current(message.generation):
            self._failed(message.error, message.missing)

    def _failed(self, error: str, missing: bool) -> None:
        if self._failing_since is None:
            self._failing_since = self.now()
        since = self._failing_since.strftime("%H:%M")
        if self.snapshot is None:
            self.banner = None if missing else error
        else:
            self.banner = f"⚠ Since {since}: {error} Showing the last good data."
        self.banner_info = False
        self._loaded()

    def _pick_board(self, snap: Snapshot) -> int | None:
        if self.board_name:
            try:
                return snap.board_named(self.board_name).id
            except StoreError:
                self.notify(
                    f"No board named {self.board_name!r}; showing the first board.",
                    severity="warning",
                )
        return snap.default_board().id if snap.boards else None

    def store_missing(self) -> bool:
        """Is there no store yet? A database that cannot be reached is not "missing": its
        error shows in the banner instead."""
        try:
            return not self.store.exists()
        except StoreError:
            return False

    def empty_message(self) -> str:
        path = str(self.store)  # a database: its URL, no password
        if self.snapshot is None and self.store_missing():
            return (
                f"No store at {path} yet.\n\nCreate one from a shell and this board fills in "
                f"by itself:\n  teamboard --store {path} init --demo   (sample data)\n"
                f"  teamboard --store {path} init          (empty)"
            )
        if self.snapshot is None:
            return "Loading…" if self.banner is None else self.banner
        if self.board_id is not None and not self.holds(self.board_id):
            return "Loading…"  # a database: the board just shown is on its way
        return (
            f"The store {path} has no board yet. Add one:\n"
            f"  teamboard --store {path} board add NAME"
        )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notice is shown literally, whoever asks (`markup` is ignored).

        Most notices carry store text (a KPI's name, an action's title, an error that echoes
        what was typed): `[/]` in a name must not crash the app, nor `[@click=app.quit]` become
        a link, nor an escape sequence reach the terminal.
        """
        super().notify(
            printable(message),
            title=printable(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # --- read-only ---------------------------------------------------------------------------

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """A read-only app refuses the write keys before any form opens (see `read_only`)."""
        if self.read_only is not None:
            space, name, _ = parse_action(action) if isinstance(action, str) else action
            target = self if space == "app" or default_namespace is None else default_namespace
            on = self.screen if space == "screen" else target
            if writes(on, name, minutes_kept=self.as_of is None):
                self.refuse_write()
                return True
        return await super().run_action(action, default_namespace, namespaces)

    def _check_action_state(self, action: str, default_namespace: DOMNode) -> bool | None:
        """A read-only app leaves its write keys out of the footer (they would only refuse)."""
        if self.read_only is not None:
            space, name, _ = parse_action(action)
            on = self if space == "app" else default_namespace
            if writes(on, name, minutes_kept=self.as_of is None):
                return False
        return super()._check_action_state(action, default_namespace)

    def refuse_write(self) -> None:
        self.notify(refusal(self.read_only or "this board"), severity="warning")

    # --- boards ----------------------------------------------------------------------------

    def boards_in_order(self) -> list[int]:
        """Department boards first, each followed by its teams (the KPI tree, depth first).

        A loop rather than recursion: a hand-made tree may be thousands of levels deep.
        """
        snap = self.snapshot
        if snap is None:
            return []
        children: dict[int | None, list[int]] = {}
        for b in snap.boards.values():
            parent = b.parent if b.parent in snap.boards else None
            children.setdefault(parent, []).append(b.id)
        order: list[int] = []
        stack = sorted(children.get(None, []), reverse=True)
        while stack:
            board = stack.pop()
            order.append(board)
            stack.extend(sorted(children.get(board, []), reverse=True))
        return order

    def board_title(self) -> str:
        snap = self.snapshot
        if snap is None or self.board_id is None:
            return "teamboard"
        names: list[str] = []
        current: int | None = self.board_id
        while current is not None and current in snap.boards and len(names) < 8:
            names.append(snap.boards[current].name)
            current = snap.boards[current].parent
        return " › ".join(reversed(names))

    def board_position(self) -> str:
        order = self.boards_in_order()
        if len(order) < 2 or self.board_id not in order:
            return ""
        return f"board {order.index(self.board_id) + 1} of {len(order)}"

    def cycle_board(self, step: int) -> None:
        order = self.boards_in_order()
        here = self.pending_board if self.pending_board is not None else self.board_id
        if len(order) < 2 or here is None:
            return
        i = order.index(here) if here in order else 0
        self.show_board(order[(i + step) % len(order)])

    def show_board(self, board_id: int) -> None:
        """Show `board_id`; on a database whose last read does not hold it, read it first and
        keep the board on screen until it comes (a wall never shows "Loading…" between two)."""
        if not self.holds(board_id):
            self.pending_board = board_id
            self.request_reload()
            return
        self.pending_board = None
        self.board_id = board_id
        self.data_changed.publish(None)
        self.rescope()

    def rescope(self) -> None:
        """A database: read again when what is shown needs rows the last read left out (another
        board, the tree, a KPI's whole history). A file: never (it was read whole)."""
        want = shown.wanted(self)
        have, read = self._read_scope, self._last_read
        if want and have and read is not None and not have.covers(want, read):
            self.request_reload()

    def holds(self, board_id: int) -> bool:
        """Does the snapshot hold all that `board_id`'s views read? (Not yet, on a database,
        right after the board on screen changed: its read is on the way.)"""
        return self._whole_boards is None or board_id in self._whole_boards

    # --- views: the rules run once per board per load (and per day) ----------------------

    def views(self, board_id: int | None = None) -> BoardView | None:
        """The views of `board_id` (the board on screen when None), as of the last load."""
        snap = self.snapshot
        board_id = self.board_id if board_id is None else board_id
        if snap is None or board_id is None or board_id not in snap.boards:
            return None
        if not self.holds(board_id):
            return None
        return self._views.board(snap, board_id, self.view_day(), self.moment())

    def view_of(self, kpi_id: int | None) -> KpiView | None:
        """One KPI's view, from its board's; None when it is archived or gone."""
        snap = self.snapshot
        if snap is None:
            return None
        return self._views.kpi(snap, kpi_id, self.view_day(), self.moment())

    def tiers(self, board_id: int | None = None) -> TierView | None:
        """The board's roll-up tiles, escalations and review line, as of the last load."""
        snap = self.snapshot
        board_id = self.board_id if board_id is None else board_id
        if snap is None or board_id is None or board_id not in snap.boards:
            return None
        if not self.holds(board_id):
            return None
        return self._views.tiers(snap, board_id, self.view_day(), self.moment())

    def settled(self) -> bool:
        """No read running or due, and no write in flight: what a test waits on before it
        looks, with a deadline."""
        return (
            not self._loading
            and not self._again
            and not self._views_pending
            and not flows.pending(self)
        )

    # --- screens ---------------------------------------------------------------------------

    def open_detail(self, kpi_id: int) -> None:
        self.push_screen(DetailScreen(kpi_id))
        self.rescope()

    def action_help(self) -> None:
        """`?`: every key of the screen on top, and the legend."""
        if isinstance(self.screen, HelpScreen):
            return
        where = {BoardScreen: "the board", DetailScreen: "a KPI's detail",
                 HuddleScreen: "the huddle"}.get(type(self.screen), self.screen.__class__.__name__)
        self.push_screen(HelpScreen(key_rows(self.screen), where))

    def action_undo(self) -> None:
        flows.undo(self)

    def start_huddle(self) -> None:
        if self.read_only is not None:  # from the palette: a huddle writes its minutes
            self.refuse_write()
            return
        if self.board_id is not None:
            self.push_screen(HuddleScreen(self.board_id, self.huddle_minutes))
            self.rescope()

    def open_tree(self) -> None:
        if not isinstance(self.screen, TreeScreen):
            self.push_screen(TreeScreen())
            self.rescope()

    def review_board(self) -> None:
        flows.review(self, self.board_id)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Next board", "Show the next board in the KPI tree", lambda: self.cycle_board(1)
        )
        yield SystemCommand("Huddle", "Step through the red KPIs with the team", self.start_huddle)
        yield SystemCommand(
            "Leader's review", "Record that you looked at this board, and what you asked",
            self.review_board,
        )

