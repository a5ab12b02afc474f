"""One KPI in full: the trend chart with its target steps, every entry with who and when,
and its actions."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from store import audit, plans, present
from store.model import Entry, Estimate
from store.present import num, status_text
from store.rules import KpiView, period_start
from widgets.action_table import ActionList, ActionRow, ActionTable, fit
from widgets.banner import Banner
from widgets.literal import literal, literal_text, when_local
from widgets.trend_chart import ChartData, TrendChart

from . import flows, lines
from .action_screen import ActionScreen

if TYPE_CHECKING:
    from store.snapshot import Snapshot

    from .app import TeamboardApp


class DetailScreen(Screen[None]):
    CSS_PATH = "detail.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "record", "Record"),
        Binding("a", "add_action", "Action"),
        Binding("m", "move_action", "Next stage"),
    ]

    app: TeamboardApp

    banner = getters.query_one(Banner)
    summary_title = getters.query_one("#summary .title", Label)
    numbers = getters.query_one("#numbers", Label)
    about = getters.query_one("#about", Label)
    chart = getters.query_one(TrendChart)
    entries = getters.query_one("#entries", DataTable)
    actions = getters.query_one(ActionTable)
    changes = getters.query_one("#changes", DataTable)

    def __init__(self, kpi_id: int) -> None:
        super().__init__()
        self.kpi_id = kpi_id

    def compose(self) -> ComposeResult:
        yield Banner()
        with Vertical(id="summary"):
            yield Label(classes="title")
            yield Label(id="numbers")
        yield Label(id="about")
        yield TrendChart()
        with Horizontal(id="lower"):
            with Vertical(id="entries-box"):
                yield Label("Entries (newest first)", classes="section")
                yield DataTable[Text](id="entries", cursor_type="row", zebra_stripes=True)
            with Vertical(id="kpi-actions-box"):
                yield Label("Actions", classes="section")
                yield ActionTable(id="kpi-actions")
                yield Label("Changes (newest first)", classes="section")
                yield DataTable[Text](id="changes", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        for col in ("Date", "Value", "Plan", "Note", "Who", "When"):
            self.entries.add_column(col, key=col.lower())
        for col in ("When", "Who", "What"):
            self.changes.add_column(col, key=col.lower())
        self.app.data_changed.subscribe(self, lambda _: self.refresh_detail())
        self.refresh_detail()

    def refresh_detail(self) -> None:
        self.banner.message = self.app.banner
        view = self.app.view_of(self.kpi_id)
        snap = self.app.snapshot
        if view is None or snap is None:
            self.summary_title.update("This KPI is gone (archived?)")
            return
        kpi = view.kpi
        day = self.app.as_of
        as_of = "" if day is None else f"   ({present.as_of_text(day)}, read-only)"
        self.summary_title.update(
            literal(f"{kpi.name} · {view.board_name}   {status_text(view.status)}" + as_of)
        )
        self.numbers.update(literal(lines.numbers(view) + lines.estimated_by(view, snap)))
        self.about.update(literal(lines.detail_about(view)))
        estimates = plans.estimate_series(snap, kpi.id)
        self.chart.data = ChartData(kpi, view.history, tuple((x.day, x.value) for x in estimates))
        self._show_entries(snap, view, {x.day: x for x in estimates})
        rows = tuple(
            ActionRow(a, kpi.name)
            for a in snap.actions_of(kpi.board, open_only=False)
            if a.kpi == kpi.id
        )
        self.actions.actions = ActionList(rows, self.app.view_day())
        self._show_changes(snap, kpi.id)

    def _show_changes(self, snap: Snapshot, kpi_id: int) -> None:
        """The KPI's change log: field edits with old and new, targets, archives, and its
        actions' histories (values and notes are in the entries beside it)."""
        self.changes.clear()
        for n, line in enumerate(audit.lines(snap, kpi=kpi_id, entries=False)[:200]):
            self.changes.add_row(
                Text(when_local(line.at)),
                literal_text(line.who),
                literal_text(line.what),
                key=str(n),
            )

    def _show_entries(
        self, snap: Snapshot, view: KpiView, estimates: dict[date, Estimate] | None = None
    ) -> None:
        """Every entry, newest first; the Plan column shows the period's estimate (and who
        made it) where the entry carries no plan of its own."""
        estimates = estimates or {}
        current = {e.id for e in view.history}
        entries = sorted(
            snap.entries.get(view.kpi.id, ()), key=lambda e: (e.day, e.id), reverse=True
        )
        self.entries.clear()
        for e in entries[:500]:
            superseded = e.id not in current
            style = "strike dim" if superseded else ""
            self.entries.add_row(
                Text(e.day.isoformat(), style=style),
                Text(num(e.value) + (" (superseded)" if superseded else ""), style=style),
                literal_text(plan_cell(e, estimates.get(period_start(view.kpi.frequency, e.day)))),
                literal_text(fit(e.note.replace("\n", " ⏎ "), 48)),  # who and when stay in view
                literal_text(e.who),
                Text(when_local(e.at)),
                key=str(e.id),
            )

    def action_record(self) -> None:
        flows.record(self.app, self.kpi_id)

    def action_add_action(self) -> None:
        flows.add_action(self.app, self.kpi_id, self.app.board_id)

    def action_move_action(self) -> None:
        selected = self.actions.selected_id
        if selected is not None:
            flows.move_stage(self.app, selected)

    @on(ActionTable.RowSelected)
    def _open_action(self, event: ActionTable.RowSelected) -> None:
        """Enter on an action opens it (details and history); it never moves it on."""
        event.stop()
        selected = self.actions.selected_id
        if selected is not None:
            self.app.push_screen(ActionScreen(selected))

def plan_cell(entry: Entry, estimate: Estimate | None) -> str:
    """`87` for a plan recorded with the actual; `87 (est. ben)` for an estimate made before."""
    if entry.plan is not None:
        return num(entry.plan)
    if estimate is None:
        return ""
    return f"{num(estimate.value)} (est. {estimate.by})" if estimate.by else num(estimate.value)
