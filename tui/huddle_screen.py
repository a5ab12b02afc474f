"""The daily huddle: one agenda item at a time, a countermeasure gate on red KPIs, a timer,
attendance, quick edits, and the minutes written when the facilitator leaves.

The agenda and the log live in `store.huddle` (no Textual there); this screen draws the current
item from the app's snapshot, redraws on `data_changed`, and writes only through `app.write`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Label, Static
from textual.worker import Worker

from store import db, ops, validate
from store import huddle as hd
from store.errors import BadInput
from store.huddle import AgendaItem, HuddleLog, ItemKind
from store.model import Action, Stage, Status
from store.present import (
    STAGE_GLYPH,
    STATUS_GLYPH,
    STATUS_WORD,
    TREND_ARROW,
    benchmark_label,
    flag_texts,
    short_date,
    variance_text,
    with_unit,
)
from store.rules import KpiView
from widgets.action_table import ActionRow, ActionTable
from widgets.banner import Banner
from widgets.trend_chart import TrendChart

from .forms import Field, FormScreen, Rule, action_form, due_date, parse_action

if TYPE_CHECKING:
    from .app import TeamboardApp

CHART_PERIODS = 30  # the huddle looks at the recent story; the detail screen has it all
NOTES_SHOWN = 5
KIND_WORD = {
    ItemKind.RED: "red",
    ItemKind.STALE: "stale",
    ItemKind.AMBER: "amber",
    ItemKind.OVERDUE: "overdue action",
}


def lit(text: str) -> Content:
    """Text with store strings in it, shown literally: no markup, control characters visible."""
    return Content(validate.printable(text))


def _note_text(text: str) -> str:
    cleaned = validate.text(text)
    if not cleaned:
        raise BadInput("write the note: why is it red, and why is there no action?")
    return cleaned


def amber_from(timebox_s: float) -> float:
    """Seconds left when the timer turns amber: the last 3 minutes, or a fifth of a short box."""
    return min(180.0, timebox_s / 5)


class HuddleScreen(Screen[None]):
    CSS_PATH = "huddle.tcss"
    BINDINGS = [
        Binding("n", "next", "Next"),
        Binding("p", "previous", "Prev"),
        Binding("right", "next", "Next", show=False, priority=True),
        Binding("left", "previous", "Prev", show=False, priority=True),
        Binding("a", "add_action", "Action"),
        Binding("t", "note", "Note"),
        Binding("m", "move_action", "Stage"),
        Binding("d", "done_action", "Done"),
        Binding("e", "edit_action", "Owner/due"),
        Binding("r", "record", "Record", show=False),
        Binding("S", "skip", "Skip"),
        Binding("w", "attendance", "Who's here"),
        Binding("escape", "end", "End"),
        Binding("q", "end(True)", "Quit", show=False),
        Binding("ctrl+c", "end(True)", "Quit", show=False),  # the minutes are saved on the way out
    ]

    app: TeamboardApp

    def __init__(self, board_id: int | None, minutes: int = 15) -> None:
        super().__init__()
        self.board_id = board_id
        self.timebox = minutes
        self.session: HuddleLog | None = None
        self.ended = False
        self._nudged = False
        self._writes: list[Worker[None]] = []

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
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.app.data_changed.subscribe(self, lambda _: self.refresh_item())
        self.set_interval(1.0, self._tick)
        self.refresh_item()

    # --- the agenda ------------------------------------------------------------------------

    def _start(self) -> bool:
        """Build the agenda and the log once the store has been read; False until then."""
        if self.session is not None:
            return True
        snap = self.app.snapshot
        if self.board_id is None:
            self.board_id = self.app.board_id
        if snap is None or self.board_id is None or self.board_id not in snap.boards:
            return False
        now, today = self.app.now(), self.app.today()
        facilitator = db.whoami()
        self.session = HuddleLog(
            board_id=self.board_id,
            board_name=snap.boards[self.board_id].name,
            facilitator=facilitator,
            started=now,
            timebox_minutes=self.timebox,
            items=hd.build_agenda(snap, self.board_id, today),
            attendees=hd.suggest_attendees(facilitator, hd.logged_in()),
        )
        self.session.show(0, now, self._status_now(0))
        return True

    @property
    def item(self) -> AgendaItem | None:
        log = self.session
        if log is None or log.current >= len(log.items):
            return None
        return log.items[log.current]

    def _view(self, kpi_id: int | None) -> KpiView | None:
        snap = self.app.snapshot
        if snap is None or kpi_id is None or kpi_id not in snap.kpis:
            return None
        board = snap.kpis[kpi_id].board
        return next((v for v in snap.views(board, self.app.today()) if v.kpi.id == kpi_id), None)

    def _status_now(self, index: int) -> str | None:
        log = self.session
        if log is None or index >= len(log.items):
            return None
        it = log.items[index]
        if it.kind is ItemKind.OVERDUE:
            return "overdue"
        view = self._view(it.kpi)
        return view.status.value if view else None

    def blocked(self) -> bool:
        item, log = self.item, self.session
        if item is None or log is None:
            return False
        return hd.blocks(item, self._view(item.kpi), log.has_note(item.kpi))

    # --- drawing ---------------------------------------------------------------------------

    def refresh_item(self) -> None:
        self.query_one(Banner).say(self.app.banner, info=self.app.banner_info)
        if not self._start():
            self.query_one("#progress", Label).update(lit("Huddle"))
            self.query_one("#wrapup", Static).update(lit(self.app.empty_message()))
            self._show_parts(item=False, wrapup=True)
            return
        log = self.session
        assert log is not None
        self._tick()
        self.query_one("#attendance", Label).update(
            lit(f"Here ({len(log.attendees)}): {', '.join(log.attendees)}")
        )
        item = self.item
        if item is None:
            self._show_wrapup(log)
            return
        self._show_parts(item=True, wrapup=False)
        self.query_one("#progress", Label).update(
            lit(
                f"Huddle {log.current + 1} of {len(log.items)} · {KIND_WORD[item.kind]}"
                f" · {log.board_name}"
            )
        )
        if item.kind is ItemKind.OVERDUE:
            self._show_action_item(item)
        else:
            self._show_kpi_item(item)
        gate = self.query_one("#gate", Static)
        blocked = self.blocked()
        gate.display = blocked
        if blocked:
            lead = "Not yet: " if self._nudged else ""
            gate.update(
                lit(
                    f"{lead}{STATUS_GLYPH[Status.RED]} {item.name} is red with no "
                    "countermeasure. Before moving on:\n"
                    "a  add an action (what, who, by when) · t  note why there is none · "
                    "S  skip (it goes in the minutes)"
                )
            )
        gate.set_class(self._nudged, "-nudged")

    def _show_parts(self, item: bool, wrapup: bool) -> None:
        for selector in ("#head", "#middle", "#actions-box"):
            self.query_one(selector).display = item
        if not item:
            self.query_one("#gate").display = False
        self.query_one("#wrapup").display = wrapup

    def _show_kpi_item(self, item: AgendaItem) -> None:
        view = self._view(item.kpi)
        if view is None:
            self._title(f"{item.name}: this KPI is gone (archived?)", None)
            return
        kpi = view.kpi
        s = view.status
        self._title(f"{STATUS_GLYPH[s]} {STATUS_WORD[s]}   {kpi.name}", s)
        latest = view.latest
        parts = [
            with_unit(latest.value, kpi.unit) if latest else "no entry yet",
            benchmark_label(view),
            variance_text(view),
            f"{TREND_ARROW[view.trend]} {view.trend.value}",
            f"latest {short_date(latest.day, self.app.today())}" if latest else "",
            *(f"⚑ {t}" for t in flag_texts(view)),
        ]
        self.query_one("#numbers", Label).update(lit("   ".join(p for p in parts if p)))
        self.query_one("#about", Label).update(lit(self._about(view)))
        self.query_one(TrendChart).show(kpi, view.history[-CHART_PERIODS:])
        self._show_notes(view)
        self._show_actions(list(view.open_actions), kpi.name, "Open actions")

    def _show_action_item(self, item: AgendaItem) -> None:
        snap = self.app.snapshot
        assert snap is not None
        action = snap.actions.get(item.action) if item.action is not None else None
        view = self._view(item.kpi)
        if action is None:
            self._title(f"#{item.action} {item.name}: this action is gone", None)
            return
        due = short_date(action.due, self.app.today()) if action.due else "no due date"
        done = " (done now)" if not action.open else ""
        self._title(f"⚠ #{action.id} {action.title}{done}", Status.RED if action.open else None)
        self.query_one("#numbers", Label).update(
            lit(
                f"{STAGE_GLYPH[action.stage]} {action.stage.value}   due {due}   "
                f"owner {action.owner or 'nobody'}"
                + (f"   serves {view.kpi.name}" if view else "   a board-level action")
            )
        )
        self.query_one("#about", Label).update(
            lit(self._about(view) if view else "m next stage · d done · e owner or due date")
        )
        chart = self.query_one(TrendChart)
        chart.display = view is not None
        if view is not None:
            chart.show(view.kpi, view.history[-CHART_PERIODS:])
            self._show_notes(view)
        else:
            self.query_one("#notes", Static).update(lit("No KPI: no notes."))
        self._show_actions([action], view.kpi.name if view else "", "This action")

    def _title(self, text: str, status: Status | None) -> None:
        title = self.query_one("#title", Label)
        title.update(lit(text))
        for s in Status:
            title.set_class(s is status, f"-{s.value}")

    def _about(self, view: KpiView) -> str:
        kpi = view.kpi
        better = "higher" if kpi.direction.value == "up" else "lower"
        about = [f"owner {kpi.owner}" if kpi.owner else "no owner"]
        if view.counter_name:
            counter = self._view(kpi.counter)
            state = ""
            if counter is not None:
                state = f" ({STATUS_GLYPH[counter.status]} {STATUS_WORD[counter.status]})"
            about.append(f"counter-metric: {view.counter_name}{state}")
        else:
            about.append("no counter-metric")
        about.append(f"{kpi.frequency.value}, {better} is better")
        if kpi.goal:
            about.append(f"serves: {kpi.goal}")
        return " · ".join(about)

    def _show_notes(self, view: KpiView) -> None:
        noted = [e for e in reversed(view.history) if e.note][:NOTES_SHOWN]
        today = self.app.today()
        text = "\n".join(
            f"{short_date(e.day, today)}: {e.note.strip()}".replace("\n", "\n  ")
            + (f" ({e.who})" if e.who else "")
            for e in noted
        )
        self.query_one("#notes", Static).update(lit(text or "No notes yet: t adds one."))

    def _show_actions(self, actions: list[Action], kpi_name: str, title: str) -> None:
        table = self.query_one("#item-actions", ActionTable)
        table.show([ActionRow(a, kpi_name) for a in actions], self.app.today())
        table.display = bool(actions)
        label = f"{title} ({len(actions)})" if actions else f"{title}: none open (a adds one)"
        self.query_one("#actions-title", Label).update(lit(label))

    def _show_wrapup(self, log: HuddleLog) -> None:
        self._show_parts(item=False, wrapup=True)
        reached = sum(1 for i in log.items if i.key in log.seen_status)
        self.query_one("#progress", Label).update(
            lit(f"Huddle wrap-up · {reached} of {len(log.items)} reviewed · {log.board_name}")
        )
        lines = []
        if not log.items:
            lines.append(f"Nothing red, stale, amber or overdue on {log.board_name}. Well done.")
        width = max(12, self.size.width - 48)
        for n, it in enumerate(log.items, 1):
            spent = log.seconds.get(it.key, 0.0)
            name = it.name if len(it.name) <= width else it.name[: width - 1] + "…"
            lines.append(
                f"{n:>2}. {KIND_WORD[it.kind]:<14} {name:<{width}} "
                f"{hd.clock(spent):>6}  {log.outcome(it).value}"
            )
        lines.append("")
        lines.append(
            f"Actions added or changed: {len(log.actions)} · notes: {len(log.notes)} · "
            f"skipped: {len(log.skips)}"
        )
        lines.append("")
        lines.append("Esc ends the huddle and saves the minutes · p goes back to the last item")
        self.query_one("#wrapup", Static).update(lit("\n".join(lines)))

    def _tick(self) -> None:
        log = self.session
        timer = self.query_one("#timer", Label)
        if log is None:
            timer.update("")
            return
        now = self.app.now()
        left = log.remaining(now)
        box = self.timebox * 60
        tail = f"{hd.clock(-left)} over" if left < 0 else f"{hd.clock(left)} left"
        item = f" · item {hd.clock(log.on_item(now))}" if self.item is not None else ""
        timer.update(lit(f"Time {hd.clock(log.elapsed(now))} / {self.timebox}:00 · {tail}{item}"))
        timer.set_class(0 <= left <= amber_from(box), "-amber")
        timer.set_class(left < 0, "-red")

    # --- stepping --------------------------------------------------------------------------

    def _go(self, index: int) -> None:
        log = self.session
        if log is None:
            return
        self._nudged = False
        log.show(index, self.app.now(), self._status_now(index))
        self.refresh_item()
        self.query_one("#item-actions", ActionTable).focus()

    def action_next(self) -> None:
        log = self.session
        if log is None or log.current >= len(log.items):
            return
        if self.blocked():
            self._nudged = True
            self.refresh_item()
            self.app.bell()  # the gate itself says what to do, now in bold
            return
        self._go(log.current + 1)

    def action_previous(self) -> None:
        log = self.session
        if log is not None and log.current > 0:
            self._go(log.current - 1)

    def action_skip(self) -> None:
        log, item = self.session, self.item
        if log is None or item is None:
            return
        if self.blocked():
            log.skipped(item, "red with no countermeasure: skipped by the facilitator")
            self.notify(f"Skipped {item.name}: it goes in the minutes.", severity="warning")
        self._go(log.current + 1)

    async def action_end(self, quit: bool = False) -> None:
        """Leave the huddle: the minutes are saved (nothing to confirm), then the board shows.

        `q` and Ctrl+C save them too, and wait for the write before the app exits.
        """
        if self.ended:
            return
        self.ended = True
        log = self.session
        if log is not None:
            for pending in self._writes:  # what they did belongs in the minutes
                await pending.wait()
            minutes = log.minutes(self.app.now(), self.app.today())
            store = self.app.store
            worker = self.app.write(
                lambda: ops.save_huddle(store, minutes),
                lambda i: f"Minutes of huddle #{i} saved: see them with teamboard minutes",
            )
            if quit:
                await worker.wait()
        if quit:
            self.app.exit()
        else:
            self.dismiss()

    # --- writes ----------------------------------------------------------------------------

    def _kpi_name(self) -> str | None:
        """The current item's KPI name, for what the screen says (writes go by id)."""
        snap, item = self.app.snapshot, self.item
        if snap is None or item is None or item.kpi is None or item.kpi not in snap.kpis:
            return None
        return snap.kpis[item.kpi].name

    def _write(
        self, fn: Callable[[], Any], record: Callable[[Any], None], message: Callable[[Any], str]
    ) -> None:
        """`app.write`, logging the result for the minutes (on the UI thread) when it succeeds."""

        def done(result: Any) -> str:
            self.app.call_from_thread(record, result)
            return message(result)

        self._writes = [w for w in self._writes if not w.is_finished]
        self._writes.append(self.app.write(fn, done))

    def action_add_action(self) -> None:
        snap, log, item = self.app.snapshot, self.session, self.item
        if snap is None or log is None or item is None:
            return
        kpi = snap.kpis.get(item.kpi) if item.kpi is not None else None
        target = kpi.board if kpi else log.board_id
        board = snap.boards[target].name if target in snap.boards else log.board_name
        choices = [(k.id, k.name) for k in snap.kpis_of(target)]
        today, store = self.app.today(), self.app.store

        def save(values: dict[str, Any] | None) -> None:
            if values is None:
                return
            p = parse_action(values, today)
            self._write(
                lambda: ops.add_action(
                    store, p["title"], board=target, kpi=p["kpi"], owner=p["owner"], due=p["due"]
                ),
                log.action_added,
                lambda a: f"Added action #{a.id}: {a.title}",
            )

        owner = kpi.owner if kpi else ""
        self.app.push_screen(
            action_form(board, choices, kpi.id if kpi else None, owner, today), save
        )

    def action_note(self) -> None:
        name, log, item = self._kpi_name(), self.session, self.item
        if name is None or log is None or item is None or item.kpi is None:
            self.notify("This item has no KPI to note.", severity="warning")
            return
        kpi_id, store = item.kpi, self.app.store
        gated = self.blocked()
        label = (
            "Why is it red, and why is there no action?"
            if gated
            else "Note (added to the latest entry)"
        )

        def save(values: dict[str, Any] | None) -> None:
            if values is None:
                return
            text = _note_text(values["note"])
            self._write(
                lambda: ops.add_note(store, kpi_id, text),
                lambda _e: log.noted(kpi_id, name, text),
                lambda e: f"Noted {name} ({e.day.isoformat()})",
            )

        self.app.push_screen(
            FormScreen(f"Note on {name}", [Field("note", label, Rule(_note_text))]), save
        )

    def _selected(self) -> Action | None:
        snap = self.app.snapshot
        selected = self.query_one("#item-actions", ActionTable).selected_id
        if snap is None or selected is None or selected not in snap.actions:
            self.notify("No action selected: add one with a", severity="warning")
            return None
        return snap.actions[selected]

    def action_move_action(self) -> None:
        self._advance(None)

    def action_done_action(self) -> None:
        self._advance(Stage.DONE)

    def _advance(self, stage: Stage | None) -> None:
        """Move the selected action to `stage` (the next one when None) and log it."""
        action, log = self._selected(), self.session
        if action is None or log is None:
            return
        if not action.open:
            self.notify(f"#{action.id} is done already", severity="warning")
            return
        old, store = action.stage, self.app.store
        self._write(
            lambda: ops.move_action(store, action.id, stage),
            lambda a: log.action_changed(a, f"{old.value} → {a.stage.value}"),
            lambda a: (
                f"Action #{a.id} done"
                if a.stage is Stage.DONE
                else f"Action #{a.id} → {a.stage.value}"
            ),
        )

    def action_edit_action(self) -> None:
        action, log = self._selected(), self.session
        if action is None or log is None:
            return
        today, store = self.app.today(), self.app.store

        def save(values: dict[str, Any] | None) -> None:
            if values is None:
                return
            owner = validate.owner(values["owner"])
            due = due_date(values["due"], today)
            changes: dict[str, Any] = {}
            what = []
            if owner != action.owner:
                changes["owner"] = owner
                what.append(f"owner {action.owner or 'nobody'} → {owner or 'nobody'}")
            if due != action.due:
                changes["due"], changes["clear_due"] = due, due is None
                what.append(f"due {_day(action.due)} → {_day(due)}")
            if not changes:
                self.notify("Nothing changed.")
                return
            self._write(
                lambda: ops.edit_action(store, action.id, **changes),
                lambda a: log.action_changed(a, "; ".join(what)),
                lambda a: f"Action #{a.id}: {'; '.join(what)}",
            )

        self.app.push_screen(
            FormScreen(
                f"Action #{action.id}: owner and due date",
                [
                    Field(
                        "owner",
                        "Owner (login)",
                        Rule(validate.owner, optional=True),
                        value=action.owner,
                    ),
                    Field(
                        "due",
                        "Due (YYYY-MM-DD or +N days; empty for none)",
                        Rule(lambda t: due_date(t, today)),
                        value=action.due.isoformat() if action.due else "",
                    ),
                ],
            ),
            save,
        )

    def action_record(self) -> None:
        item = self.item
        if item is not None and item.kpi is not None:
            self.app.record_for(item.kpi)

    def action_attendance(self) -> None:
        log = self.session
        if log is None:
            return

        def save(values: dict[str, Any] | None) -> None:
            if values is None:
                return
            log.attendees = hd.parse_attendees(values["attendees"])
            self.refresh_item()

        self.app.push_screen(
            FormScreen(
                "Who is at the huddle?",
                [
                    Field(
                        "attendees",
                        "Logins, separated by commas",
                        Rule(hd.parse_attendees),
                        value=", ".join(log.attendees),
                    )
                ],
            ),
            save,
        )


def _day(d: date | None) -> str:
    return d.isoformat() if d else "none"
