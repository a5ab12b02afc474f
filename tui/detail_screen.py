"""One KPI in full: the trend chart with its target steps, every entry with who and when,
and its actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from store import audit
from store.present import num, status_text
from store.rules import KpiView
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
        self.summary_title.update(
            literal(f"{kpi.name} · {view.board_name}   {status_text(view.status)}")
        )
        self.numbers.update(literal(lines.numbers(view)))
        self.about.update(literal(lines.detail_about(view)))
        self.chart.data = ChartData(kpi, view.history)
        self._show_entries(snap, view)
        rows = tuple(
            ActionRow(a, kpi.name)
            for a in snap.actions_of(kpi.board, open_only=False)
            if a.kpi == kpi.id
        )
        self.actions.actions = ActionList(rows, self.app.today())
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

    def _show_entries(self, snap: Snapshot, view: KpiView) -> None:
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
                Text(num(e.plan) if e.plan is not None else ""),
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
