"""The board: header, KPI tiles in a grid that reflows with the terminal, and the action list."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from store import present
from store.model import Status
from store.rules import Flag, KpiView
from widgets.action_table import ActionList, ActionRow, ActionTable
from widgets.banner import Banner
from widgets.board_header import BoardHeader, HeaderData
from widgets.child_tile import ChildTile, ChildTiles
from widgets.escalation_table import EscalationBox, EscalationTable
from widgets.kpi_tile import KpiTile
from widgets.literal import literal
from widgets.redraw import show
from widgets.wall_tile import Style, WallTile, shape_of, shared_style

from . import flows
from .action_screen import ActionScreen
from .tier_lines import TierView

if TYPE_CHECKING:
    from .app import TeamboardApp

TILE_WIDTH = 34  # narrowest tile that keeps "target 1,250 min · −12.5 (−8.4%)" on a line
WALL_TILE_WIDTH = 44
WALL_GUTTER = 1  # columns between wall tiles (board.tcss)
SHORT_ROWS = 36  # below this (a laptop: 24-35 rows), the escalations get a few rows (board.tcss)
WALL_FRAME_W, WALL_FRAME_H = 4, 2  # a wall tile's border and padding (wall_tile.py)


class TileGrid(Grid):
    """The board's grid of KPI tiles; it says when its size changed."""

    class Resized(Message):
        """The grid has a new size (the wall chooses its columns for it)."""

    def on_resize(self) -> None:
        self.post_message(self.Resized())


class BoardScreen(Screen[None]):
    CSS_PATH = "board.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "detail", "Detail"),
        Binding("r", "record", "Record"),
        Binding("a", "add_action", "Action"),
        Binding("m", "move_action", "Stage"),
        Binding("d", "done_action", "Done", show=False),
        Binding("h", "huddle", "Huddle"),
        Binding("c", "calendar", "Calendar", show=False),  # in help and the palette
        Binding("b", "next_board", "Board"),
        Binding("t", "tree", "Tree", show=False),
        Binding("E", "escalate", "Raise"),  # short, so "Quit" fits 80 columns; `u` is undo
        Binding("y", "answer", "Answer", show=False),
        Binding("o", "take_over", "Take over", show=False),
        Binding("v", "review", "Review", show=False),
        Binding("up", "move(0, -1)", show=False),
        Binding("down", "move(0, 1)", show=False),
        Binding("left", "move(-1, 0)", show=False),
        Binding("right", "move(1, 0)", show=False),
    ]

    app: TeamboardApp

    header = getters.query_one(BoardHeader)
    banner = getters.query_one(Banner)
    empty = getters.query_one("#empty", Static)
    grid = getters.query_one("#tiles", TileGrid)
    actions_title = getters.query_one("#actions-title", Label)
    actions = getters.query_one(ActionTable)

    def compose(self) -> ComposeResult:
        yield BoardHeader()
        yield Banner(id="banner")
        # A wall board fits the screen and needs no scrolling; a laptop scrolls.
        with Vertical(id="body") if self.app.wall else VerticalScroll(id="body"):
            yield Static(id="empty")
            yield EscalationBox(id="escalations")
            yield TileGrid(id="tiles")
            yield ChildTiles(id="children")
            yield Label("Actions", id="actions-title")
            yield ActionTable(id="actions")
        if not self.app.wall:
            yield Footer(compact=True)

    async def on_mount(self) -> None:
        self.set_class(self.app.wall, "-wall")
        if self.app.wall:  # nobody drives a wall board: no cursor to light up a row
            self.actions.show_cursor = False
            self.query_one(EscalationTable).show_cursor = False
        self.app.data_changed.subscribe(self, lambda _: self.refresh_board())
        self.set_interval(1.0, self._tick)
        await self.refresh_board()

    def _tick(self) -> None:
        self.header.now = self.app.now()
        if self.app.as_of is not None:
            self.header.as_of = f"{present.as_of_text(self.app.as_of)} · read-only"

    def on_resize(self) -> None:
        # A laptop's few rows go to the tiles first: the escalations then scroll in less room.
        self.set_class(self.size.height < SHORT_ROWS, "-short")
        self._reflow()

    @on(TileGrid.Resized)
    def _grid_resized(self) -> None:
        """A wall's columns are chosen for the grid's size, which changes after the screen's
        and whenever the parts above or below it (escalations, actions) grow or shrink."""
        if self.app.wall:
            self._reflow()

    # --- drawing ---------------------------------------------------------------------------

    def tiles(self) -> list[KpiTile]:
        return list(self.grid.query_children(KpiTile))

    async def refresh_board(self) -> None:
        """Apply the app's views in place: tiles keep their focus, the scroll stays."""
        app = self.app
        self.banner.message, self.banner.info = app.banner, app.banner_info
        snap = app.snapshot
        self.header.change = snap.last_change if snap else None
        self._tick()
        board = app.views()
        if snap is None or app.board_id is None or board is None:
            show(self.empty, literal(app.empty_message()))
            self.empty.display = True
            return
        name = snap.boards[app.board_id].name
        self.empty.display = not board.kpis and not any(snap.children(app.board_id))
        if not board.kpis:
            show(
                self.empty,
                literal(
                    f"{name} has no KPIs yet. Add the vital few with\n"
                    f"  teamboard kpi add NAME --board {name!r} --target T"
                ),
            )
        tier = app.tiers()
        # Set once, with the review: data set twice (without it, then with it) drew it twice.
        self.header.data = HeaderData(
            app.board_title(),
            tuple(v.status for v in board.kpis),
            app.board_position(),
            review=tier.review if tier else "",
            review_overdue=tier.review_overdue if tier else False,
            late=sum(Flag.LATE in v.flags for v in board.kpis),
        )
        await self._show_tiles(board.kpis)
        if self.app.screen is self:
            self._focus_first()
        names = {k.id: k.name for k in snap.kpis.values()}
        badges = tier.badges if tier else {}
        rows = tuple(
            ActionRow(a, names.get(a.kpi, "") if a.kpi else "", badges.get(a.id, ""))
            for a in board.actions
        )
        self.actions.actions = ActionList(rows, app.view_day())
        show(self.actions_title, f"Actions ({len(rows)} open)" if rows else "Actions: none open")
        if tier is not None:
            self._show_tiers(tier)

    def _new_tile(self, view: KpiView) -> KpiTile:
        kpi_id = f"kpi-{view.kpi.id}"
        return WallTile(view, id=kpi_id) if self.app.wall else KpiTile(view, id=kpi_id)

    async def _show_tiles(self, views: tuple[KpiView, ...]) -> None:
        """Update the tiles in place; a KPI added or archived mounts or removes its tile alone.

        Remounting every tile for one more (styling, composing and laying out each again)
        stalled the UI loop for about 200 ms at 7 tiles. Only a new order remounts them all."""
        tiles = {t.id: t for t in self.tiles()}
        wanted = [f"kpi-{v.kpi.id}" for v in views]
        kept = [i for i in tiles if i in wanted]
        if not kept or kept != [i for i in wanted if i in tiles]:  # another board, or reordered
            await self._remove_tiles(list(tiles.values()))
            await self.grid.mount_all(self._new_tile(v) for v in views)
        else:
            await self._remove_tiles([t for i, t in tiles.items() if i not in wanted])
            mounts = []  # placed at once, in order; then awaited together (one await point)
            before: KpiTile | None = None
            for v in views:
                tile = tiles.get(f"kpi-{v.kpi.id}")
                if tile is None:
                    tile = self._new_tile(v)
                    if before is not None:
                        mounts.append(self.grid.mount(tile, after=before))
                    else:
                        mounts.append(self.grid.mount(tile, before=0))
                else:
                    tile.view = v
                before = tile
            for mounted in mounts:
                await mounted
        self._reflow(len(views))

    async def _remove_tiles(self, gone: list[KpiTile]) -> None:
        """Remove these tiles (awaited: a new tile may reuse an id). A focused one takes the
        focus with it, so the board chooses again as on a new load (`_focus_first`), rather
        than Textual handing it to whatever widget comes next."""
        if not gone:
            return
        if self.focused in gone:
            self.set_focus(None)
        await self.grid.remove_children(gone)

    def _reflow(self, count: int | None = None) -> None:
        n = count if count is not None else len(self.grid.children)
        if self.app.wall:
            self.grid.styles.grid_size_columns = self._wall_columns()
            return
        width = self.size.width - 2
        most = max(1, width // (WALL_TILE_WIDTH if self.app.wall else TILE_WIDTH))
        rows = math.ceil(n / most) if n else 1
        self.grid.styles.grid_size_columns = max(1, math.ceil(n / rows)) if n else 1

    def _show_tiers(self, tier: TierView) -> None:
        """The tiers on this board: escalations, child boards (the review is in the header)."""
        box = self.query_one(EscalationBox)
        box.title, box.lines = tier.escalations_title, tier.escalations
        children = self.query_one(ChildTiles)
        children.title, children.cards = tier.rollup_title, tier.cards

    _wall_choice: tuple[tuple[object, ...], int, Style | None] | None = None
    """The last shapes and size `_wall_columns` chose for, its columns and shared style."""

    def _wall_columns(self) -> int:
        """The number of columns whose tiles show the most, biggest, alike (`shared_style`)."""
        walls = [t for t in self.tiles() if isinstance(t, WallTile)]
        texts = [t for t in (tile.texts() for tile in walls) if t is not None]
        if not texts:
            return 1
        width = self.grid.size.width or self.size.width - 2
        height = self.grid.size.height or max(1, self.size.height - 10)
        # The choice depends on the texts' shapes alone: a value of the same widths, the
        # usual write, chooses as before (planning anew took 8-20 ms at 7 tiles).
        key = (tuple(shape_of(t) for t in texts), width, height)
        if self._wall_choice is not None and self._wall_choice[0] == key:
            best, best_style = self._wall_choice[1:]
        else:
            best, best_score, best_style = 1, -math.inf, None
            for cols in range(1, len(texts) + 1):
                rows = math.ceil(len(texts) / cols)
                tile_w = (width - (cols - 1) * WALL_GUTTER) // cols - WALL_FRAME_W
                tile_h = height // rows - WALL_FRAME_H
                style, score = shared_style(texts, tile_w, tile_h)
                if score > best_score:
                    best, best_score, best_style = cols, score, style
            self._wall_choice = (key, best, best_style)
        for tile in walls:
            tile.share(best_style)
        return best

    # --- keys ------------------------------------------------------------------------------

    def focused_view(self) -> KpiView | None:
        focused = self.focused
        if isinstance(focused, KpiTile):
            return focused.view
        board = self.app.views()
        return board.kpis[0] if board and board.kpis else None

    def action_move(self, dx: int, dy: int) -> None:
        tiles = self.tiles()
        if not tiles:
            return
        if not isinstance(self.focused, KpiTile):
            if isinstance(self.focused, ActionTable) and dy < 0 and self.focused.cursor_row > 0:
                self.focused.action_cursor_up()
                return
            if isinstance(self.focused, ActionTable) and dy > 0:
                self.focused.action_cursor_down()
                return
            tiles[0].focus()
            return
        cols = int(self.grid.styles.grid_size_columns or 1)
        i = tiles.index(self.focused) + dx + dy * cols
        if i >= len(tiles) and dy > 0:
            children = self.query_one(ChildTiles).tiles()  # the roll-up, then the actions
            (children[0] if children else self.actions).focus()
        elif 0 <= i < len(tiles):
            tiles[i].focus()

    def action_detail(self) -> None:
        view = self.focused_view()
        if view is not None:
            self.app.open_detail(view.kpi.id)

    def action_record(self) -> None:
        view = self.focused_view()
        if view is not None:
            flows.record(self.app, view.kpi.id)

    def action_add_action(self) -> None:
        view = self.focused_view() if isinstance(self.focused, KpiTile) else None
        flows.add_action(self.app, view.kpi.id if view else None, self.app.board_id)

    def action_move_action(self) -> None:
        if flows.refused(self.app):  # read-only: say so, whatever is selected
            return
        action = self.actions.selected_id
        if action is None:
            self.notify("No open action to move: add one with a", severity="warning")
            return
        flows.move_stage(self.app, action)

    def action_done_action(self) -> None:
        if flows.refused(self.app):
            return
        action = self.actions.selected_id
        if action is not None:
            flows.done(self.app, action)

    def action_huddle(self) -> None:
        self.app.start_huddle()

    def action_next_board(self) -> None:
        self.app.cycle_board(1)

    def action_calendar(self) -> None:
        from .calendar_screen import open_calendar

        open_calendar(self.app)

    @on(ActionTable.RowSelected)
    def _row_selected(self, event: ActionTable.RowSelected) -> None:
        """Enter (or a click on the selected row) opens the action; it never moves it on."""
        event.stop()
        action = self.actions.selected_id
        if action is not None:
            self.app.push_screen(ActionScreen(action))

    @on(KpiTile.Opened)
    def _tile_opened(self, event: KpiTile.Opened) -> None:
        """A double click on a tile opens its detail."""
        event.stop()
        self.app.open_detail(event.kpi_id)

    _focused_for: int | None = None  # the board whose tiles the focus was last placed on

    def _focus_first(self) -> None:
        """Nothing focused (the start, another board): the first red tile, else the first, so
        `a` makes an action for that KPI and its owner.

        Tiles are reused across boards, so a tile still focused after the board changed is not
        a choice: it is where the last board's focus happened to be (a child tile opened)."""
        focused = self.focused
        board = self.app.board_id
        chosen = isinstance(focused, (KpiTile, ChildTile, ActionTable)) and focused.is_attached
        if chosen and self._focused_for == board:
            return  # someone chose it (the scroll container's auto-focus does not count)
        tiles = self.tiles()
        red = [t for t in tiles if t.view is not None and t.view.status is Status.RED]
        if red or tiles:
            (red or tiles)[0].focus()
            self._focused_for = board
        elif chosen:
            self._focused_for = board

    def on_screen_resume(self) -> None:
        """Back from a screen that opened another board (the tree): focus as on a new board."""
        if self._focused_for != self.app.board_id:
            self._focus_first()

    # --- the tiers: tree, escalation, review --------------------------------------------------

    def action_tree(self) -> None:
        self.app.open_tree()

    def _escalation_selected(self) -> int | None:
        """The escalation under the cursor; the only one waiting when the table is not used."""
        table = self.query_one(EscalationTable)
        if self.focused is table and table.selected_id is not None:
            return table.selected_id
        tier = self.app.tiers()
        waiting = [e.action_id for e in tier.escalations if e.waiting] if tier else []
        inbound = [e for e in waiting if self._waits_here(e)]
        if len(inbound) == 1:
            return inbound[0]
        return table.selected_id if inbound else None

    def _waits_here(self, action_id: int) -> bool:
        snap = self.app.snapshot
        action = snap.actions.get(action_id) if snap else None
        return bool(action and action.escalation and action.escalation.to == self.app.board_id)

    def action_escalate(self) -> None:
        table = self.query_one(EscalationTable)
        if self.focused is table and table.selected_id is not None:
            flows.escalate(self.app, table.selected_id)  # on up to a board further above
            return
        action = self.actions.selected_id
        if action is None:
            self.notify("No open action to escalate: add one with a", severity="warning")
            return
        flows.escalate(self.app, action)

    def action_answer(self) -> None:
        selected = self._escalation_selected()
        if selected is None or not self._waits_here(selected):
            self.notify("No escalation waiting at this board to answer", severity="warning")
            return
        flows.answer(self.app, selected)

    def action_take_over(self) -> None:
        selected = self._escalation_selected()
        if selected is None or not self._waits_here(selected):
            self.notify("No escalation waiting at this board to take over", severity="warning")
            return
        flows.take_over(self.app, selected)

    def action_review(self) -> None:
        flows.review(self.app, self.app.board_id)

    @on(ChildTile.Opened)
    def _open_child(self, message: ChildTile.Opened) -> None:
        self.app.show_board(message.board_id)
