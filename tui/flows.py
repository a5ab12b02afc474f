"""What a person writes from the app: record a value, add an action, move it a stage on, mark it
done, note why a KPI is red, change an action's owner or due date.

One implementation for every screen (the board, the detail, the huddle): each flow opens its
form, writes by id through `store.ops` in a thread (a teammate's rename in between cannot
redirect the write), says what happened and reloads. A screen that keeps a log (the huddle)
passes `then`, which runs on the UI thread before the write's worker ends, so whoever waits for
the pending writes (`pending`) finds the log complete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from textual.worker import Worker

from store import ops, validate
from store.errors import BadInput, StoreError
from store.model import Action, Stage
from store.present import status_text

from .forms import (
    Field,
    FormScreen,
    Rule,
    action_form,
    due_date,
    parse_action,
    parse_record,
    record_form,
)

if TYPE_CHECKING:
    from .app import TeamboardApp

T = TypeVar("T")
Values = dict[str, Any] | None  # what a form hands back; None when cancelled
WRITES = "write"  # the worker group of every write


def write(
    app: TeamboardApp,
    fn: Callable[[], T],
    said: Callable[[T], str],
    then: Callable[[T], None] | None = None,
) -> Worker[None]:
    """Run a store operation off the UI thread; log it (`then`), say so, and reload at once."""

    def run() -> None:
        try:
            result = fn()
        except StoreError as exc:
            app.call_from_thread(app.notify, str(exc), title="Not saved", severity="error")
            return
        if then is not None:
            app.call_from_thread(then, result)
        app.call_from_thread(app.notify, said(result))
        app.call_from_thread(app.request_reload)

    return app.run_worker(run, thread=True, group=WRITES)


def pending(app: TeamboardApp) -> list[Worker[Any]]:
    """The writes still running."""
    return [w for w in app.workers if w.group == WRITES and not w.is_finished]


def record(app: TeamboardApp, kpi_id: int) -> None:
    """The record form for one KPI: value, date, plan, note."""
    snap = app.snapshot
    if snap is None or kpi_id not in snap.kpis:
        return
    kpi, today = snap.kpis[kpi_id], app.today()

    def save(values: Values) -> None:
        if values is None:
            return
        parsed = parse_record(values, today)

        def said(r: ops.Recorded) -> str:
            return f"Recorded {r.view.kpi.name}: {status_text(r.view.status)}"

        write(app, lambda: ops.record(app.store, kpi.id, today=today, **parsed), said)

    app.push_screen(record_form(kpi.name, kpi.unit, today), save)


def add_action(
    app: TeamboardApp,
    kpi_id: int | None,
    board_id: int | None,
    then: Callable[[Action], None] | None = None,
) -> None:
    """A countermeasure for the KPI (owned by its owner, due in a week), or for the board."""
    snap = app.snapshot
    kpi = snap.kpis.get(kpi_id) if snap is not None and kpi_id is not None else None
    target = kpi.board if kpi else board_id
    if snap is None or target is None or target not in snap.boards:
        return
    choices = [(k.id, k.name) for k in snap.kpis_of(target)]
    today = app.today()

    def save(values: Values) -> None:
        if values is None:
            return
        p = parse_action(values, today)
        write(
            app,
            lambda: ops.add_action(
                app.store, p["title"], board=target, kpi=p["kpi"], owner=p["owner"], due=p["due"]
            ),
            lambda a: f"Added action #{a.id}: {a.title}",
            then,
        )

    owner = kpi.owner if kpi else ""
    form = action_form(snap.boards[target].name, choices, kpi.id if kpi else None, owner, today)
    app.push_screen(form, save)


def _action(app: TeamboardApp, action_id: int) -> Action | None:
    """The action as the app has it; None, said, when it is gone."""
    snap = app.snapshot
    action = snap.actions.get(action_id) if snap is not None else None
    if action is None:
        app.notify(f"Action #{action_id} is gone", severity="warning")
    return action


@dataclass(frozen=True)
class Undo:
    """The last stage change made from this app, and how to take it back."""

    action_id: int
    before: Stage  # the stage to restore
    after: Stage  # the stage the change left it in: undo only if it is still there
    said: str


UNDO_KEY = "u"


def move_stage(
    app: TeamboardApp,
    action_id: int,
    stage: Stage | None = None,
    then: Callable[[Action, str], None] | None = None,
) -> None:
    """Move an open action to `stage` (its next PDCA stage when None); `then(action, what)`.

    The notice says what changed, from and to, and offers the undo key (see `undo`).
    """
    action = _action(app, action_id)
    if action is None:
        return
    if not action.open:
        app.notify(f"#{action.id} is done already", severity="warning")
        return
    old = action.stage

    def said(a: Action) -> str:
        moved = "done" if a.stage is Stage.DONE else f"{old.value} → {a.stage.value}"
        return f"Action #{a.id} {moved}: {a.title}   ({UNDO_KEY} undo)"

    def remember(a: Action) -> None:
        app.last_undo = Undo(a.id, old, a.stage, f"#{a.id} {old.value} → {a.stage.value}")
        if then is not None:
            then(a, f"{old.value} → {a.stage.value}")

    write(app, lambda: ops.move_action(app.store, action_id, stage), said, remember)


def done(
    app: TeamboardApp, action_id: int, then: Callable[[Action, str], None] | None = None
) -> None:
    move_stage(app, action_id, Stage.DONE, then)


def undo(app: TeamboardApp) -> None:
    """Take back the last stage change: a new write that moves the action back (its history
    keeps both moves; nothing is deleted). Refused when someone moved it since."""
    last = app.last_undo
    if last is None:
        app.notify("Nothing to undo.", severity="warning")
        return
    action = _action(app, last.action_id)
    if action is None:
        app.last_undo = None
        return
    if action.stage is not last.after:
        app.last_undo = None
        app.notify(
            f"Not undone: #{action.id} is in {action.stage.value} now, not {last.after.value} "
            "(changed since).",
            severity="warning",
        )
        return
    app.last_undo = None
    write(
        app,
        lambda: ops.move_action(app.store, last.action_id, last.before),
        lambda a: f"Undone: action #{a.id} back to {a.stage.value} ({last.said} taken back)",
    )


def note_text(text: str) -> str:
    cleaned = validate.text(text)
    if not cleaned:
        raise BadInput("write the note: why is it red, and why is there no action?")
    return cleaned


def note(
    app: TeamboardApp,
    kpi_id: int,
    why_no_action: bool = False,
    then: Callable[[int, str, str], None] | None = None,
) -> None:
    """A note on the KPI's latest entry; `why_no_action` asks the gate's question;
    `then(kpi_id, name, text)`."""
    snap = app.snapshot
    if snap is None or kpi_id not in snap.kpis:
        app.notify("This item has no KPI to note.", severity="warning")
        return
    name = snap.kpis[kpi_id].name
    label = (
        "Why is it red, and why is there no action?"
        if why_no_action
        else "Note (added to the latest entry)"
    )

    def save(values: Values) -> None:
        if values is None:
            return
        text = note_text(values["note"])
        write(
            app,
            lambda: ops.add_note(app.store, kpi_id, text),
            lambda e: f"Noted {name} ({e.day.isoformat()})",
            None if then is None else lambda _e: then(kpi_id, name, text),
        )

    app.push_screen(FormScreen(f"Note on {name}", [Field("note", label, Rule(note_text))]), save)


def edit_action(
    app: TeamboardApp, action_id: int, then: Callable[[Action, str], None] | None = None
) -> None:
    """Change an action's owner or due date; `then(action, what changed)`."""
    action = _action(app, action_id)
    if action is None:
        return
    today = app.today()

    def save(values: Values) -> None:
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
            app.notify("Nothing changed.")
            return
        said = "; ".join(what)
        write(
            app,
            lambda: ops.edit_action(app.store, action_id, **changes),
            lambda a: f"Action #{a.id}: {said}",
            None if then is None else lambda a: then(a, said),
        )

    fields = [
        Field("owner", "Owner (login)", Rule(validate.owner, optional=True), value=action.owner),
        Field(
            "due",
            "Due (YYYY-MM-DD or +N days; empty for none)",
            Rule(lambda t: due_date(t, today)),
            value=action.due.isoformat() if action.due else "",
        ),
    ]
    app.push_screen(FormScreen(f"Action #{action.id}: owner and due date", fields), save)


def _day(d: date | None) -> str:
    return d.isoformat() if d else "none"
