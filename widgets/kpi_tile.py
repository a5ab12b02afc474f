"""One KPI on the board: status by colour, glyph and word; value, target, trend and flags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from textual import events, getters
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
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

STATUS_CLASSES = {s: f"-{s.value}" for s in Status}
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
    KpiTile:focus {{ border: heavy $accent; background: $boost; }}
    KpiTile > Horizontal {{ height: 1; }}
    KpiTile Label {{ width: 1fr; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }}
    KpiTile .name {{ text-style: bold; }}
    KpiTile .status {{ width: {STATUS_WIDTH}; text-align: right; text-style: bold; }}
    KpiTile .target, KpiTile .meta {{ color: $text-muted; }}
    KpiTile .flags {{ color: $error; text-style: bold; }}
    KpiTile TrendSpark {{ height: 1; margin-top: 0; }}
    KpiTile.-green {{ border: round $success; }}
    KpiTile.-green .status, KpiTile.-green .value {{ color: $success; }}
    KpiTile.-amber {{ border: round $warning; }}
    KpiTile.-amber .status, KpiTile.-amber .value {{ color: $warning; }}
    KpiTile.-red {{ border: round $error; }}
    KpiTile.-red .status, KpiTile.-red .value {{ color: $error; }}
    KpiTile.-stale .status, KpiTile.-no-data .status {{ color: $text-muted; }}
    KpiTile.-stale .value {{ color: $text-muted; text-style: italic; }}
    KpiTile.-green:focus, KpiTile.-amber:focus, KpiTile.-red:focus,
    KpiTile.-stale:focus, KpiTile.-no-data:focus {{ border: heavy $accent; }}
    """
    """Every line is one row whatever it says (a long one ends in …; the detail shows it
    whole), the flags' row is there when empty, and the status has the width of the longest:
    a tile keeps its shape, so a write repaints its labels and never lays the screen out again
    (Textual lays out the whole screen, twice, when a widget's size changes), and a KPI turning
    red does not push the tiles below it down the wall."""

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
        self._draw()

    def watch_view(self) -> None:
        self._draw()

    status_classes: ClassVar[dict[Status, str]] = STATUS_CLASSES

    def _changed(self) -> tuple[Status, TileTexts, SparkData] | None:
        """What the view draws, when it differs from what the tile shows; then the tile is
        restyled for its status (once, not once per class) and its name and status set. None:
        nothing to draw."""
        view = self.view
        if view is None or not self.children:
            return None
        t = texts_of(view)
        drawn = (view.status, t, spark_data(view.spark(), view.benchmark, view.met, view.amber))
        if drawn == self._drawn:
            return None
        self._drawn = drawn
        self.update_classes({c: s is view.status for s, c in self.status_classes.items()})
        show(self.name_label, literal(t.name))
        show(self.status_label, literal(t.status))
        return drawn

    def _draw(self) -> None:
        """Set what differs from what the tile shows. A reload brings a new view for every KPI
        (evaluated at a new instant), mostly drawing the same: a label set again is laid out
        and drawn again (`widgets.redraw`)."""
        drawn = self._changed()
        if drawn is None:
            return
        t = drawn[1]
        show(self.value_label, value_line(t))
        show(self.target_label, literal(t.target))
        self.spark.data = drawn[2]
        show(self.meta_label, literal(t.meta))
        show(self.flags_label, literal("  ".join(t.flags)))


def value_line(t: TileTexts) -> Content:
    """`93.1 %`: the value (in the status's colour, from the stylesheet) and its unit muted;
    store text as it is (`literal`)."""
    return Content.assemble(
        literal(t.value).stylize("bold"), " ", literal(t.unit).stylize("$text-muted")
    )
