"""One action in full: what, who, due, the KPI it serves, its stage, and its history.

Enter on an action opens this instead of moving it on: a stage changes only by a key that says
so (`m`, `d`), and the toast that follows offers the undo key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label

from store.present import STAGE_GLYPH, short_date
from widgets.literal import literal, literal_text, when_local

from . import flows

if TYPE_CHECKING:
    from .app import TeamboardApp


class ActionScreen(ModalScreen[None]):
    """A modal over the board, the detail or the huddle; follows the store as it changes."""

    DEFAULT_CSS = """
    ActionScreen { align: center middle; }
    ActionScreen > Vertical {
        width: 96; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    ActionScreen #action-title { text-style: bold; }
    ActionScreen #action-facts { color: $text; padding-bottom: 1; }
    ActionScreen .section { text-style: bold; }
    ActionScreen DataTable { height: auto; max-height: 16; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("m", "move", "Next stage"),
        Binding("d", "done", "Done"),
        Binding("e", "edit", "Owner/due"),
    ]

    app: TeamboardApp

    title_label = getters.query_one("#action-title", Label)
    facts = getters.query_one("#action-facts", Label)
    history = getters.query_one("#action-history", DataTable)

    def __init__(self, action_id: int) -> None:
        super().__init__()
        self.action_id = action_id

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(id="action-title")
            yield Label(id="action-facts")
            yield Label("History (oldest first)", classes="section")
            yield DataTable[Text](id="action-history", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for col in ("When", "Who", "What"):
            self.history.add_column(col, key=col.lower())
        self.app.data_changed.subscribe(self, lambda _: self.show())
        self.show()

    def show(self) -> None:
        snap = self.app.snapshot
        action = snap.actions.get(self.action_id) if snap is not None else None
        if snap is None or action is None:
            self.title_label.update(f"Action #{self.action_id} is gone")
            return
        today = self.app.today()
        kpi = snap.kpis.get(action.kpi) if action.kpi is not None else None
        board = snap.boards.get(action.board)
        due = short_date(action.due, today) if action.due else "none"
        if action.overdue(today):
            due = f"⚠ {due} (overdue)"
        self.title_label.update(literal(f"#{action.id}  {action.title}"))
        self.facts.update(
            literal(
                f"Stage   {STAGE_GLYPH[action.stage]} {action.stage.value}\n"
                f"Owner   {action.owner or 'nobody'}\n"
                f"Due     {due}\n"
                f"KPI     {kpi.name if kpi else '(none: a board-level action)'}\n"
                f"Board   {board.name if board else '?'}\n"
                f"Added   {when_local(action.at)} by {action.who or '?'}"
            )
        )
        self.history.clear()
        for n, change in enumerate(action.history):
            if change.field == "stage":
                what = f"stage {change.old or '·'} → {change.new}"
            else:
                what = f"{change.field} {change.old or 'none'} → {change.new or 'none'}"
            self.history.add_row(
                Text(when_local(change.at)),
                literal_text(change.who),
                literal_text(what),
                key=str(n),
            )

    def action_move(self) -> None:
        flows.move_stage(self.app, self.action_id)

    def action_done(self) -> None:
        flows.done(self.app, self.action_id)

    def action_edit(self) -> None:
        flows.edit_action(self.app, self.action_id)
