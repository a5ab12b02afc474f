"""Escalations on a board: those waiting at it for an answer (the board above's side), and those
it raised (the team's side: waiting and for how long, answered, taken over)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Label
from textual.widgets.data_table import CellDoesNotExist

from .action_table import fit
from .literal import literal, literal_text
from .redraw import show


@dataclass(frozen=True)
class EscalationLine:
    """One escalation as a row: its state, the action, where it stands, why or the answer."""

    action_id: int
    state: str  # "⇣ to answer", "⇡ waiting", "↩ answered", "⇲ taken over"
    title: str
    where: str  # "from Line 2 Assembly, 2 days" / "escalated to Operations, waiting 2 days"
    text: str  # why it was raised, or the answer
    waiting: bool


class EscalationTable(DataTable[Text]):
    """Set `lines` to replace the rows; keyed by action id, so the cursor stays put."""

    DEFAULT_CSS = """
    EscalationTable { height: auto; max-height: 12; }
    """

    lines: reactive[tuple[EscalationLine, ...]] = reactive((), init=False)

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._width = 0

    def on_mount(self) -> None:
        self._fill()

    def watch_lines(self) -> None:
        self._fill()

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self._width = self.size.width
            self._fill()

    def _fill(self) -> None:
        """Wide: state, #, action, from/to, why/answer. Narrow (a laptop over SSH): where it
        stands goes above the why or the answer, in one column that wraps."""
        current = self.selected_id
        self.clear(columns=True)
        narrow = self.size.width < 100
        # "From / to" says how long it has waited: as wide as its longest line, within reason.
        longest = max((len(line.where) for line in self.lines), default=16)
        fixed = {"state": 12, "id": 4, "where": 0 if narrow else max(16, min(longest, 44))}
        padding = 2 * (4 if narrow else 5) + 2
        rest = max(24, self.size.width - sum(fixed.values()) - padding)
        title_w = max(12, rest * (1 if narrow else 2) // (3 if narrow else 5))
        text_w = max(12, rest - title_w)
        self.add_column("State", key="state", width=fixed["state"])
        self.add_column("#", key="id", width=fixed["id"])
        self.add_column("Action", key="title", width=title_w)
        if not narrow:
            self.add_column("From / to", key="where", width=fixed["where"])
        self.add_column("From / to · why / answer" if narrow else "Why / answer", key="text",
                        width=text_w)
        for line in self.lines:
            style = "bold" if line.waiting else ""
            where = literal_text(fit(line.where, fixed["where"] or text_w), style=style)
            # The why or the answer, whole: the row grows to fit it.
            cells = [Text(line.state, style=style), Text(f"#{line.action_id}"),
                     literal_text(fit(line.title, title_w))]
            if narrow:
                cells.append(where + Text("\n") + literal_text(line.text))
            else:
                cells += [where, literal_text(line.text)]
            self.add_row(*cells, key=str(line.action_id), height=None)
        if current is not None and str(current) in self.rows:
            self.move_cursor(row=self.get_row_index(str(current)))

    @property
    def selected_id(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return int(key.value) if key.value is not None else None


class EscalationBox(Vertical):
    """A title and the table, shown only when the board has escalations (set `title` and
    `lines`)."""

    DEFAULT_CSS = """
    EscalationBox { height: auto; display: none; }
    EscalationBox.-shown { display: block; }
    EscalationBox .escalations-title { text-style: bold; padding: 1 0 0 0; }
    """

    title: reactive[str] = reactive("", init=False, repaint=False)
    lines: reactive[tuple[EscalationLine, ...]] = reactive((), init=False, repaint=False)

    table = getters.query_one(EscalationTable)
    title_label = getters.query_one(".escalations-title", Label)

    def compose(self) -> ComposeResult:
        yield Label(classes="escalations-title")
        yield EscalationTable()

    def watch_title(self, title: str) -> None:
        show(self.title_label, literal(title))

    def watch_lines(self, lines: tuple[EscalationLine, ...]) -> None:
        self.set_class(bool(lines), "-shown")
        self.table.lines = lines
