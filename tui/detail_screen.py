"""One KPI in full: the trend chart with its target steps, every entry with who and when,
and its actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from store import audit
from store.present import (
    STATUS_GLYPH,
    STATUS_WORD,
    TREND_ARROW,
    benchmark_label,
    flag_texts,
    num,
    variance_text,
    with_unit,
)
from store.rules import KpiView
from widgets.action_table import ActionRow, ActionTable, fit
from widgets.banner import Banner
from widgets.literal import literal, literal_text, when_local
from widgets.trend_chart import TrendChart

if TYPE_CHECKING:
    from .app import TeamboardApp


class DetailScreen(Screen[None]):
    DEFAULT_CSS = """
    DetailScreen #summary { height: auto; padding: 0 1; background: $panel; }
    DetailScreen #summary .title { text-style: bold; }
    DetailScreen #numbers { width: 1fr; }
    DetailScreen #about { height: auto; width: 1fr; padding: 0 1; color: $text-muted; }
    DetailScreen TrendChart { height: 2fr; }
    DetailScreen #lower { height: 1fr; }
    DetailScreen #entries { width: 3fr; }
    DetailScreen #kpi-actions-box { width: 2fr; }
    DetailScreen #kpi-actions { height: 1fr; }
    DetailScreen #changes { height: 1fr; }
    DetailScreen .section { text-style: bold; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "record", "Record"),
        Binding("a", "add_action", "Action"),
        Binding("m", "move_action", "Next stage"),
    ]

    app: TeamboardApp

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
        table = self.query_one("#entries", DataTable)
        for col in ("Date", "Value", "Plan", "Note", "Who", "When"):
            table.add_column(col, key=col.lower())
        changes = self.query_one("#changes", DataTable)
        for col in ("When", "Who", "What"):
            changes.add_column(col, key=col.lower())
        self.app.data_changed.subscribe(self, lambda _: self.refresh_detail())
        self.refresh_detail()

    def view(self) -> KpiView | None:
        snap = self.app.snapshot
        if snap is None or self.kpi_id not in snap.kpis:
            return None
        board = snap.kpis[self.kpi_id].board
        return next(
            (v for v in snap.views(board, self.app.today()) if v.kpi.id == self.kpi_id), None
        )

    def refresh_detail(self) -> None:
        self.query_one(Banner).say(self.app.banner)
        view = self.view()
        snap = self.app.snapshot
        if view is None or snap is None:
            self.query_one("#summary .title", Label).update("This KPI is gone (archived?)")
            return
        kpi = view.kpi
        s = view.status
        self.query_one("#summary .title", Label).update(
            literal(f"{kpi.name} · {view.board_name}   {STATUS_GLYPH[s]} {STATUS_WORD[s]}")
        )
        latest = view.latest
        parts = [
            with_unit(latest.value, kpi.unit) if latest else "no entry yet",
            benchmark_label(view),
            variance_text(view),
            f"{TREND_ARROW[view.trend]} {view.trend.value}",
            *(f"⚑ {t}" for t in flag_texts(view)),
        ]
        self.query_one("#numbers", Label).update(literal("   ".join(p for p in parts if p)))
        better = "higher" if kpi.direction.value == "up" else "lower"
        about = [
            f"{kpi.kind.value}, {kpi.frequency.value}, {better} is better",
            f"owner {kpi.owner}" if kpi.owner else "no owner",
        ]
        if kpi.amber is not None:
            about.append(f"amber from {num(kpi.amber)}")
        if view.counter_name:
            about.append(f"counter-metric: {view.counter_name}")
        if kpi.goal:
            about.append(f"serves: {kpi.goal}")
        if len(kpi.targets) > 1:
            steps = ", ".join(
                f"{num(t.value)} from {t.since.isoformat()}" if t.since else num(t.value)
                for t in kpi.targets
            )
            about.append(f"targets: {steps}")
        text = " · ".join(about)
        if kpi.description.strip():  # what the number means, above the facts about it
            text = " ".join(kpi.description.split()) + "\n" + text
        self.query_one("#about", Label).update(literal(text))
        self.query_one(TrendChart).show(kpi, view.history)
        self._show_entries(view)
        rows = [
            ActionRow(a, kpi.name)
            for a in snap.actions_of(kpi.board, open_only=False)
            if a.kpi == kpi.id
        ]
        self.query_one(ActionTable).show(rows, self.app.today())
        self._show_changes(kpi.id)

    def _show_changes(self, kpi_id: int) -> None:
        """The KPI's change log: field edits with old and new, targets, archives, and its
        actions' histories (values and notes are in the entries beside it)."""
        snap = self.app.snapshot
        assert snap is not None
        table = self.query_one("#changes", DataTable)
        table.clear()
        for n, line in enumerate(audit.lines(snap, kpi=kpi_id, entries=False)[:200]):
            table.add_row(
                Text(when_local(line.at)),
                literal_text(line.who),
                literal_text(line.what),
                key=str(n),
            )

    def _show_entries(self, view: KpiView) -> None:
        snap = self.app.snapshot
        assert snap is not None
        table = self.query_one("#entries", DataTable)
        current = {e.id for e in view.history}
        entries = sorted(
            snap.entries.get(view.kpi.id, ()), key=lambda e: (e.day, e.id), reverse=True
        )
        table.clear()
        for e in entries[:500]:
            superseded = e.id not in current
            style = "strike dim" if superseded else ""
            table.add_row(
                Text(e.day.isoformat(), style=style),
                Text(num(e.value) + (" (superseded)" if superseded else ""), style=style),
                Text(num(e.plan) if e.plan is not None else ""),
                literal_text(fit(e.note.replace("\n", " ⏎ "), 48)),  # who and when stay in view
                literal_text(e.who),
                Text(when_local(e.at)),
                key=str(e.id),
            )

    def action_record(self) -> None:
        self.app.record_for(self.kpi_id)

    def action_add_action(self) -> None:
        self.app.add_action_for(self.kpi_id)

    def action_move_action(self) -> None:
        selected = self.query_one(ActionTable).selected_id
        if selected is not None:
            self.app.advance_action(selected)
