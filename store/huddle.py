"""The daily huddle without a screen: its agenda, its log, its minutes and their Markdown.

Pure functions and a plain log object: no clock is read here (every time is passed in) and
nothing touches the file; the huddle screen feeds the log and saves `minutes()` through
`ops.save_huddle`, and `teamboard minutes` renders the saved records with `markdown`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from . import validate
from .errors import BadInput
from .model import Action, Board, Review, Status
from .present import review_text, waiting_text
from .rules import Flag, KpiView, shortfall


class ItemKind(StrEnum):
    RED = "red"
    STALE = "stale"
    AMBER = "amber"
    OVERDUE = "overdue"  # an overdue action
    ESCALATION = "escalation"  # an action a board below raised to this one, waiting
    LATE = "late"  # a KPI whose value is past its due time (not red or stale already)


class Outcome(StrEnum):
    ACTION = "action added"
    NOTED = "noted"
    SKIPPED = "skipped"
    REVIEWED = "reviewed"
    NOT_REACHED = "not reached"


@dataclass(frozen=True, slots=True)
class AgendaItem:
    """One thing to talk about: a KPI (red, stale, amber) or an overdue action."""

    kind: ItemKind
    name: str  # the KPI's name, or the action's title
    kpi: int | None  # the KPI (for an action: the KPI it serves, if any)
    action: int | None = None
    status: str = ""  # the status when the agenda was built

    @property
    def key(self) -> str:
        return f"action-{self.action}" if self.action is not None else f"kpi-{self.kpi}"

    @property
    def gated(self) -> bool:
        """A red KPI needs a countermeasure (or a reason for none) before the huddle moves on."""
        return self.kind is ItemKind.RED


def _miss(view: KpiView) -> float:
    return shortfall(view.kpi, view.latest) if view.latest is not None else 0.0


def build_agenda(
    views: Sequence[KpiView],
    actions: Sequence[Action],
    today: date,
    escalations: Sequence[Action] = (),
    boards: Mapping[int, Board] | None = None,
) -> list[AgendaItem]:
    """Escalations waiting for this board first (oldest first: `tiers.escalations_to`), then
    red KPIs (largest miss first), stale ones (longest first), late ones (past their due time,
    not red), amber ones, overdue actions.

    `views` and `actions` are the board's (its open actions); an overdue action whose KPI is on
    the agenda already is shown with that KPI, not twice.
    """
    first = [
        AgendaItem(
            ItemKind.ESCALATION, a.title, a.kpi, a.id, status=waiting_text(a, boards or {}, today)
        )
        for a in escalations
    ]

    def of(status: Status) -> list[KpiView]:
        return [v for v in views if v.status is status]

    reds = sorted(of(Status.RED), key=lambda v: (-_miss(v), v.kpi.id))
    stale = sorted(of(Status.STALE), key=lambda v: (v.stale_since or date.max, v.kpi.id))
    amber = sorted(of(Status.AMBER), key=lambda v: (-_miss(v), v.kpi.id))
    late = [v for v in views if Flag.LATE in v.flags and v.status is not Status.RED]
    amber = [v for v in amber if Flag.LATE not in v.flags]
    items = [
        AgendaItem(kind, v.kpi.name, v.kpi.id, status=v.status.value)
        for kind, group in (
            (ItemKind.RED, reds),
            (ItemKind.STALE, stale),
            (ItemKind.LATE, late),
            (ItemKind.AMBER, amber),
        )
        for v in group
    ]
    on_agenda = {i.kpi for i in items}
    overdue = [
        a
        for a in actions
        if a.overdue(today) and (a.kpi is None or a.kpi not in on_agenda)
    ]
    items += [
        AgendaItem(ItemKind.OVERDUE, a.title, a.kpi, a.id, status="overdue")
        for a in overdue
    ]
    return first + items


def blocks(item: AgendaItem, view: KpiView | None, noted: bool) -> bool:
    """True while a red item may not be passed: still red, no open action, no note why, and
    no explanation in force (`teamboard explain`, `t`)."""
    if not item.gated or view is None or noted:
        return False
    return view.status is Status.RED and not view.open_actions and view.explanation is None


def status_now(item: AgendaItem, view: KpiView | None) -> str | None:
    """The item's status as it is shown: its KPI's today, `overdue` for an action."""
    if item.kind is ItemKind.OVERDUE:
        return "overdue"
    if item.kind is ItemKind.ESCALATION:
        return item.status
    return view.status.value if view else None


def amber_from(timebox_s: float) -> float:
    """Seconds left when the timer turns amber: the last 3 minutes, or a fifth of a short box."""
    return min(180.0, timebox_s / 5)


# --- attendance -------------------------------------------------------------------------------


def parse_who(output: str) -> list[str]:
    """The logins in `who` output (the first word of each line), deduplicated, in order."""
    logins: list[str] = []
    for line in output.splitlines():
        words = line.split()
        if words and words[0] not in logins:
            logins.append(words[0])
    return logins


def logged_in() -> list[str]:
    """Who is logged in to this machine, from `who`; empty when it cannot be run."""
    try:
        done = subprocess.run(
            ["who"], capture_output=True, text=True, timeout=2, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_who(done.stdout) if done.returncode == 0 else []


def suggest_attendees(facilitator: str, logins: Iterable[str]) -> list[str]:
    """The facilitator first, then everyone logged in, each once."""
    out = [facilitator]
    for login in logins:
        if login not in out:
            out.append(login)
    return out


def parse_attendees(text: str) -> list[str]:
    """Logins separated by commas (or spaces), each checked like an owner, deduplicated."""
    out: list[str] = []
    for part in text.replace(",", " ").split():
        login = validate.owner(part)
        if login and login not in out:
            out.append(login)
    if not out:
        raise BadInput("name at least one attendee: logins separated by commas, e.g. ana, ben")
    return out


# --- the log of one huddle --------------------------------------------------------------------


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


@dataclass
class HuddleLog:
    """What happened in a huddle, as it happens; `minutes()` turns it into the stored record."""

    board_id: int
    board_name: str
    facilitator: str
    started: datetime
    timebox_minutes: int
    items: list[AgendaItem]
    attendees: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    seen_status: dict[str, str] = field(default_factory=dict)  # status when first shown
    actions: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    skips: list[dict[str, Any]] = field(default_factory=list)
    current: int = 0
    entered: datetime | None = None

    # --- time ----------------------------------------------------------------------------

    def elapsed(self, now: datetime) -> float:
        return max(0.0, (now - self.started).total_seconds())

    def remaining(self, now: datetime) -> float:
        return self.timebox_minutes * 60 - self.elapsed(now)

    def timer_colour(self, now: datetime) -> Status:
        """Green, amber near the end (`amber_from`), red once the time box is spent."""
        left = self.remaining(now)
        if left < 0:
            return Status.RED
        return Status.AMBER if left <= amber_from(self.timebox_minutes * 60) else Status.GREEN

    def on_item(self, now: datetime) -> float:
        """Seconds spent on the current item so far, this visit and earlier ones."""
        key = self.current_key
        before = self.seconds.get(key, 0.0) if key else 0.0
        this = (now - self.entered).total_seconds() if self.entered else 0.0
        return before + max(0.0, this)

    @property
    def item(self) -> AgendaItem | None:
        """The item on screen; None at the wrap-up."""
        return self.items[self.current] if 0 <= self.current < len(self.items) else None

    @property
    def current_key(self) -> str | None:
        return self.item.key if self.item else None

    @property
    def reached(self) -> int:
        """How many items have been on screen."""
        return sum(1 for i in self.items if i.key in self.seen_status)

    def blocked(self, view: KpiView | None) -> bool:
        """The gate on the current item, given its KPI's view today."""
        item = self.item
        return item is not None and blocks(item, view, self.has_note(item.kpi))

    def show(self, index: int, now: datetime, status: str | None = None) -> None:
        """Move to item `index` (len(items) is the wrap-up), banking the time on the last one."""
        self._bank(now)
        self.current = max(0, min(index, len(self.items)))
        self.entered = now
        key = self.current_key
        if key is not None and key not in self.seen_status:
            self.seen_status[key] = status or self.items[self.current].status
            self.seconds.setdefault(key, 0.0)

    def _bank(self, now: datetime) -> None:
        key = self.current_key
        if key is not None and self.entered is not None:
            spent = max(0.0, (now - self.entered).total_seconds())
            self.seconds[key] = self.seconds.get(key, 0.0) + spent
        self.entered = now

    # --- what was done -------------------------------------------------------------------

    def action_added(self, action: Action) -> None:
        due = f", due {action.due.isoformat()}" if action.due else ""
        owner = f"owner {action.owner}" if action.owner else "no owner"
        self.actions.append(
            {"id": action.id, "kpi": action.kpi, "title": action.title,
             "what": f"added ({owner}{due})"}
        )

    def action_changed(self, action: Action, what: str) -> None:
        self.actions.append(
            {"id": action.id, "kpi": action.kpi, "title": action.title, "what": what}
        )

    def noted(self, kpi: int, name: str, text: str) -> None:
        self.notes.append({"kpi": kpi, "name": name, "text": text})

    def has_note(self, kpi: int | None) -> bool:
        return kpi is not None and any(n["kpi"] == kpi for n in self.notes)

    def skipped(self, item: AgendaItem, reason: str) -> None:
        self.skips.append(
            {"item": item.key, "kpi": item.kpi, "name": item.name, "reason": reason}
        )

    def outcome(self, item: AgendaItem) -> Outcome:
        if any(s["item"] == item.key for s in self.skips):
            return Outcome.SKIPPED
        added = [a for a in self.actions if a["what"].startswith("added")]
        if item.kpi is not None and any(a["kpi"] == item.kpi for a in added):
            return Outcome.ACTION
        if self.has_note(item.kpi):
            return Outcome.NOTED
        if item.key in self.seen_status:
            return Outcome.REVIEWED
        return Outcome.NOT_REACHED

    # --- the record ----------------------------------------------------------------------

    def minutes(self, ended: datetime, day: date) -> dict[str, Any]:
        """The huddle record for `ops.save_huddle` (which adds its id, who and at)."""
        self._bank(ended)
        return {
            "date": day.isoformat(),
            "board": self.board_name,
            "board_id": self.board_id,
            "facilitator": self.facilitator,
            "attendees": list(self.attendees),
            "started": _iso(self.started),
            "ended": _iso(ended),
            "duration_s": round(self.elapsed(ended)),
            "timebox_min": self.timebox_minutes,
            "items": [
                {
                    "kind": item.kind.value,
                    "name": item.name,
                    "kpi": item.kpi,
                    "action": item.action,
                    "status": self.seen_status.get(item.key, item.status),
                    "seconds": round(self.seconds.get(item.key, 0.0)),
                    "outcome": self.outcome(item).value,
                }
                for item in self.items
            ],
            "actions": list(self.actions),
            "notes": list(self.notes),
            "skips": list(self.skips),
        }


# --- reading minutes back ---------------------------------------------------------------------


def pick(
    huddles: Sequence[dict[str, Any]], board_id: int | None = None, day: date | None = None
) -> list[dict[str, Any]]:
    """The records of `board_id` (any when None) held on `day` (when given), oldest first."""
    out = [
        h
        for h in huddles
        if (board_id is None or h.get("board_id") == board_id)
        and (day is None or h.get("date") == day.isoformat())
    ]
    return sorted(out, key=lambda h: (h.get("started", ""), h.get("id", 0)))


def clock(seconds: float) -> str:
    """`4:05`, `1:02:03`; negative values get a minus sign."""
    sign = "−" if seconds < 0 else ""
    s = round(abs(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m}:{s:02d}"


def _hhmm(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).strftime("%H:%M")
    except (TypeError, ValueError):
        return "?"


def _cell(text: object) -> str:
    """Text for a Markdown table cell: one line, pipes escaped, control characters visible."""
    return _line(text).replace("|", "\\|")


def _line(text: object) -> str:
    """Store text on one line, with escape sequences shown (␛), never obeyed: the minutes are
    printed, piped and pasted, not only shown by teamboard."""
    return validate.printable(" ".join(str(text).split()))


def markdown(h: dict[str, Any]) -> str:
    """One huddle's minutes as Markdown: who, when, each item, actions, notes and skips."""
    try:
        day = date.fromisoformat(h.get("date", "")).strftime("%a %-d %b %Y")
    except ValueError:
        day = str(h.get("date", "?"))
    out = [f"# Huddle · {_line(h.get('board', '?'))} · {day}", ""]
    attendees = h.get("attendees") or []
    out.append(f"- Facilitator: {_line(h.get('facilitator', '?'))}")
    out.append(f"- Attendees ({len(attendees)}): {_line(', '.join(attendees)) or 'none noted'}")
    duration = h.get("duration_s", 0)
    box = h.get("timebox_min")
    over = ""
    if box and duration > box * 60:
        over = f", {clock(duration - box * 60)} over"
    out.append(
        f"- Time: {_hhmm(h.get('started', ''))}–{_hhmm(h.get('ended', ''))}, "
        f"{clock(duration)}" + (f" of {box} min{over}" if box else "")
    )
    review = h.get("last_review")
    if isinstance(review, dict):
        note = review.get("note") or ""
        asked = f" ({_line(note)})" if note else ""
        out.append(f"- Last review: {_line(review.get('text', ''))}{asked}")
    items = h.get("items") or []
    reached = sum(1 for i in items if i.get("outcome") != Outcome.NOT_REACHED.value)
    out += ["", f"## Agenda ({reached} of {len(items)} reviewed)", ""]
    if items:
        out += ["| # | Item | Status | Time | Outcome |", "|---|---|---|---|---|"]
        for n, i in enumerate(items, 1):
            name = i.get("name", "?")
            if i.get("action") is not None:
                name = f"#{i['action']} {name}"
            out.append(
                f"| {n} | {_cell(name)} | {_cell(i.get('status', ''))} | "
                f"{clock(i.get('seconds', 0))} | {_cell(i.get('outcome', ''))} |"
            )
    else:
        out.append("Nothing red, stale, amber or overdue.")
    sections: list[tuple[str, list[str]]] = [
        ("Actions", [f"- #{a.get('id')} {_line(a.get('title', ''))}: {_line(a.get('what', ''))}"
                     for a in h.get("actions") or []]),
        ("Notes", [f"- {_line(n.get('name', '?'))}: {_line(n.get('text', ''))}"
                   for n in h.get("notes") or []]),
        ("Skipped", [f"- {_line(s.get('name', '?'))}: {_line(s.get('reason', ''))}"
                     for s in h.get("skips") or []]),
        ("Escalations", [f"- #{e.get('id')} {_line(e.get('title', ''))}: {_line(e.get('what', ''))}"
                         for e in h.get("escalations") or []]),
    ]
    for title, lines in sections:
        if lines:
            out += ["", f"## {title}", "", *lines]
    return "\n".join(out) + "\n"


def tier_minutes(
    huddles: Sequence[dict[str, Any]],
    actions: Iterable[Action],
    boards: Mapping[int, Board],
    last: Review | None,
    board_id: int,
    day: date,
) -> dict[str, Any]:
    """What the tiers add to a board's minutes: the escalations raised, answered or taken over
    to or from the board since its previous huddle (the day before, when there was none), and
    its last leader review. `ops.save_huddle` adds these to every minutes it keeps."""
    before = [h for h in pick(huddles, board_id) if str(h.get("date", "")) <= day.isoformat()]
    since = str(before[-1].get("ended", "")) if before else (day - timedelta(days=1)).isoformat()

    def name(bid: int) -> str:
        b = boards.get(bid)
        return b.name if b else "?"

    events: list[tuple[str, dict[str, Any]]] = []
    for a in actions:
        e = a.escalation
        if e is None or board_id not in (e.to, e.origin):
            continue
        base = {"id": a.id, "title": a.title, "kpi": a.kpi}
        if e.at > since:
            what = f"escalated from {name(e.origin)} to {name(e.to)}: {e.why}"
            events.append((e.at, base | {"what": what}))
        if e.answered_at and e.answered_at > since:
            what = f"answered by {e.answered_by} ({name(e.to)}): {e.answer}"
            events.append((e.answered_at, base | {"what": what}))
        if e.taken_at and e.taken_at > since:
            what = f"taken over by {e.taken_by} ({name(e.to)})"
            events.append((e.taken_at, base | {"what": what}))
    events.sort(key=lambda x: (x[0], x[1]["id"]))
    review = None
    if last is not None:
        review = {"who": last.who, "at": last.at, "note": last.note,
                  "text": review_text(last, day)}  # fmt: skip
    return {"escalations": [e for _, e in events], "last_review": review}


__all__ = [
    "AgendaItem",
    "HuddleLog",
    "ItemKind",
    "Outcome",
    "amber_from",
    "blocks",
    "build_agenda",
    "clock",
    "logged_in",
    "markdown",
    "parse_attendees",
    "parse_who",
    "pick",
    "status_now",
    "suggest_attendees",
    "tier_minutes",
]
