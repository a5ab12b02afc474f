"""Any day's board: the store as it stood at the end of a past day.

`as_of(snap, day)` is a Snapshot that every view, status line and huddle reads as usual,
evaluated with `today=day` and `now=fresh.end_of(day)`. How it is built from what the store
keeps (each document's `at`, the change log, an action's history):

- values: only periods up to `day`. For a KPI with values recorded by then, only those
  recorded by then count (a value recorded late was missing that day); a KPI whose values were
  all recorded later (an imported year, a back-fill) shows what was loaded for those days;
- boards, KPIs, actions created after that day are left out, unless a KPI has values for days
  up to it (it was back-filled: shown with its board, as configured now);
- a KPI or board that existed then gets back the fields it had: the change log's later
  changes are undone, and targets set later are dropped; an action gets back its stage, owner,
  due date and title from its history;
- estimates and explanations follow the values' rule; huddles held after `day` are left out;
- goals and leaders' reviews made after that day are left out (a goal gets back its fields, a
  KPI the goal it served); an escalation raised after it is not there, and one answered or
  taken over after it is still waiting (a taken action back on the board it came from).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, TypeVar

from .model import (
    Action,
    Board,
    Direction,
    Entry,
    Estimate,
    Explanation,
    Frequency,
    Goal,
    Kind,
    Kpi,
    Stage,
)  # fmt: skip
from .snapshot import Snapshot


class _Recorded(Protocol):
    @property
    def at(self) -> str: ...


T = TypeVar("T", bound=_Recorded)


def cutoff(day: date) -> str:
    """The UTC instant the local day after `day` begins, as stored timestamps are written."""
    local = datetime.combine(day + timedelta(days=1), time(0)).astimezone()
    return local.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _before(at: str, limit: str) -> bool:
    """Recorded by `limit`? A document with no time is taken as always there."""
    return not at or _norm(at) < limit


def _norm(at: str) -> str:
    """Stored times are UTC ISO with `Z`; normalise the odd `+00:00` one so strings compare."""
    return at.replace("+00:00", "Z")


def _known(items: Sequence[T], limit: str, on: Callable[[T], date], day: date) -> list[T]:
    """The rule for values, estimates, explanations: those recorded by then, if any were; else
    every one for a day up to `day` (a back-fill)."""
    recorded = [x for x in items if _before(x.at, limit)]
    pool = recorded if recorded else list(items)
    return [x for x in pool if on(x) <= day]


_KPI_TYPES: dict[str, Callable[[Any], Any]] = {
    "direction": lambda v: Direction(v),
    "frequency": lambda v: Frequency(v),
    "kind": lambda v: Kind(v),
    "due": lambda v: time.fromisoformat(v) if v else None,
    "amber": lambda v: None if v is None else float(v),
    "counter": lambda v: v,
    "category": lambda v: v or "",
}
_KPI_FIELDS = frozenset(
    ("name", "unit", "direction", "amber", "frequency", "owner", "goal", "kind", "counter",
     "description", "archived", "due", "goal_id", "category")
)  # fmt: skip
_BOARD_FIELDS = frozenset(("name", "description", "parent", "kpi_limit", "review_days"))
_GOAL_FIELDS = frozenset(("name", "parent", "due", "description", "archived"))


def _undo(
    snap: Snapshot, table: str, ref: int, limit: str, fields: frozenset[str]
) -> dict[str, Any]:
    """The fields as they were at `limit`: the old value of each field's first later change."""
    out: dict[str, Any] = {}
    for r in snap.revisions:
        if r.table == table and r.ref == ref and r.field in fields and not _before(r.at, limit):
            out.setdefault(r.field, r.old)
    return out


def _kpi_then(snap: Snapshot, k: Kpi, limit: str) -> Kpi:
    old = _undo(snap, "kpis", k.id, limit, _KPI_FIELDS)
    fields: dict[str, Any] = {}
    for key, value in old.items():
        try:
            fields[key] = _KPI_TYPES.get(key, lambda v: v)(value)
        except (ValueError, TypeError):
            continue  # a change log value that no longer decodes: keep today's
    targets = tuple(t for t in k.targets if _before(t.at, limit)) or k.targets[:1]
    return replace(k, targets=targets, **fields)


def _board_then(snap: Snapshot, b: Board, limit: str) -> Board:
    old = _undo(snap, "boards", b.id, limit, _BOARD_FIELDS)
    return replace(b, **{k: v for k, v in old.items() if v is not None or k == "parent"})


def _goal_then(snap: Snapshot, g: Goal, limit: str) -> Goal:
    old = _undo(snap, "goals", g.id, limit, _GOAL_FIELDS)
    fields: dict[str, Any] = {}
    for key, value in old.items():
        try:
            if key == "due":
                fields[key] = date.fromisoformat(value) if value else None
            elif key == "name" and not value:
                continue
            else:
                fields[key] = value
        except (ValueError, TypeError):
            continue
    return replace(g, **fields)


def _escalation_then(a: Action, limit: str) -> dict[str, Any]:
    """The action's escalation as it stood at `limit` (and its board, before a take-over)."""
    e = a.escalation
    if e is None:
        return {}
    if not _before(e.at, limit):
        return {"escalation": None}
    fields: dict[str, Any] = {}
    if e.answered_at and not _before(e.answered_at, limit):
        e = replace(e, answer="", answered_by="", answered_at="")
    if e.taken_at and not _before(e.taken_at, limit):
        e = replace(e, taken_by="", taken_at="")
        fields["board"] = e.origin
    return {**fields, "escalation": e}


def _action_then(a: Action, limit: str) -> Action:
    kept = tuple(h for h in a.history if _before(h.at, limit))
    later = [h for h in a.history if not _before(h.at, limit)]
    fields: dict[str, Any] = {}
    stages = [h for h in kept if h.field == "stage"]
    if stages:
        fields["stage"] = (
            Stage(stages[-1].new) if stages[-1].new in set(Stage) else stages[-1].stage
        )
    for h in later:
        if h.field in ("owner", "title") and h.field not in fields:
            fields[h.field] = h.old
        elif h.field == "due" and "due" not in fields:
            with suppress(ValueError):
                fields["due"] = date.fromisoformat(h.old) if h.old else None
    if fields.get("title") == "":
        fields.pop("title")
    return replace(a, history=kept, **fields, **_escalation_then(a, limit))


def _entry_day(e: Entry) -> date:
    return e.day


def _estimate_day(x: Estimate) -> date:
    return x.day


def _explained_from(x: Explanation) -> date:
    return x.since


def as_of(snap: Snapshot, day: date) -> Snapshot:
    """The store as it stood at the end of `day` (local time); see the module's docstring."""
    limit = cutoff(day)
    entries = {}
    for kpi_id, lst in snap.entries.items():
        kept = _known(lst, limit, _entry_day, day)
        if kept:
            entries[kpi_id] = kept
    kpis = {
        k.id: _kpi_then(snap, k, limit) if _before(k.at, limit) else k
        for k in snap.kpis.values()
        if _before(k.at, limit) or k.id in entries
    }
    kpis = {i: k for i, k in kpis.items() if k.counter is None or k.counter in kpis} | {
        i: replace(k, counter=None)
        for i, k in kpis.items()
        if k.counter is not None and k.counter not in kpis
    }
    wanted_boards = {k.board for k in kpis.values()}
    boards = {
        b.id: _board_then(snap, b, limit) if _before(b.at, limit) else b
        for b in snap.boards.values()
        if _before(b.at, limit) or b.id in wanted_boards
    }
    # Keep the tree whole: a kept board's parents are kept too.
    for b in list(boards.values()):
        parent = b.parent
        while parent is not None and parent not in boards and parent in snap.boards:
            boards[parent] = snap.boards[parent]
            parent = snap.boards[parent].parent
    boards = {i: replace(b, parent=None) if b.parent not in boards and b.parent is not None else b
              for i, b in boards.items()}  # fmt: skip
    kpis = {i: k for i, k in kpis.items() if k.board in boards}
    actions = {
        a.id: then
        for a in snap.actions.values()
        if _before(a.at, limit)
        and (then := _action_then(a, limit)).board in boards
        and (a.kpi is None or a.kpi in kpis)
    }
    goals = {
        g.id: _goal_then(snap, g, limit)
        for g in snap.goals.values()
        if _before(g.at, limit) and g.board in boards
    }
    goals = {i: g if g.parent is None or g.parent in goals else replace(g, parent=None)
             for i, g in goals.items()}  # fmt: skip
    kpis = {i: k if k.goal_id is None or k.goal_id in goals else replace(k, goal_id=None)
            for i, k in kpis.items()}  # fmt: skip
    reviews = [r for r in snap.reviews if _before(r.at, limit) and r.board in boards]
    estimates: dict[int, list[Estimate]] = {}
    for i, xs in snap.estimates.items():
        if i in kpis and (kept_x := _known(xs, limit, _estimate_day, day)):
            estimates[i] = kept_x
    explanations: dict[int, list[Explanation]] = {}
    for i, ys in snap.explanations.items():
        if i in kpis and (kept_y := _known(ys, limit, _explained_from, day)):
            explanations[i] = kept_y
    huddles = [h for h in snap.huddles if str(h.get("date", "")) <= day.isoformat()]
    revisions = [r for r in snap.revisions if _before(r.at, limit)]
    return Snapshot(
        boards=boards,
        kpis=kpis,
        entries={i: lst for i, lst in entries.items() if i in kpis},
        actions=actions,
        huddles=huddles,
        last_change=None,
        entry_count=sum(len(lst) for lst in entries.values()),
        revisions=revisions,
        estimates=estimates,
        explanations=explanations,
        goals=goals,
        reviews=reviews,
    )
