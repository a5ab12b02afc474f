"""What the detail and the huddle screens say about a KPI, an action and a huddle, as plain
strings built from the views and the huddle's log.

No Textual here: the screens show these lines literally (store text stays text), and a test can
read them without an app.
"""

from __future__ import annotations

from datetime import date, datetime

from store import huddle as hd
from store import plans
from store.huddle import AgendaItem, HuddleLog, ItemKind
from store.model import Action, Status
from store.present import (
    STAGE_GLYPH,
    STATUS_GLYPH,
    benchmark_label,
    flag_texts,
    num,
    short_date,
    status_text,
    trend_text,
    variance_text,
    with_unit,
)
from store.rules import KpiView, period_start
from store.snapshot import Snapshot

NOTES_SHOWN = 5
KIND_WORD = {
    ItemKind.RED: "red",
    ItemKind.STALE: "stale",
    ItemKind.AMBER: "amber",
    ItemKind.OVERDUE: "overdue action",
    ItemKind.ESCALATION: "escalation",
    ItemKind.LATE: "late",
}


def numbers(view: KpiView, today: date | None = None) -> str:
    """The latest value, what it is held against, the variance, the trend and the flags; with
    `today`, also the day of the latest value (the huddle asks "how fresh is it?")."""
    latest = view.latest
    parts = [
        with_unit(latest.value, view.kpi.unit) if latest else "no entry yet",
        benchmark_label(view),
        variance_text(view),
        trend_text(view.trend),
        f"latest {short_date(latest.day, today)}" if latest and today else "",
        *(f"⚑ {t}" for t in flag_texts(view, view.today)),
    ]
    return "   ".join(p for p in parts if p)


def estimated_by(view: KpiView, snap: Snapshot) -> str:
    """`   estimated by ben`: whose estimate the latest actual is held against, when it is one
    made before the work (`teamboard plan`) rather than a plan recorded with the actual."""
    latest = view.latest
    if latest is None or latest.plan is None:
        return ""
    raw = next((e for e in snap.entries.get(view.kpi.id, ()) if e.id == latest.id), None)
    if raw is not None and raw.plan is not None:
        return ""  # a plan typed with the actual
    start = period_start(view.kpi.frequency, latest.day)
    mine = [x for x in plans.estimate_series(snap, view.kpi.id) if x.day == start]
    return f"   estimated by {mine[-1].by}" if mine and mine[-1].by else ""


def _better(view: KpiView) -> str:
    return "higher" if view.kpi.direction.value == "up" else "lower"


def detail_about(view: KpiView) -> str:
    """What the number means, then the facts about it: kind, owner, amber, counter, targets."""
    kpi = view.kpi
    about = [
        f"{kpi.kind.value}, {kpi.frequency.value}, {_better(view)} is better",
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
    return text


def huddle_about(view: KpiView, counter: KpiView | None) -> str:
    """The owner, the counter-metric and how it stands, the frequency and the goal."""
    kpi = view.kpi
    about = [f"owner {kpi.owner}" if kpi.owner else "no owner"]
    if view.counter_name:
        state = f" ({status_text(counter.status)})" if counter is not None else ""
        about.append(f"counter-metric: {view.counter_name}{state}")
    else:
        about.append("no counter-metric")
    about.append(f"{kpi.frequency.value}, {_better(view)} is better")
    if kpi.goal:
        about.append(f"serves: {kpi.goal}")
    return " · ".join(about)


def notes(view: KpiView, today: date) -> str:
    """The latest notes, newest first, each with its day and who wrote it."""
    noted = [e for e in reversed(view.history) if e.note][:NOTES_SHOWN]
    text = "\n".join(
        f"{short_date(e.day, today)}: {e.note.strip()}".replace("\n", "\n  ")
        + (f" ({e.who})" if e.who else "")
        for e in noted
    )
    return text or "No notes yet: t adds one."


def action_numbers(action: Action, view: KpiView | None, today: date) -> str:
    """An overdue action's stage, due date, owner and the KPI it serves."""
    due = short_date(action.due, today) if action.due else "no due date"
    return (
        f"{STAGE_GLYPH[action.stage]} {action.stage.value}   due {due}   "
        f"owner {action.owner or 'nobody'}"
        + (f"   serves {view.kpi.name}" if view else "   a board-level action")
    )


def gate(item: AgendaItem, nudged: bool, read_only: str | None = None) -> str:
    """What the countermeasure gate asks for; "Not yet" once someone tried to pass it. On a
    read-only board nothing can be added: it says so, and that S moves on."""
    lead = "Not yet: " if nudged else ""
    if read_only is not None:
        return (
            f"{lead}{STATUS_GLYPH[Status.RED]} {item.name} was red with no countermeasure.\n"
            f"read-only ({read_only}): nothing can be added here · S  move on (no minutes kept)"
        )
    return (
        f"{lead}{STATUS_GLYPH[Status.RED]} {item.name} is red with no countermeasure. "
        "Before moving on:\n"
        "a  add an action (what, who, by when) · t  explain why there is none · "
        "S  skip (it goes in the minutes)"
    )


def progress(log: HuddleLog) -> str:
    item = log.item
    if item is None:
        return f"Huddle wrap-up · {log.reached} of {len(log.items)} reviewed · {log.board_name}"
    return (
        f"Huddle {log.current + 1} of {len(log.items)} · {KIND_WORD[item.kind]}"
        f" · {log.board_name}"
    )


def attendance(log: HuddleLog) -> str:
    return f"Here ({len(log.attendees)}): {', '.join(log.attendees)}"


def timer(log: HuddleLog, now: datetime) -> str:
    """Time spent of the box, what is left (or over), and the time on the current item."""
    left = log.remaining(now)
    tail = f"{hd.clock(-left)} over" if left < 0 else f"{hd.clock(left)} left"
    item = f" · item {hd.clock(log.on_item(now))}" if log.item is not None else ""
    return f"Time {hd.clock(log.elapsed(now))} / {log.timebox_minutes}:00 · {tail}{item}"


def wrapup(log: HuddleLog, width: int, read_only: str | None = None) -> str:
    """Every item with its time and outcome, what was done, and how to end (`width`: the
    screen's, for the names)."""
    lines = []
    if not log.items:
        lines.append(f"Nothing red, stale, amber or overdue on {log.board_name}. Well done.")
    room = max(12, width - 48)
    for n, it in enumerate(log.items, 1):
        spent = log.seconds.get(it.key, 0.0)
        name = it.name if len(it.name) <= room else it.name[: room - 1] + "…"
        lines.append(
            f"{n:>2}. {KIND_WORD[it.kind]:<14} {name:<{room}} "
            f"{hd.clock(spent):>6}  {log.outcome(it).value}"
        )
    lines += [
        "",
        f"Actions added or changed: {len(log.actions)} · notes: {len(log.notes)} · "
        f"skipped: {len(log.skips)}",
        "",
        "Esc ends the huddle and saves the minutes · p goes back to the last item"
        if read_only is None
        else f"Esc ends the huddle (read-only, {read_only}: no minutes are kept) · p goes back",
    ]
    return "\n".join(lines)
