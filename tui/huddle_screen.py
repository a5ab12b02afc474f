"""The daily huddle: one agenda item at a time, a countermeasure gate on red KPIs, a timer,
attendance, quick edits, and the minutes written when the facilitator leaves.

The session (agenda, gate, timer, attendance, log) lives in `store.huddle` and the lines it
shows in `lines`; this screen only draws the current item from the app's views, redraws on
`data_changed`, and dispatches keys to the session and to the shared `flows`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from store import db, ops, plans, present, tiers
from store import huddle as hd
from store.huddle import AgendaItem, HuddleLog, ItemKind
from store.model import Action, Status
from store.present import status_text
from store.rules import KpiView
from widgets.action_table import ActionList, ActionRow, ActionTable
from widgets.banner import Banner
from widgets.literal import literal
from widgets.trend_chart import ChartData, TrendChart

from . import flows, lines
from .action_screen import ActionScreen
from .forms import Field, FormScreen, Rule

if TYPE_CHECKING:
    from .app import TeamboardApp

CHART_PERIODS = 30  # the huddle looks at the recent story; the detail screen has it all


NARROW = 120  # columns under which the huddle's bar takes two rows


class HuddleScreen(Screen[None]):
    CSS_PATH = "huddle.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        # In the footer's order, most needed first: at 80 columns every shown key fits.
        Binding("escape", "end", "End"),
        Binding("n", "next", "Next"),
        Binding("p", "previous", "Prev"),
        Binding("right", "next", "Next", show=False, priority=True),
        Binding("left", "previous", "Prev", show=False, priority=True),
        Binding("a", "add_action", "Action"),
        Binding("t", "note", "Note/explain"),
        Binding("m", "move_action", "Stage"),
        Binding("d", "done_action", "Done"),
        Binding("e", "edit_action", "Owner/due"),
        Binding("r", "record", "Record", show=False),
        Binding("S", "skip", "Skip"),
        Binding("w", "attendance", "Who's here", show=False),
        Binding("E", "escalate", "Raise"),  # `u` is the app's undo
        Binding("y", "answer", "Answer", show=False),
        Binding("o", "take_over", "Take over", show=False),
        Binding("q", "end(True)", "Quit", show=False),
        Binding("ctrl+c", "end(True)", "Quit", show=False),  # the minutes are saved on the way out
    ]

    app: TeamboardApp

    banner = getters.query_one(Banner)
    progress = getters.query_one("#progress", Label)
    attendance = getters.query_one("#attendance", Label)
    timer = getters.query_one("#timer", Label)
    head = getters.query_one("#head", Vertical)
    item_title = getters.query_one("#title", Label)
    numbers = getters.query_one("#numbers", Label)
    about = getters.query_one("#about", Label)
    gate = getters.query_one("#gate", Static)
    middle = getters.query_one("#middle", Horizontal)
    chart = getters.query_one(TrendChart)
    notes = getters.query_one("#notes", Static)
    actions_box = getters.query_one("#actions-box", Vertical)
    actions_title = getters.query_one("#actions-title", Label)
    actions = getters.query_one("#item-actions", ActionTable)
    wrapup = getters.query_one("#wrapup", Static)

    def __init__(self, board_id: int | None, minutes: int = 15) -> None:
        super().__init__()
        self.board_id = board_id
        self.timebox = minutes
        self.session: HuddleLog | None = None
        self.ended = False
        self._nudged = False  # someone tried to pass the gate: it says "Not yet", in bold

    def compose(self) -> ComposeResult:
        yield Banner()
        with Horizontal(id="bar"):
            yield Label(id="progress")
            yield Label(id="attendance")
            yield Label(id="timer")
        with Vertical(id="head"):
            yield Label(id="title")
            yield Label(id="numbers")
            yield Label(id="about")
        yield Static(id="gate")
        with Horizontal(id="middle"):
            yield TrendChart()
            with Vertical(id="notes-box"):
                yield Label("Latest notes", classes="section")
                yield Static(id="notes")
        with Vertical(id="actions-box"):
            yield Label("Open actions", classes="section", id="actions-title")
            yield ActionTable(id="item-actions")
        yield Static(id="wrapup")
        yield Footer(compact=True, show_command_palette=False)

    def on_resize(self) -> None:
        # Narrow: the progress gets a row of its own, so "Huddle 1 of 3 · red · Line 2" is
        # never cut to make room for the attendance and the timer.
        self.set_class(self.size.width < NARROW, "-narrow")

    def on_mount(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")
        self.app.data_changed.subscribe(self, lambda _: self.refresh_item())
        self.set_interval(1.0, self._tick)
        self.refresh_item()

    # --- the session -----------------------------------------------------------------------

    def _start(self) -> bool:
        """Begin the session once the store has been read; False until then."""
        if self.session is not None:
            return True
        if self.board_id is None:
            self.board_id = self.app.board_id
        snap, board = self.app.snapshot, self.app.views(self.board_id)
        if snap is None or board is None or self.board_id is None:
            return False
        now, today = self.app.now(), self.app.view_day()
        facilitator = db.whoami()
        self.session = HuddleLog(
            board_id=self.board_id,
            board_name=snap.boards[self.board_id].name,
            facilitator=facilitator,
            started=now,
            timebox_minutes=self.timebox,
            items=hd.build_agenda(
                board.kpis,
                board.actions,
                today,
                escalations=tiers.escalations_to(snap, self.board_id),
                boards=snap.boards,
            ),
            attendees=hd.suggest_attendees(facilitator, hd.logged_in()),
        )
        self._go(0)
        return True

    def _as_of(self) -> str:
        """` · as of Tue 31 Dec 2013` on a past board: nobody takes it for today (the gate and
        every write key say it is read-only)."""
        as_of = self.app.as_of
        return "" if as_of is None else f" · {present.as_of_text(as_of)}"

    @property
    def item(self) -> AgendaItem | None:
        return self.session.item if self.session else None

    def blocked(self) -> bool:
        item = self.item
        return self.session is not None and self.session.blocked(
            self.app.view_of(item.kpi if item else None)
        )

    # --- drawing ---------------------------------------------------------------------------

    def refresh_item(self) -> None:
        self.banner.message, self.banner.info = self.app.banner, self.app.banner_info
        if not self._start():
            self.progress.update(literal("Huddle"))
            self.wrapup.update(literal(self.app.empty_message()))
            self._show_parts(item=False)
            return
        log = self.session
        assert log is not None
        self._tick()
        self.attendance.update(literal(lines.attendance(log)))
        self.progress.update(literal(lines.progress(log) + self._as_of()))
        item = log.item
        if item is None:
            self._show_parts(item=False)
            self.wrapup.update(literal(lines.wrapup(log, self.size.width, self.app.read_only)))
            return
        self._show_parts(item=True)
        if item.kind in (ItemKind.OVERDUE, ItemKind.ESCALATION):
            self._show_action_item(item)
        else:
            self._show_kpi_item(item)
        blocked = self.blocked()
        self.gate.display = blocked
        if blocked:
            self.gate.update(literal(lines.gate(item, self._nudged, self.app.read_only)))
        self.gate.set_class(self._nudged, "-nudged")

    def _show_parts(self, item: bool) -> None:
        """The item's parts, or the wrap-up (also what shows before the store is read)."""
        for part in (self.head, self.middle, self.actions_box):
            part.display = item
        if not item:
            self.gate.display = False
        self.wrapup.display = not item

    def _show_kpi_item(self, item: AgendaItem) -> None:
        view = self.app.view_of(item.kpi)
        if view is None:
            self._title(f"{item.name}: this KPI is gone (archived?)", None)
            return
        self._title(f"{status_text(view.status)}   {view.kpi.name}", view.status)
        self.numbers.update(literal(lines.numbers(view, self.app.view_day())))
        self._show_kpi(view)
        self._show_actions(view.open_actions, view.kpi.name, "Open actions")

    def _show_action_item(self, item: AgendaItem) -> None:
        snap = self.app.snapshot
        action = snap.actions.get(item.action) if snap and item.action is not None else None
        if action is None:
            self._title(f"#{item.action} {item.name}: this action is gone", None)
            return
        view = self.app.view_of(item.kpi)
        done = " (done now)" if not action.open else ""
        numbers = lines.action_numbers(action, view, self.app.view_day())
        if item.kind is ItemKind.ESCALATION:
            esc = action.escalation
            answered = "" if action.waiting else " (answered now)"
            self._title(f"⇣ #{action.id} {action.title} · {item.status}{answered}", Status.AMBER)
            why = f"why: {esc.why}" if esc else ""
            numbers = f"{why}\ny answers · o takes over · {numbers}"
        else:
            self._title(
                f"⚠ #{action.id} {action.title}{done}", Status.RED if action.open else None
            )
        self.numbers.update(literal(numbers))
        if view is not None:
            self._show_kpi(view)
        else:
            self.chart.display = False
            self.about.update(literal("m next stage · d done · e owner or due date"))
            self.notes.update(literal("No KPI: no notes."))
        self._show_actions((action,), view.kpi.name if view else "", "This action")

    def _show_kpi(self, view: KpiView) -> None:
        """What an item says about its KPI: the facts, the recent chart, the latest notes."""
        self.chart.display = True  # an action item without a KPI hid it
        counter = self.app.view_of(view.kpi.counter)
        self.about.update(literal(lines.huddle_about(view, counter)))
        snap = self.app.snapshot
        estimates = plans.estimate_series(snap, view.kpi.id) if snap is not None else []
        self.chart.data = ChartData(
            view.kpi, view.history[-CHART_PERIODS:], tuple((x.day, x.value) for x in estimates)
        )
        self.notes.update(literal(lines.notes(view, self.app.view_day())))

    def _title(self, text: str, status: Status | None) -> None:
        self.item_title.update(literal(text))
        for s in Status:
            self.item_title.set_class(s is status, f"-{s.value}")

    def _show_actions(self, actions: tuple[Action, ...], kpi_name: str, title: str) -> None:
        rows = tuple(ActionRow(a, kpi_name) for a in actions)
        self.actions.actions = ActionList(rows, self.app.view_day())
        self.actions.display = bool(actions)
        label = f"{title} ({len(actions)})" if actions else f"{title}: none open (a adds one)"
        self.actions_title.update(literal(label))

    def _tick(self) -> None:
        log = self.session
        if log is None:
            self.timer.update("")
            return
        now = self.app.now()
        self.timer.update(literal(lines.timer(log, now)))
        colour = log.timer_colour(now)
        self.timer.set_class(colour is Status.AMBER, "-amber")
        self.timer.set_class(colour is Status.RED, "-red")

    # --- stepping --------------------------------------------------------------------------

    def _go(self, index: int) -> None:
        """Show item `index` (the wrap-up past the last), banking the time on the one before."""
        log = self.session
        if log is None:
            return
        self._nudged = False
        items = log.items
        shown = items[index] if 0 <= index < len(items) else None
        status = hd.status_now(shown, self.app.view_of(shown.kpi)) if shown else None
        log.show(index, self.app.now(), status)

    def _step(self, index: int) -> None:
        self._go(index)
        self.refresh_item()
        self.actions.focus()

    def action_next(self) -> None:
        log = self.session
        if log is None or log.item is None:
            return
        if self.blocked():
            self._nudged = True
            self.refresh_item()
            self.app.bell()  # the gate itself says what to do, now in bold
            return
        self._step(log.current + 1)

    def action_previous(self) -> None:
        log = self.session
        if log is not None and log.current > 0:
            self._step(log.current - 1)

    def action_skip(self) -> None:
        log, item = self.session, self.item
        if log is None or item is None:
            return
        if self.blocked():
            log.skipped(item, "red with no countermeasure: skipped by the facilitator")
            where = "it goes in the minutes" if self.app.read_only is None else "read-only"
            self.notify(f"Skipped {item.name}: {where}.", severity="warning")
        self._step(log.current + 1)

    async def action_end(self, quit: bool = False) -> None:
        """Leave the huddle: the minutes are saved (nothing to confirm), then the board shows.

        `q` and Ctrl+C save them too, and wait for the write before the app exits.
        """
        if self.ended:
            return
        self.ended = True
        log = self.session
        if log is not None and self.app.read_only is not None:
            self.notify(f"read-only: {self.app.read_only}: the minutes are not saved")
        elif log is not None:
            for pending in flows.pending(self.app):  # what they did belongs in the minutes
                await pending.wait()
            minutes = log.minutes(self.app.now(), self.app.today())
            store = self.app.store
            worker = flows.write(
                self.app,
                lambda: ops.save_huddle(store, minutes),
                lambda i: f"Minutes of huddle #{i} saved: see them with teamboard minutes",
            )
            if quit and worker is not None:
                await worker.wait()
        if quit:
            self.app.exit()
        else:
            self.dismiss()

    # --- writes: the shared flows, logged for the minutes -------------------------------------

    def _selected(self) -> int | None:
        if flows.refused(self.app):  # read-only: say so, whatever is selected
            return None
        selected = self.actions.selected_id
        if selected is None:
            self.notify("No action selected: add one with a", severity="warning")
        return selected

    def action_add_action(self) -> None:
        log, item = self.session, self.item
        if log is not None and item is not None:
            flows.add_action(self.app, item.kpi, log.board_id, log.action_added)

    def action_note(self) -> None:
        """`t`: on a red KPI with no action, explain it (until a day: the gate opens, and the
        next huddle's too); on anything else, a note on the latest entry."""
        log, item = self.session, self.item
        if log is None or item is None or item.kpi is None:
            self.notify("This item has no KPI to note.", severity="warning")
            return
        view = self.app.view_of(item.kpi)
        if view is not None and view.status is Status.RED and not view.open_actions:
            flows.explain(self.app, item.kpi, log.noted)
        else:
            flows.note(self.app, item.kpi, self.blocked(), log.noted)

    def action_move_action(self) -> None:
        selected, log = self._selected(), self.session
        if selected is not None and log is not None:
            flows.move_stage(self.app, selected, then=log.action_changed)

    def action_done_action(self) -> None:
        selected, log = self._selected(), self.session
        if selected is not None and log is not None:
            flows.done(self.app, selected, log.action_changed)

    def action_edit_action(self) -> None:
        selected, log = self._selected(), self.session
        if selected is not None and log is not None:
            flows.edit_action(self.app, selected, log.action_changed)

    def _escalation_item(self) -> int | None:
        """The escalation on screen, or the action selected."""
        item = self.item
        if item is not None and item.kind is ItemKind.ESCALATION:
            return item.action
        return self._selected()

    def action_escalate(self) -> None:
        selected, log = self._selected(), self.session
        if selected is not None and log is not None:
            flows.escalate(self.app, selected, then=log.action_changed)

    def action_answer(self) -> None:
        selected, log = self._escalation_item(), self.session
        if selected is not None and log is not None:
            flows.answer(self.app, selected, then=log.action_changed)

    def action_take_over(self) -> None:
        selected, log = self._escalation_item(), self.session
        if selected is not None and log is not None:
            flows.take_over(self.app, selected, then=log.action_changed)

    def action_record(self) -> None:
        item = self.item
        if item is not None and item.kpi is not None:
            flows.record(self.app, item.kpi)

    def action_attendance(self) -> None:
        log = self.session
        if log is None:
            return

        def save(values: flows.Values) -> None:
            if values is not None:
                log.attendees = hd.parse_attendees(values["attendees"])
                self.refresh_item()

        field = Field(
            "attendees",
            "Logins, separated by commas",
            Rule(hd.parse_attendees),
            value=", ".join(log.attendees),
        )
        self.app.push_screen(FormScreen("Who is at the huddle?", [field]), save)

    @on(ActionTable.RowSelected)
    def _open_action(self, event: ActionTable.RowSelected) -> None:
        """Enter on an action opens it (details and history); it never moves it on."""
        event.stop()
        selected = self.actions.selected_id
        if selected is not None:
            self.app.push_screen(ActionScreen(selected))
