"""The action list: open countermeasures with PDCA stage glyph, owner, due date and KPI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from store.model import Action
from store.present import STAGE_GLYPH, short_date

from .literal import literal_text


def fit(text: str, width: int) -> str:
    """Shorten at a word boundary with an ellipsis, so nothing is cut mid-word."""
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0] if " " in text[: width - 1] else text[: width - 1]
    return cut.rstrip(" ,;:") + "…"


@dataclass(frozen=True)
class ActionRow:
    action: Action
    kpi_name: str
    badge: str = ""  # "⇡" escalated and waiting, "↩" answered, "⇲" taken over


@dataclass(frozen=True)
class ActionList:
    """What the table shows: the rows, and the day that decides which are overdue."""

    rows: tuple[ActionRow, ...]
    today: date


class ActionTable(DataTable[Text]):
    """Set `actions` to replace the rows; they are keyed by action id, so the cursor stays on
    the same action across reloads."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"action-table--overdue"}
    DEFAULT_CSS = """
    ActionTable { height: auto; max-height: 100%; }
    ActionTable > .action-table--overdue { color: $error; text-style: bold; }
    """

    actions: reactive[ActionList] = reactive(ActionList((), date.min), init=False)

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._width = 0
        self._kpi_width = self._owner_width = 8

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> int:
        """Fixed widths from the table's own width: the title takes what the others leave.

        Auto-sized columns keep the widths of their first fill after `clear()`, which cut
        titles and pushed the due date off screen.
        """
        narrow = self.size.width < 100  # a laptop over SSH: give the title more
        fixed = {
            "stage": 7,
            "id": 4,
            "kpi": 12 if narrow else 18,
            "owner": 6 if narrow else 8,
            "due": 12,
        }
        padding = 2 * (len(fixed) + 1) + 2  # cell padding, and room for a scrollbar
        title = max(16, self.size.width - sum(fixed.values()) - padding)
        self.add_column("Stage", key="stage", width=fixed["stage"])
        self.add_column("#", key="id", width=fixed["id"])
        self.add_column("Action", key="title", width=title)
        self.add_column("KPI", key="kpi", width=fixed["kpi"])
        self.add_column("Owner", key="owner", width=fixed["owner"])
        self.add_column("Due", key="due", width=fixed["due"])
        self._kpi_width, self._owner_width = fixed["kpi"], fixed["owner"]
        return title

    def watch_actions(self) -> None:
        self._fill()

    def _fill(self) -> None:
        """Replace the rows, keeping the cursor on the action it was on."""
        today = self.actions.today
        current = self.selected_id
        self.clear(columns=True)
        title_width = self._add_columns()
        overdue_style = self.get_component_rich_style("action-table--overdue", partial=True)
        for row in self.actions.rows:
            a = row.action
            overdue = a.overdue(today)
            due = Text(short_date(a.due, today) if a.due else "—")
            if overdue:
                due = Text(f"⚠ {due.plain}", style=overdue_style)
            self.add_row(
                Text(f"{STAGE_GLYPH[a.stage]} {a.stage.value}"),
                Text(f"#{a.id}"),
                literal_text(fit(f"{row.badge} {a.title}" if row.badge else a.title, title_width)),
                literal_text(fit(row.kpi_name, self._kpi_width) or "—"),
                literal_text(fit(a.owner, self._owner_width) or "—"),
                due,
                key=str(a.id),
            )
        if current is not None and str(current) in self.rows:
            self.move_cursor(row=self.get_row_index(str(current)))

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self._width = self.size.width
            self._fill()

    @property
    def selected_id(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return int(key.value) if key.value is not None else None
