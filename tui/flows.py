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

from store import db, escalation, ops, present, reviews, validate
from store import explain as explanations
from store.errors import BadInput, StoreError
from store.model import Action, Explanation, Stage, Status
from store.present import short_date, status_text

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
from .tier_forms import answer_form, escalate_form, review_form, take_form

if TYPE_CHECKING:
    from .app import TeamboardApp

T = TypeVar("T")
Values = dict[str, Any] | None  # what a form hands back; None when cancelled
WRITES = "write"  # the worker group of every write


def refused(app: TeamboardApp) -> bool:
    """On a read-only board (as of a past day, served read-only), say why once and write
    nothing: every flow asks before it opens its form."""
    if app.read_only is None:
        return False
    app.notify(f"read-only: {app.read_only}", severity="warning")
    return True


def write(
    app: TeamboardApp,
    fn: Callable[[], T],
    said: Callable[[T], str],
    then: Callable[[T], None] | None = None,
) -> Worker[None] | None:
    """Run a store operation off the UI thread; log it (`then`), say so, and reload at once.

    On a read-only board nothing runs (None), and the notice says why."""
    if refused(app):
        return None

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
    if refused(app):
        return
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
    if refused(app):
        return
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
    if refused(app):
        return
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
    if refused(app):
        return
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


def until_date(text: str, today: date) -> date | None:
    """An explanation's last day: a date from today on, `+N` days; empty for the default."""
    until = due_date(text, today)
    if until is not None and until < today:
        raise BadInput(f"{until.isoformat()} has passed: an explanation holds until a later day")
    return until


def explain(
    app: TeamboardApp,
    kpi_id: int,
    then: Callable[[int, str, str], None] | None = None,
) -> None:
    """Why the KPI is red and has no action, until a day (default: the end of the next period):
    the red-no-action flag gives way to "explained: …" and the huddle's gate opens, until then.
    `then(kpi_id, name, text)`, as for a note."""
    if refused(app):
        return
    snap = app.snapshot
    if snap is None or kpi_id not in snap.kpis:
        app.notify("This item has no KPI to explain.", severity="warning")
        return
    kpi, today = snap.kpis[kpi_id], app.today()
    default = explanations.default_until(kpi, today)

    def save(values: Values) -> None:
        if values is None:
            return
        text = note_text(values["why"])
        until = until_date(values["until"], today)

        def said(x: Explanation) -> str:
            return f"Explained {kpi.name} until {short_date(x.until, today)}"

        write(
            app,
            lambda: explanations.explain(app.store, kpi_id, text, today, until),
            said,
            None if then is None else lambda _x: then(kpi_id, kpi.name, f"explained: {text}"),
        )

    fields = [
        Field("why", "Why is it red, and why is there no action?", Rule(note_text)),
        Field(
            "until",
            f"Until (YYYY-MM-DD or +N days; empty: {short_date(default, today)})",
            Rule(lambda t: until_date(t, today), optional=True),
        ),
    ]
    app.push_screen(FormScreen(f"Explain {kpi.name}", fields), save)


def edit_action(
    app: TeamboardApp, action_id: int, then: Callable[[Action, str], None] | None = None
) -> None:
    """Change an action's owner or due date; `then(action, what changed)`."""
    if refused(app):
        return
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


# --- the tiers: escalate, answer, take over, review ---------------------------------------------


def ancestors(app: TeamboardApp, board_id: int) -> list[tuple[int, str]]:
    """The boards above `board_id`, the parent first (where an escalation may go)."""
    snap = app.snapshot
    out: list[tuple[int, str]] = []
    if snap is None or board_id not in snap.boards:
        return out
    current = snap.boards[board_id].parent
    while current is not None and current in snap.boards and len(out) < 16:
        out.append((current, snap.boards[current].name))
        current = snap.boards[current].parent
    return out


def escalate(
    app: TeamboardApp, action_id: int, then: Callable[[Action, str], None] | None = None
) -> None:
    """Raise an open action to the board above (or a named ancestor), saying why."""
    if refused(app):
        return
    action = _action(app, action_id)
    if action is None:
        return
    if not action.open:
        app.notify(f"#{action.id} is done already: nothing to escalate", severity="warning")
        return
    if action.waiting:
        app.notify(f"#{action.id} is already escalated and waiting", severity="warning")
        return
    targets = ancestors(app, action.board)
    if not targets:
        app.notify("This board has no board above to escalate to", severity="warning")
        return
    names = dict(targets)

    def save(values: Values) -> None:
        if values is None:
            return
        why, to = validate.text(values["why"]), values["to"]
        write(
            app,
            lambda: escalation.escalate(app.store, action_id, why, to),
            lambda a: f"Escalated #{a.id} to {names.get(to, 'the board above')}",
            None if then is None else lambda a: then(a, f"escalated to {names.get(to, '?')}"),
        )

    app.push_screen(escalate_form(action.title, action.id, targets), save)


def answer(
    app: TeamboardApp, action_id: int, then: Callable[[Action, str], None] | None = None
) -> None:
    """Answer an escalation waiting at this board: the team sees the note on its board."""
    if refused(app):
        return
    action = _action(app, action_id)
    snap = app.snapshot
    if action is None or snap is None:
        return
    if not action.waiting:
        app.notify(f"#{action.id} is not waiting for an answer", severity="warning")
        return
    where = present.waiting_text(action, snap.boards, app.today())

    def save(values: Values) -> None:
        if values is None:
            return
        note = validate.text(values["note"])
        write(
            app,
            lambda: escalation.answer(app.store, action_id, note),
            lambda a: f"Answered #{a.id}: the team sees it on its board",
            None if then is None else lambda a: then(a, f"escalation answered: {note}"),
        )

    app.push_screen(answer_form(action.title, action.id, where), save)


def take_over(
    app: TeamboardApp, action_id: int, then: Callable[[Action, str], None] | None = None
) -> None:
    """Take an escalated action over: it moves to the board above, with its history."""
    if refused(app):
        return
    action = _action(app, action_id)
    if action is None:
        return
    if not action.waiting:
        app.notify(f"#{action.id} is not waiting at this board", severity="warning")
        return

    def save(values: Values) -> None:
        if values is None:
            return
        owner = validate.owner(values["owner"]) or None
        write(
            app,
            lambda: escalation.take(app.store, action_id, owner),
            lambda a: f"Took over #{a.id}: it is on this board now",
            None if then is None else lambda a: then(a, "escalation taken over"),
        )

    app.push_screen(take_form(action.title, action.id, db.whoami()), save)


def review(app: TeamboardApp, board_id: int | None) -> None:
    """Record that a leader looked at the board, and what they asked."""
    if refused(app):
        return
    snap = app.snapshot
    board = app.views(board_id)
    if snap is None or board_id is None or board is None or board_id not in snap.boards:
        return
    name = snap.boards[board_id].name
    reds = sum(1 for v in board.kpis if v.status is Status.RED)
    today = app.today()

    def save(values: Values) -> None:
        if values is None:
            return
        note = validate.text(values["note"])
        write(
            app,
            lambda: reviews.add_review(app.store, board_id, today, note),
            lambda r: f"Review of {name} recorded",
        )

    app.push_screen(review_form(name, reds), save)
