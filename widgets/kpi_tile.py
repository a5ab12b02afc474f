"""One KPI on the board: status by colour, glyph and word; value, target, trend and flags."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual import events, getters
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.types import EdgeType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label

from store.model import Status
from store.present import (
    STATUS_GLYPH,
    STATUS_WORD,
    benchmark_label,
    fit_num,
    flag_texts,
    trend_text,
    variance_text,
)
from store.rules import KpiView, Trend

from .literal import literal
from .redraw import show
from .trend_spark import SparkData, TrendSpark, spark_data

STATUS_COLOUR = {Status.GREEN: "success", Status.AMBER: "warning", Status.RED: "error"}
"""The theme variable a status is drawn in; the others (stale, no data) are dim."""
STATUS_WIDTH = max(cell_len(f"{STATUS_GLYPH[s]} {STATUS_WORD[s]}") for s in Status)
VALUE_WIDTH = 10  # a longer value is rounded to fit and marked ≈ (present.fit_num)


@dataclass(frozen=True)
class TileTexts:
    """What a tile says, as plain strings (store text included as it is): a tile draws again
    only when these (or its status or sparkline) changed."""

    name: str
    status: str  # glyph and word: "✖ red"
    value: str  # "94.4", "≈1.2e6", "–"
    unit: str
    target: str  # "target 98% · −3.6 (−3.7%)"
    flags: tuple[str, ...]  # "⚑ red, no action", ...
    meta: str  # "↘ worsening · 1 action · chen · leading"


def texts_of(view: KpiView) -> TileTexts:
    kpi = view.kpi
    latest = view.latest
    value = fit_num(latest.value, VALUE_WIDTH) if latest else "–"
    target = benchmark_label(view)
    var = variance_text(view)
    # Most telling first: a narrow tile ends the line in … and cuts the last part.
    parts = [trend_text(view.trend)] if view.trend is not Trend.UNKNOWN else []
    if view.open_actions:
        n = len(view.open_actions)
        parts.append(f"{n} action{'s' if n > 1 else ''}")
    if kpi.owner:
        parts.append(kpi.owner)
    parts.append(kpi.kind.value)
    return TileTexts(
        name=kpi.name,
        status=f"{STATUS_GLYPH[view.status]} {STATUS_WORD[view.status]}",
        value=value,
        unit=kpi.unit,
        target=f"{target} · {var}" if var else target,
        flags=tuple(f"⚑ {t}" for t in flag_texts(view, view.today)),
        meta=" · ".join(parts),
    )


class KpiTile(Vertical, can_focus=True):
    """A tile for one `KpiView`; set `view` to update it in place (focus and scroll survive).

    It draws what the view says: the rules ran once, when the app built the view.
    """

    DEFAULT_CSS = f"""
    KpiTile {{
        height: auto;
        border: round $panel-lighten-2;
        padding: 0 1;
        background: $surface;
    }}
    KpiTile:focus {{ background: $boost; }}
    KpiTile > Horizontal {{ height: 1; }}
    KpiTile Label {{ width: 1fr; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }}
    KpiTile .name {{ text-style: bold; }}
    KpiTile .status {{ width: {STATUS_WIDTH}; text-align: right; text-style: bold; }}
    KpiTile .target, KpiTile .meta {{ color: $text-muted; }}
    KpiTile .flags {{ color: $error; text-style: bold; }}
    KpiTile TrendSpark {{ height: 1; margin-top: 0; }}
    """
    """Every line is one row whatever it says (a long one ends in …; the detail shows it
    whole), the flags' row is there when empty, and the status has the width of the longest:
    a tile keeps its shape, so a write repaints its labels and never lays the screen out again
    (Textual lays out the whole screen, twice, when a widget's size changes), and a KPI turning
    red does not push the tiles below it down the wall.

    The status's colour is not a class on the tile either: a class there restyles the tile's
    whole subtree (`Stylesheet.update_nodes` on 9 widgets, 7 ms of a red write's 12 at 100,000
    entries). The status and the value carry it in their text, the border is set inline
    (`_paint_border`), heavy in the accent colour while the tile has focus."""

    view: reactive[KpiView | None] = reactive(None, init=False, repaint=False)
    """The labels it sets repaint themselves: a repaint of the whole tile drew them all again."""

    class Opened(Message):
        """A double click on the tile: its screen opens the detail."""

        def __init__(self, kpi_id: int) -> None:
            super().__init__()
            self.kpi_id = kpi_id

    def on_click(self, event: events.Click) -> None:
        if event.chain >= 2 and self.view is not None:
            self.post_message(self.Opened(self.view.kpi.id))

    name_label = getters.query_one(".name", Label)
    status_label = getters.query_one(".status", Label)
    value_label = getters.query_one(".value", Label)
    target_label = getters.query_one(".target", Label)
    meta_label = getters.query_one(".meta", Label)
    flags_label = getters.query_one(".flags", Label)
    spark = getters.query_one(TrendSpark)

    def __init__(self, view: KpiView, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(KpiTile.view, view)
        self._drawn: tuple[Status, TileTexts, SparkData] | None = None  # as last drawn
        self._border: tuple[str, str] = ("", "")  # as last painted: edge, colour

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(classes="name")
            yield Label(classes="status")
        yield Label(classes="value")
        yield Label(classes="target")
        yield TrendSpark()
        yield Label(classes="meta")
        yield Label(classes="flags")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self._paint_border())
        self._draw()

    def watch_view(self) -> None:
        self._draw()

    def watch_has_focus(self, has_focus: bool) -> None:
        super().watch_has_focus(has_focus)
        self._paint_border()

    def frame(self, status: Status | None, focused: bool) -> tuple[EdgeType, str]:
        """The border's edge and theme variable: round in the status's colour, heavy in the
        accent colour while focused."""
        if focused:
            return "heavy", "accent"
        return "round", border_colour(status)

    def _paint_border(self) -> None:
        """The border `frame` says, in the theme's colour, set inline: the stylesheet would
        restyle the whole tile (see the class docstring). Set only when it differs: setting
        `styles.border` repaints the tile even when nothing changed."""
        edge, name = self.frame(self._drawn[0] if self._drawn else None, self.has_focus)
        colour = self.app.theme_variables.get(name)
        if colour and (edge, colour) != self._border:
            self._border = (edge, colour)
            self.styles.border = (edge, colour)

    def _restyle(self, status: Status) -> None:
        """Show `status` in the tile's frame (a `WallTile` also sets classes)."""
        self._paint_border()

    def _changed(self) -> tuple[Status, TileTexts, SparkData] | None:
        """What the view draws, when it differs from what the tile shows; then the tile is
        restyled for its status. None: nothing to draw."""
        view = self.view
        if view is None or not self.children:
            return None
        t = texts_of(view)
        drawn = (view.status, t, spark_data(view.spark(), view.benchmark, view.met, view.amber))
        if drawn == self._drawn:
            return None
        self._drawn = drawn
        self._restyle(view.status)
        return drawn

    def _draw(self) -> None:
        """Set what differs from what the tile shows. A reload brings a new view for every KPI
        (evaluated at a new instant), mostly drawing the same: a label set again is laid out
        and drawn again (`widgets.redraw`)."""
        drawn = self._changed()
        if drawn is None:
            return
        status, t = drawn[0], drawn[1]
        show(self.name_label, literal(t.name))
        show(self.status_label, literal(t.status).stylize(status_style(status)))
        show(self.value_label, value_line(t, status))
        show(self.target_label, literal(t.target))
        self.spark.data = drawn[2]
        show(self.meta_label, literal(t.meta))
        show(self.flags_label, literal("  ".join(t.flags)))


def border_colour(status: Status | None) -> str:
    """The theme variable of a tile's border: its status's colour, or a quiet panel's."""
    return STATUS_COLOUR.get(status, "panel-lighten-2") if status is not None else "panel-lighten-2"


def status_style(status: Status) -> str:
    """The status's colour as a style of the text: a theme variable, or `dim` for stale and
    no data (a muted variable would draw white: its "auto" colour is not resolved in text)."""
    colour = STATUS_COLOUR.get(status)
    return f"${colour}" if colour else "dim"


def value_line(t: TileTexts, status: Status) -> Content:
    """`93.1 %`: the value in bold and the status's colour (dim and italic when stale, plain
    with no data), its unit dim; store text as it is (`literal`)."""
    style = "bold " + {Status.STALE: "dim italic", Status.NO_DATA: ""}.get(
        status, status_style(status))
    return Content.assemble(literal(t.value).stylize(style.strip()), " ",
                            literal(t.unit).stylize("dim"))
