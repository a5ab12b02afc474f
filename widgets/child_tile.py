"""One tile per child board on a board that has them (the roll-up): its counts by status, what
needs a leader's attention, its last huddle and review, its health. Enter or a click opens it.

The tile draws a `ChildCard` (lines already worded by `store.present` through `tui`); it runs
no rule and never reads the store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from textual import events, getters
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label

from store.model import Status
from store.present import STATUS_GLYPH, STATUS_WORD

from .literal import literal
from .redraw import show

COUNTED = (Status.GREEN, Status.AMBER, Status.RED, Status.STALE)
TILE_WIDTH = 40  # "✔ 3 green ▲ 1 amber ✖ 2 red ? 1 stale" and a border


@dataclass(frozen=True)
class ChildCard:
    """What one child board's tile says.

    `status` colours the border (the worst of its KPIs, or of the boards under it); `alerts`
    are what a leader should ask about (red, bold); `facts` the rest (muted).
    """

    board_id: int
    name: str
    status: Status
    counts: dict[Status, int] = field(default_factory=dict)
    alerts: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()


class ChildTile(Vertical, can_focus=True):
    """A child board's roll-up; set `card` to update it in place (focus survives)."""

    DEFAULT_CSS = """
    ChildTile {
        height: auto;
        border: round $panel-lighten-2;
        border-title-style: bold;
        padding: 0 1;
        background: $surface;
    }
    ChildTile:focus { border: heavy $accent; background: $boost; }
    ChildTile > Horizontal { height: auto; }
    ChildTile .name { width: 1fr; text-style: bold; }
    ChildTile .verdict { width: auto; text-style: bold; }
    ChildTile .counts { width: 1fr; }
    ChildTile .alerts { color: $error; text-style: bold; width: 1fr; }
    ChildTile .alerts.-empty { display: none; }
    ChildTile .facts { color: $text-muted; width: 1fr; }
    ChildTile.-green { border: round $success; }
    ChildTile.-green .verdict { color: $success; }
    ChildTile.-amber { border: round $warning; }
    ChildTile.-amber .verdict { color: $warning; }
    ChildTile.-red { border: round $error; }
    ChildTile.-red .verdict { color: $error; }
    ChildTile.-stale .verdict, ChildTile.-no-data .verdict { color: $text-muted; }
    ChildTile.-green:focus, ChildTile.-amber:focus, ChildTile.-red:focus,
    ChildTile.-stale:focus, ChildTile.-no-data:focus { border: heavy $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open board"),
    ]

    class Opened(Message):
        """Someone asked to see this child board."""

        def __init__(self, board_id: int) -> None:
            super().__init__()
            self.board_id = board_id

    card: reactive[ChildCard | None] = reactive(None, init=False, repaint=False)

    name_label = getters.query_one(".name", Label)
    verdict_label = getters.query_one(".verdict", Label)
    counts_label = getters.query_one(".counts", Label)
    alerts_label = getters.query_one(".alerts", Label)
    facts_label = getters.query_one(".facts", Label)

    def __init__(self, card: ChildCard, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(ChildTile.card, card)

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(classes="name")
            yield Label(classes="verdict")
        yield Label(classes="counts")
        yield Label(classes="alerts")
        yield Label(classes="facts")

    def on_mount(self) -> None:
        self._draw()

    def watch_card(self) -> None:
        self._draw()

    def _draw(self) -> None:
        card = self.card
        if card is None or not self.children:
            return
        self.update_classes({f"-{status.value}": status is card.status for status in Status})
        show(self.name_label, literal(card.name))  # only what changed (widgets.redraw)
        show(self.verdict_label, f"{STATUS_GLYPH[card.status]} {STATUS_WORD[card.status]}")
        counts = (f"{STATUS_GLYPH[s]} {card.counts.get(s, 0)} {STATUS_WORD[s]}" for s in COUNTED)
        show(self.counts_label, "  ".join(counts))
        show(self.alerts_label, literal("\n".join(card.alerts)))
        self.alerts_label.set_class(not card.alerts, "-empty")
        show(self.facts_label, literal("\n".join(card.facts)))

    def action_open(self) -> None:
        if self.card is not None:
            self.post_message(self.Opened(self.card.board_id))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.focus()
        self.action_open()


class ChildTiles(Vertical):
    """The roll-up: a title and a grid of `ChildTile`s that reflows with its width. Hidden when
    the board has no child boards. Arrow keys move between the tiles."""

    DEFAULT_CSS = """
    ChildTiles { height: auto; display: none; }
    ChildTiles.-shown { display: block; }
    ChildTiles .rollup-title { text-style: bold; padding: 1 0 0 0; }
    ChildTiles Grid { layout: grid; grid-size: 2; grid-gutter: 0 1; grid-rows: auto;
                      height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1, 0)", show=False),
        Binding("right", "step(1, 0)", show=False),
        Binding("up", "step(0, -1)", show=False),
        Binding("down", "step(0, 1)", show=False),
    ]

    cards: reactive[tuple[ChildCard, ...]] = reactive((), init=False, repaint=False)
    title: reactive[str] = reactive("", init=False, repaint=False)

    grid = getters.query_one(Grid)
    title_label = getters.query_one(".rollup-title", Label)

    def compose(self) -> ComposeResult:
        yield Label(classes="rollup-title")
        yield Grid()

    def tiles(self) -> list[ChildTile]:
        return list(self.grid.query_children(ChildTile))

    async def watch_cards(self, cards: tuple[ChildCard, ...]) -> None:
        self.set_class(bool(cards), "-shown")
        tiles = {t.id: t for t in self.tiles()}
        wanted = [f"child-{c.board_id}" for c in cards]
        if list(tiles) != wanted:
            await self.grid.remove_children()
            await self.grid.mount_all(ChildTile(c, id=f"child-{c.board_id}") for c in cards)
        else:
            for c in cards:
                tiles[f"child-{c.board_id}"].card = c
        self._reflow()

    def watch_title(self, title: str) -> None:
        show(self.title_label, literal(title))

    def on_resize(self) -> None:
        self._reflow()

    def _reflow(self) -> None:
        n = len(self.cards)
        most = max(1, self.size.width // TILE_WIDTH)
        rows = math.ceil(n / most) if n else 1
        # At least two columns where they fit: a lone child is a tile, not a banner.
        self.grid.styles.grid_size_columns = max(math.ceil(n / rows) if n else 1, min(most, 2))

    def action_step(self, dx: int, dy: int) -> None:
        tiles = self.tiles()
        focused = self.screen.focused
        if not tiles or focused not in tiles:
            return
        assert isinstance(focused, ChildTile)
        cols = int(self.grid.styles.grid_size_columns or 1)
        i = tiles.index(focused) + dx + dy * cols
        if 0 <= i < len(tiles):
            tiles[i].focus()
        elif dy < 0:
            self.screen.focus_previous()
        elif dy > 0:
            self.screen.focus_next()
