"""The change log: everything that happened to a store, who did it and when, newest first.

Nothing is ever deleted, so the log is read off the store itself: boards, KPIs and targets carry
who added them; entries are never edited (a value recorded again supersedes the old one); an
action keeps its history; and field edits of boards, KPIs and archives are kept in `changes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .model import Entry, Revision
from .snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class LogLine:
    at: str  # UTC ISO
    who: str
    what: str
    kind: str  # board, kpi, target, entry, note, action, edit, huddle, review
    board: int | None = None
    kpi: int | None = None
    action: int | None = None


def number(x: float | None) -> str:
    """As recorded: 77.25 stays 77.25, 80.0 reads 80."""
    if x is None:
        return "none"
    text = repr(x)
    return text[:-2] if text.endswith(".0") else text


def _shown(value: object) -> str:
    if value is None or value == "":
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return number(value)
    return repr(value) if isinstance(value, str) else str(value)


def _entries(snap: Snapshot, only: int | None = None) -> list[LogLine]:
    out = []
    for kpi_id, entries in snap.entries.items():
        if only is not None and kpi_id != only:
            continue
        k = snap.kpis.get(kpi_id)
        if k is None:
            continue
        last: dict[date, Entry] = {}
        for e in entries:  # in record order
            before = last.get(e.day)
            last[e.day] = e
            day = e.day.isoformat()
            if before is not None and (before.value, before.plan) == (e.value, e.plan):
                added = e.note.removeprefix(before.note).strip() if e.note != before.note else ""
                what = f"noted {k.name} ({day}): {added or e.note}"
                kind = "note"
            else:
                what = f"recorded {k.name} = {number(e.value)}{k.unit and ' ' + k.unit} for {day}"
                if e.plan is not None:
                    what += f" (plan {number(e.plan)})"
                if before is not None:
                    what += f", replacing {number(before.value)}"
                if e.note:
                    what += f": {e.note}"
                kind = "entry"
            out.append(LogLine(e.at, e.who, what, kind, k.board, k.id))
    return out


def _revision(snap: Snapshot, r: Revision) -> LogLine:
    board = kpi = None
    if r.table == "kpis":
        k = snap.kpis.get(r.ref)
        name = f"KPI {k.name}" if k else f"KPI #{r.ref}"
        kpi, board = r.ref, (k.board if k else None)
    elif r.table == "boards":
        b = snap.boards.get(r.ref)
        name, board = (f"board {b.name}" if b else f"board #{r.ref}"), r.ref
    elif r.table == "goals":
        g = snap.goals.get(r.ref)
        name, board = (f"goal {g.name}" if g else f"goal #{r.ref}"), (g.board if g else None)
    else:
        name = f"action #{r.ref}"
    if r.table == "goals" and r.field == "created":
        what = r.what
    elif r.field == "archived":
        what = f"{'archived' if r.new else 'restored'} {name}"
    elif r.field == "target":
        what = f"{r.what} (was {_shown(r.old)})"
    else:
        what = f"changed the {r.field} of {name} from {_shown(r.old)} to {_shown(r.new)}"
    return LogLine(r.at, r.who, what, "target" if r.field == "target" else "edit", board, kpi)


def lines(snap: Snapshot, kpi: int | None = None, entries: bool = True) -> list[LogLine]:
    """Every change in the store, newest first; with `kpi`, only that KPI's (and its actions'),
    built without looking at the rest; without `entries`, no recorded values or notes."""
    out: list[LogLine] = []
    if kpi is None:
        for b in snap.boards.values():
            out.append(LogLine(b.at, b.who, f"added board {b.name}", "board", b.id))
    logged_targets = {(r.ref, r.at) for r in snap.revisions if r.field == "target"}
    kpis = list(snap.kpis.values()) if kpi is None else [k for k in [snap.kpis.get(kpi)] if k]
    for k in kpis:
        first, *later = k.targets
        out.append(
            LogLine(
                k.at or first.at,
                k.who or first.who,
                f"added KPI {k.name} (target {number(first.value)}{k.unit and ' ' + k.unit})",
                "kpi",
                k.board,
                k.id,
            )
        )
        for t in later:
            if (k.id, t.at) not in logged_targets:
                since = t.since.isoformat() if t.since else "the start"
                what = f"set the target of {k.name} to {number(t.value)} from {since}"
                out.append(LogLine(t.at, t.who, what, "target", k.board, k.id))
    if entries:
        out += _entries(snap, kpi)
    for a in snap.actions.values():
        if kpi is not None and a.kpi != kpi:
            continue
        for h in a.history:
            if h.field == "stage" and not h.old:
                what = f"added action #{a.id} {a.title!r}"
            elif h.field == "stage":
                what = f"moved action #{a.id} from {h.old} to {h.new}"
            elif h.field == "escalated":  # the tiers (issue 10)
                what = f"escalated action #{a.id} {h.new}"
            elif h.field == "answered":
                what = f"answered escalated action #{a.id}: {h.new}"
            elif h.field == "taken":
                what = f"took over escalated action #{a.id}"
            elif h.field == "board":
                what = f"moved action #{a.id} from board {h.old} to {h.new}"
            else:
                old, new = _shown(h.old), _shown(h.new)
                what = f"changed the {h.field} of action #{a.id} from {old} to {new}"
            out.append(LogLine(h.at, h.who, what, "action", a.board, a.kpi, a.id))
    out += [
        _revision(snap, r)
        for r in snap.revisions
        if kpi is None or (r.table == "kpis" and r.ref == kpi)
    ]
    for rv in snap.reviews if kpi is None else ():
        reviewed = snap.boards.get(rv.board)
        name = reviewed.name if reviewed else f"#{rv.board}"
        what = f"reviewed board {name}" + (f": {rv.note}" if rv.note else "")
        out.append(LogLine(rv.at, rv.who, what, "review", rv.board))
    for m in snap.huddles if kpi is None else ():
        board_id = m.get("board_id")
        what = f"kept the minutes of the huddle on {m.get('board', '?')} ({m.get('date', '?')})"
        out.append(
            LogLine(
                str(m.get("ended", "")),
                str(m.get("facilitator", "")),
                what,
                "huddle",
                board_id if isinstance(board_id, int) else None,
            )
        )
    out.sort(key=lambda line: line.at, reverse=True)
    return out


def select(
    log: list[LogLine],
    snap: Snapshot,
    board: int | None = None,
    kpi: int | None = None,
    since: date | None = None,
) -> list[LogLine]:
    """The lines about one board (and the boards under it), one KPI, or since a day."""
    boards: set[int] | None = None
    if board is not None:
        boards, todo = set(), [board]
        while todo:  # a department's log holds its teams' changes too
            b = todo.pop()
            if b not in boards:
                boards.add(b)
                todo.extend(c.id for c in snap.children(b))
    start = since.isoformat() if since else ""
    return [
        line
        for line in log
        if (boards is None or line.board in boards)
        and (kpi is None or line.kpi == kpi)
        and line.at[:10] >= start
    ]
