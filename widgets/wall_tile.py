"""One KPI on a wall board: laid out for the size it gets, the most important things biggest.

The order of importance (the huddle's): the status (glyph and word), the value, the KPI's name,
the flags; then the target and variance, the trend, owner and actions; the sparkline last. A
tile first gives up its sparkline, then the big letters (name, then status and value), then
the meta line; the status, the value, the name and every flag are never hidden. `plan` makes the
choice from the texts and the tile's size alone, so it tests without an app, and the board
uses it to pick the number of columns that shows the most.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from textual import getters
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.types import EdgeType
from textual.widgets import Label

from store.model import Status
from store.rules import KpiView

from .big_text import BigText, rows_of, width_of, wrap_big
from .kpi_tile import KpiTile, border_colour, texts_of
from .kpi_tile import TileTexts as TileTexts  # its home was here: tests import it from here
from .literal import literal
from .redraw import show
from .trend_spark import TrendSpark

STATUS_CLASSES = {s: f"-{s.value.replace(' ', '-')}" for s in Status}
VALUE_WIDTH = 10


def big_value(value: str) -> str:
    """The value as the big digits draw it: ASCII minus, `-` for none, no `≈` (beside the unit)."""
    return value.lstrip("≈").replace("−", "-").replace("–", "-")


Style = tuple[int, int, bool, bool, bool, bool]


@dataclass(frozen=True)
class Plan:
    """Which form each part takes in a tile of one size, and the rows left for the sparkline.

    A scale of 0 is ordinary text; 1 and 2 are the big font's (3 and 5 rows tall).
    """

    name_big: tuple[str, ...] = ()  # the name's lines in the big font; () draws it small
    status_scale: int = 0
    value_scale: int = 0
    stacked: bool = False  # the big status and the big value on rows of their own
    status_own_row: bool = False  # a small status on its own row (beside the name it won't fit)
    target: bool = True
    target_inline: bool = False  # the target beside a small value, on its row
    meta: bool = True
    flags_joined: bool = False  # every flag on one row instead of one row each
    flags_big: tuple[tuple[str, ...], ...] = ()  # each flag's lines in the big font, or ()
    spark: int = 0
    fits: bool = True  # False only when even the last resort needs more rows than there are

    @property
    def style(self) -> Style:
        """What the tiles of one wall share: the sizes of the status, value and name, and
        which lines show (the flags' form and the sparkline's height differ by tile)."""
        return (
            self.status_scale,
            self.value_scale,
            self.stacked,
            bool(self.name_big),
            self.target,
            self.meta,
        )

    @property
    def score(self) -> float:
        """How much of the tile reads from afar: big status and value first, the trend line
        (owner, actions) and the target next, then a big name; the sparkline adds less than
        any line, so it is the first to shrink."""
        return (
            {0: 0, 1: 5, 2: 8}[self.status_scale]
            + {0: 0, 1: 4, 2: 7}[self.value_scale]
            + (4 if self.name_big else 0)
            - (0.5 if self.stacked else 0)
            + (3 if self.target else 0)
            + (5 if self.meta else 0)
            + (0 if self.flags_joined else 1)
            + (3 if self.flags_big else 0)
            + min(self.spark, 9) / 10
            - (100 if not self.fits else 0)
        )


HEADLINES = (
    (2, 2, False),
    (2, 2, True),
    (1, 1, False),
    (1, 1, True),
    (0, 1, False),  # a narrow tile: the value big, the status word small (its glyph and colour)
    (0, 0, False),
)  # (status scale, value scale, stacked): the status never smaller than the value but there


MIN_WIDTH = 20  # a tile narrower than this would wrap its name and flags to shreds


def rows_for(text: str, width: int) -> int:
    """Rows a wrapped line of `text` takes at `width` (a word longer than a row breaks)."""
    return max(1, math.ceil(len(text) / max(1, width)))


def plan(t: TileTexts, width: int, height: int, style: Style | None = None) -> Plan:
    """The best layout of `t` for `width` × `height` cells (the tile's content): the highest
    `Plan.score` that fits, the sparkline getting the rows left over. The name and the flags
    wrap rather than being cut; the value is never cut (a layout that would is not taken).

    With `style` (the board's choice for all its tiles, see `shared_style`), the best plan of
    that style when there is one, so the tiles of a wall look alike."""
    found = plans(t, width, height)
    if not found:
        pair = len(t.name) + 2 + len(t.status) <= width
        return Plan(status_own_row=not pair, meta=False, flags_joined=True, fits=False)
    alike = [p for p in found if p.style == style] if style is not None else []
    return max(alike or found, key=lambda p: p.score)


def shared_style(texts: list[TileTexts], width: int, height: int) -> tuple[Style | None, float]:
    """The style every tile of this size can take that shows the most in all, and that total
    (the board uses it to pick its number of columns); None when no style suits every tile."""
    by_style: dict[Style, list[float]] = {}
    for t in texts:
        best: dict[Style, float] = {}
        for p in plans(t, width, height):
            best[p.style] = max(best.get(p.style, -math.inf), p.score)
        for style, score in best.items():
            by_style.setdefault(style, []).append(score)
    common = {s: sum(v) for s, v in by_style.items() if len(v) == len(texts)}
    if not common:
        return None, sum(plan(t, width, height).score for t in texts)
    style = max(common, key=lambda s: common[s])
    return style, common[style]


@dataclass(frozen=True)
class Shape:
    """What `plans` reads of a tile's texts: a value of the same widths (1,000 → 1,001) or
    another target of the same length plans alike, so the wall does not plan again."""

    name: str
    status: str
    flags: tuple[str, ...]
    unit: str
    value_len: int
    approx: bool  # "≈1.2e6": the ≈ goes beside the unit
    value_big: tuple[int, int]  # the big value's width at scales 1 and 2
    target_len: int


def shape_of(t: TileTexts) -> Shape:
    value = big_value(t.value)
    return Shape(t.name, t.status, t.flags, t.unit, len(t.value), t.value.startswith("≈"),
                 (width_of(value, 1), width_of(value, 2)), len(t.target))


def plans(t: TileTexts, width: int, height: int) -> tuple[Plan, ...]:
    """Every layout of `t` that fits `width` × `height`. Remembered by shape: the board picks
    its columns by planning every tile at every column count (`BoardScreen._wall_columns`),
    about 20 ms a reload at 7 tiles when each plan was made afresh."""
    return _plans(shape_of(t), width, height)


@functools.lru_cache(maxsize=4096)
def _plans(t: Shape, width: int, height: int) -> tuple[Plan, ...]:
    if width < MIN_WIDTH or height <= 0:
        return ()
    unit = len(t.unit) + (2 if t.approx else 0)
    status = t.status.upper()
    name_big = wrap_big(t.name, width, 2)
    wrapped = [wrap_big(f.removeprefix("⚑ ").upper(), width - 2, 2) for f in t.flags]
    flags_big = [w for w in wrapped if w is not None] if all(wrapped) and t.flags else []
    small_value_fits = t.value_len + 1 + len(t.unit) <= width
    found: list[Plan] = []
    for s_scale, v_scale, stacked in HEADLINES:
        unit_w = 1 + unit if unit else 0
        value_w = t.value_big[v_scale - 1] + unit_w if v_scale else 0
        status_w = width_of(status, s_scale) if s_scale else 0
        if stacked and max(status_w, value_w) > width:
            continue
        if not stacked and status_w + (5 if s_scale else 0) + value_w > width:
            continue
        if not v_scale and not small_value_fits:
            continue
        head = (
            (rows_of(s_scale) * 2 + 1 if stacked else rows_of(s_scale))
            if s_scale
            else (rows_of(v_scale) if v_scale else 0)
        )
        small_status = s_scale == 0
        pair = len(t.name) + 2 + len(t.status) <= width
        for big_name in (True, False):
            if big_name and not name_big:
                continue
            if big_name:
                names = rows_of(1) * len(name_big or ()) + (1 if small_status else 0)
            elif pair or not small_status:
                names = rows_for(t.name, width)
            else:
                names = rows_for(t.name, width) + 1
            own_row = small_status and (big_name or not pair)
            # A small value shares its row with the target when both fit, else the target
            # takes a row of its own, or is left out when there is no room.
            inline = not v_scale and t.value_len + 1 + len(t.unit) + 2 + t.target_len <= width
            value_row = 0 if v_scale else 1
            for big_flags, meta, target, joined in (
                (True, True, True, False),
                (False, True, True, False),
                (False, False, True, False),
                (False, False, False, False),
                (False, False, False, True),
            ):
                if big_flags and not flags_big:
                    continue
                if big_flags:
                    flags = sum(rows_of(1) * len(lines) + 1 for lines in flags_big)
                elif joined:
                    flags = rows_for(" ".join(t.flags) + "  ", width) if t.flags else 0
                else:
                    flags = sum(rows_for(f + "  ", width) for f in t.flags)
                target_rows = 1 if target and not inline else 0
                rows = names + head + value_row + target_rows + flags + meta
                least = 2 if (s_scale or v_scale or big_name) else 0
                if rows + least > height:
                    continue
                p = Plan(
                    name_big=tuple(name_big or ()) if big_name else (),
                    status_scale=s_scale,
                    value_scale=v_scale,
                    stacked=stacked,
                    status_own_row=own_row,
                    target=target or inline,
                    target_inline=inline,
                    meta=meta,
                    flags_joined=joined,
                    flags_big=tuple(tuple(lines) for lines in flags_big) if big_flags else (),
                    spark=height - rows,
                )
                found.append(p)
    return tuple(found)


class WallTile(KpiTile):
    """A wall tile for one `KpiView`; set `view` to update it in place. A `KpiTile` to the
    board's keys (focus, Enter, `a`), drawn its own way."""

    DEFAULT_CSS = """
    WallTile {
        height: 100%;
        border: round $panel-lighten-2;
        padding: 0 1;
        background: $surface;
    }
    WallTile Label { width: 1fr; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    WallTile > Horizontal { height: auto; }
    WallTile .name { text-style: bold; }
    WallTile .status { width: auto; text-style: bold; padding-left: 2; }
    WallTile .status-row { text-style: bold; }
    WallTile #status-big { margin-right: 5; }
    WallTile #value-line { margin-top: 1; }
    WallTile #name-big { margin-bottom: 0; }
    WallTile .unit { width: auto; padding-left: 1; color: $text-muted; }
    WallTile .value { width: auto; text-style: bold; padding-right: 2; }
    WallTile .target, WallTile .meta { color: $text-muted; }
    WallTile #small-row .target { padding-left: 2; }
    WallTile .flag {
        color: $background; background: $error; text-style: bold;
        width: auto; max-width: 100%; height: auto; text-wrap: wrap;
    }
    WallTile .flag-big { color: $background; background: $error; padding: 0 1; margin-bottom: 1; }
    WallTile #name-row .name { height: auto; text-wrap: wrap; }
    WallTile TrendSpark { height: 1fr; margin: 0; }
    WallTile #flags { height: auto; }
    /* The status's colour on the parts that show it: classes on those six widgets, not on
       the tile, whose class would restyle all its widgets (the border is set inline). */
    WallTile .-green { color: $success; }
    WallTile .-amber { color: $warning; }
    WallTile .-red { color: $error; }
    WallTile .-stale, WallTile .status.-no-data, WallTile .status-row.-no-data {
        color: $text-muted;
    }
    WallTile .value.-stale { text-style: italic; }
    """

    name_big = getters.query_one("#name-big", BigText)
    name_row = getters.query_one("#name-row", Horizontal)
    name_label = getters.query_one("#name-row .name", Label)
    status_label = getters.query_one("#name-row .status", Label)
    status_row = getters.query_one("#status-row", Label)
    headline = getters.query_one("#headline", Horizontal)
    status_big = getters.query_one("#status-big", BigText)
    value_big = getters.query_one("#value-big", BigText)
    unit_big = getters.query_one("#headline .unit", Label)
    value_line = getters.query_one("#value-line", Horizontal)
    value_big2 = getters.query_one("#value-big2", BigText)
    unit_big2 = getters.query_one("#value-line .unit", Label)
    small_row = getters.query_one("#small-row", Horizontal)
    value_small = getters.query_one("#small-row .value", Label)
    unit_small = getters.query_one("#small-row .unit", Label)
    target_inline = getters.query_one("#small-row .target", Label)
    target_label = getters.query_one("#target", Label)
    flags_box = getters.query_one("#flags", Vertical)
    meta_label = getters.query_one("#meta", Label)
    spark = getters.query_one(TrendSpark)

    def __init__(self, view: KpiView, id: str | None = None) -> None:
        super().__init__(view, id=id)
        self.plan = Plan()
        self.style: Style | None = None
        """Set by the board: the layout style its tiles share (see `shared_style`)."""
        self._flags_shown: tuple[object, tuple[str, ...]] | None = None

    def compose(self) -> ComposeResult:
        yield BigText(id="name-big")
        with Horizontal(id="name-row"):
            yield Label(classes="name")
            yield Label(classes="status")
        yield Label(id="status-row", classes="status-row")
        with Horizontal(id="headline"):
            yield BigText(id="status-big")
            yield BigText(id="value-big", classes="value-big")
            yield Label(classes="unit")
        with Horizontal(id="value-line"):
            yield BigText(id="value-big2", classes="value-big")
            yield Label(classes="unit")
        with Horizontal(id="small-row"):
            yield Label(classes="value")
            yield Label(classes="unit")
            yield Label(classes="target")
        yield Label(id="target", classes="target")
        yield Vertical(id="flags")
        yield Label(id="meta", classes="meta")
        yield TrendSpark()

    def on_mount(self) -> None:
        self._draw()

    def watch_view(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._arrange()

    def share(self, style: Style | None) -> None:
        if style != self.style:
            self.style = style
            self._arrange()

    def _restyle(self, status: Status) -> None:
        """The border (`frame`), and the status's class on the six widgets that show its
        colour (the stylesheet's)."""
        super()._restyle(status)
        classes = {c: s is status for s, c in STATUS_CLASSES.items()}
        for widget in (self.status_label, self.status_row, self.status_big, self.value_small,
                       self.value_big, self.value_big2):
            widget.update_classes(classes)

    def frame(self, status: Status | None, focused: bool) -> tuple[EdgeType, str]:
        """In the status's colour, focused or not (on a wall the border stays the status);
        heavy when red or focused."""
        return ("heavy" if focused or status is Status.RED else "round"), border_colour(status)

    def texts(self) -> TileTexts | None:
        """What the tile says: as last drawn once composed (every new view is drawn then), so
        the board choosing its columns after each reload does not format every KPI again."""
        if self._drawn is not None and self.children:
            return self._drawn[1]
        return texts_of(self.view) if self.view is not None else None

    def _draw(self) -> None:
        """Set what differs from what the tile shows (see `KpiTile._draw`)."""
        drawn = self._changed()
        if drawn is None:
            return
        t = drawn[1]
        unit = ("≈ " if t.value.startswith("≈") else "") + t.unit
        show(self.name_label, literal(t.name))
        show(self.status_label, literal(t.status))
        show(self.status_row, literal(t.status))
        self.status_big.lines = (t.status.upper(),)
        self.value_big.lines = self.value_big2.lines = (big_value(t.value),)
        show(self.unit_big, literal(unit))
        show(self.unit_big2, literal(unit))
        show(self.value_small, literal(t.value))
        show(self.unit_small, literal(t.unit))
        show(self.target_inline, literal(t.target))
        show(self.target_label, literal(t.target))
        show(self.meta_label, literal(t.meta))
        self.spark.data = drawn[2]
        self._arrange()

    def _arrange(self) -> None:
        """Show each part in the form the plan picks for the tile's current size."""
        t = self.texts()
        if t is None or not self.children:
            return
        size = self.content_size
        p = plan(t, size.width, size.height, self.style) if size.area else Plan()
        self.plan = p
        big_value_shown = p.value_scale > 0
        self.name_big.lines = p.name_big
        self.name_big.display = bool(p.name_big)
        self.name_row.display = not p.name_big
        small_status = p.status_scale == 0
        self.status_label.display = small_status and not p.status_own_row
        self.status_row.display = small_status and p.status_own_row
        self.headline.display = p.status_scale > 0 or big_value_shown
        self.status_big.display = p.status_scale > 0
        self.status_big.scale = max(1, p.status_scale)
        same_row = big_value_shown and not p.stacked
        for widget in (self.value_big, self.unit_big):
            widget.display = same_row
        self.value_big.scale = self.value_big2.scale = max(1, p.value_scale)
        self.value_line.display = big_value_shown and p.stacked
        self.small_row.display = not big_value_shown
        self.target_inline.display = p.target_inline
        self.target_label.display = p.target and not p.target_inline
        self.meta_label.display = p.meta
        self.spark.display = p.spark > 0
        lines = (" ".join(t.flags),) if p.flags_joined and t.flags else t.flags
        box = self.flags_box
        wanted = (p.flags_big, lines)
        if self._flags_shown != wanted:
            self._flags_shown = wanted
            box.remove_children()
            if p.flags_big:
                box.mount_all(BigText(classes="flag-big").set_lines(ls) for ls in p.flags_big)
            else:
                box.mount_all(Label(literal(f" {f} "), classes="flag") for f in lines)
        box.display = bool(lines)
