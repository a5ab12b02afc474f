"""Decoding: every document checked field by field and every reference between them (see the
package docstring), into the domain's values."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, time
from typing import Any, TypeVar

from ..model import (
    Action,
    Board,
    Change,
    Direction,
    Entry,
    Escalation,
    Estimate,
    Explanation,
    Frequency,
    Goal,
    Kind,
    Kpi,
    Review,
    Revision,
    Stage,
    StageChange,
    Target,
)
from .fields import _MISSING, LIMIT, Malformed, _date, _Fields, _kind, _number

Doc = dict[str, Any]

HISTORY_FIELDS = (
    "stage", "owner", "due", "title", "kpi", "board", "escalated", "answered", "taken",
)  # fmt: skip
REVISED_TABLES = ("boards", "kpis", "actions", "goals")


# --- decoding ----------------------------------------------------------------------------------


def decode_board(d: object, key: object = None) -> Board:
    f = _Fields("boards", d, key)
    return Board(
        id=f.id,
        name=f.name("name"),
        description=f.text("description"),
        parent=f.ref("parent"),
        kpi_limit=f.whole("kpi_limit", 7),
        who=f.text("who"),
        at=f.text("at"),
        review_days=_review_days(f),
    )


def _review_days(f: _Fields) -> int:
    days = f.whole("review_days", 7)
    if days < 1:
        raise f.bad("review_days", "must be at least 1")
    return days


def _target(f: _Fields, n: int, t: object) -> Target:
    field = f"targets[{n}]"
    if type(t) is not dict:
        raise f.bad(field, f"{_kind(t)} is not an object")
    value = _number(f, field + ".value", t.get("value", _MISSING_NUMBER))
    since = t.get("from")
    day = None if since is None else _date(f, field + ".from", since)
    who, at = t.get("who", ""), t.get("at", "")
    if type(who) is not str or type(at) is not str:
        raise f.bad(field, "who and at must be text")
    return Target(value, day, who, at)


_MISSING_NUMBER = "(missing)"


def decode_kpi(d: object, key: object = None) -> Kpi:
    f = _Fields("kpis", d, key)
    raw_targets = f.seq("targets")
    if not raw_targets:
        raise f.bad("targets", "is empty: a KPI needs a target")
    targets = tuple(_target(f, n, t) for n, t in enumerate(raw_targets))
    return Kpi(
        id=f.id,
        board=f.whole("board"),
        name=f.name("name"),
        targets=targets,
        direction=f.enum("direction", Direction, "up"),
        unit=f.text("unit"),
        amber=f.opt_num("amber"),
        frequency=f.enum("frequency", Frequency, "daily"),
        owner=f.text("owner"),
        goal=f.text("goal"),
        kind=f.enum("kind", Kind, "lagging"),
        counter=f.ref("counter"),
        description=f.text("description"),
        archived=f.flag("archived", False),
        who=f.text("who"),
        at=f.text("at"),
        category=f.text("category"),  # absent in stores written before categories: none
        goal_id=f.ref("goal_id"),
        due=_due(f),
    )


def _due(f: _Fields) -> time | None:
    """A KPI's optional due time, `HH:MM` (absent in stores that set none)."""
    value = f.get("due", None)
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise f.bad("due", f"{_kind(value)} is not a time HH:MM")
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise f.bad("due", f"{value[:20]!r} is not a time HH:MM") from None


def decode_estimate(d: object, key: object = None) -> Estimate:
    f = _Fields("estimates", d, key)
    return Estimate(
        id=f.id,
        kpi=f.whole("kpi"),
        day=f.day("date"),
        value=f.num("value"),
        by=f.text("by"),
        who=f.text("who"),
        at=f.text("at"),
    )


def decode_explanation(d: object, key: object = None) -> Explanation:
    f = _Fields("explanations", d, key)
    return Explanation(
        id=f.id,
        kpi=f.whole("kpi"),
        text=f.text("text"),
        since=f.day("from"),
        until=f.day("until"),
        who=f.text("who"),
        at=f.text("at"),
    )


_NUMBER = (int, float)


def decode_entry(d: object, key: object = None) -> Entry:
    """An entry: the fast path takes a well-formed document (nearly all of 100,000) in one
    expression; anything else goes through the checks that name what is wrong."""
    if type(d) is dict:
        i, k, day, v = d.get("id"), d.get("kpi"), d.get("date"), d.get("value")
        p, note = d.get("plan"), d.get("note", "")
        who, at = d.get("who", ""), d.get("at", "")
        if (
            type(i) is int
            and i > 0
            and type(k) is int
            and type(v) in _NUMBER
            and -LIMIT <= v <= LIMIT  # type: ignore[operator]
            and (p is None or (type(p) in _NUMBER and -LIMIT <= p <= LIMIT))
            and type(day) is str
            and type(note) is str
            and type(who) is str
            and type(at) is str
        ):
            try:  # a plain try: `with suppress()` costs more, once per entry of a big store
                plan = None if p is None else float(p)
                return Entry(i, k, date.fromisoformat(day), float(v), plan, note, who, at)  # type: ignore[arg-type]
            except ValueError:
                pass  # an impossible date: the checks below name it
    return _decode_entry(d, key)


def _decode_entry(d: object, key: object = None) -> Entry:
    f = _Fields("entries", d, key)
    return Entry(
        id=f.id,
        kpi=f.whole("kpi"),
        day=f.day("date"),
        value=f.num("value"),
        plan=f.opt_num("plan"),
        note=f.text("note"),
        who=f.text("who"),
        at=f.text("at"),
    )


def same_entry(e: Entry, d: object) -> bool:
    """Does an entry decoded earlier still match its document? (Entries are never edited in
    place, so a reload reuses them; one edited by hand is noticed and decoded afresh.)"""
    return (
        type(d) is dict
        and type(d.get("value")) in (int, float)
        and e.value == d["value"]
        and e.kpi == d.get("kpi")
        and e.plan == d.get("plan")
        and e.note == d.get("note", "")
        and e.day.isoformat() == d.get("date")
        and e.at == d.get("at", "")
        and e.who == d.get("who", "")
    )


def _history_item(f: _Fields, n: int, h: object, stage: str) -> StageChange:
    field = f"history[{n}]"
    if type(h) is not dict:
        raise f.bad(field, f"{_kind(h)} is not an object")
    g = _Fields.__new__(_Fields)
    g.table, g.d, g.id, g.key = f.table, h, f.id, f.key
    what = g.text("field", "stage")
    if what not in HISTORY_FIELDS:
        raise f.bad(field + ".field", f"{what!r} is not one of {', '.join(HISTORY_FIELDS)}")
    old, new = h.get("old", ""), h.get("new", "")
    for side, value in (("old", old), ("new", new)):
        if value is not None and type(value) not in (str, int):
            raise f.bad(f"{field}.{side}", f"{_kind(value)} is not text")
    return StageChange(
        stage=g.enum("stage", Stage, stage),
        who=g.text("who"),
        at=g.text("at"),
        field=what,
        old="" if old is None else str(old),
        new="" if new is None else str(new),
    )


def decode_action(d: object, key: object = None) -> Action:
    f = _Fields("actions", d, key)
    stage = f.enum("stage", Stage, "plan")
    return Action(
        id=f.id,
        title=f.name("title"),
        board=f.whole("board"),
        kpi=f.ref("kpi"),
        owner=f.text("owner"),
        due=f.opt_day("due"),
        stage=stage,
        who=f.text("who"),
        at=f.text("at"),
        history=tuple(
            _history_item(f, n, h, stage.value) for n, h in enumerate(f.seq("history"))
        ),
        escalation=_escalation(f),
    )


def _escalation(f: _Fields) -> Escalation | None:
    e = f.get("escalation", None)
    if e is None:
        return None
    if type(e) is not dict:
        raise f.bad("escalation", f"{_kind(e)} is not an object")
    g = _Fields.__new__(_Fields)
    g.table, g.d, g.id, g.key = f.table, e, f.id, f.key
    for name in ("to", "origin"):
        if type(e.get(name)) is not int:
            raise f.bad(f"escalation.{name}", f"{_kind(e.get(name))} is not a board id")
    return Escalation(
        to=e["to"],
        origin=e["origin"],
        why=g.text("why"),
        who=g.text("who"),
        at=g.text("at"),
        answer=g.text("answer"),
        answered_by=g.text("answered_by"),
        answered_at=g.text("answered_at"),
        taken_by=g.text("taken_by"),
        taken_at=g.text("taken_at"),
    )


def decode_goal(d: object, key: object = None) -> Goal:
    f = _Fields("goals", d, key)
    return Goal(
        id=f.id,
        board=f.whole("board"),
        name=f.name("name"),
        parent=f.ref("parent"),
        due=f.opt_day("due"),
        description=f.text("description"),
        archived=f.flag("archived", False),
        who=f.text("who"),
        at=f.text("at"),
    )


def decode_review(d: object, key: object = None) -> Review:
    f = _Fields("reviews", d, key)
    reds = f.seq("reds")
    for n, r in enumerate(reds):
        if type(r) is not int:
            raise f.bad(f"reds[{n}]", f"{_kind(r)} is not a KPI id")
    return Review(
        id=f.id,
        board=f.whole("board"),
        note=f.text("note"),
        reds=tuple(reds),
        who=f.text("who"),
        at=f.text("at"),
    )


def tier_problems(
    boards: Mapping[int, Board],
    kpis: Mapping[int, Kpi],
    actions: Iterable[Action],
    goals: Mapping[int, Goal],
    reviews: Iterable[Review],
) -> Iterator[Malformed]:
    """Every id a goal, a KPI's goal, an escalation or a review names that does not exist."""
    for g in goals.values():
        if g.board not in boards:
            yield Malformed("goals", g.id, "board", f"board {g.board} does not exist")
        if g.parent is not None and g.parent not in goals:
            yield Malformed("goals", g.id, "parent", f"goal {g.parent} does not exist")
    for k in kpis.values():
        if k.goal_id is not None and k.goal_id not in goals:
            yield Malformed("kpis", k.id, "goal_id", f"goal {k.goal_id} does not exist")
    for a in actions:
        e = a.escalation
        if e is not None:
            for name, ref in (("to", e.to), ("origin", e.origin)):
                if ref not in boards:
                    yield Malformed(
                        "actions", a.id, f"escalation.{name}", f"board {ref} does not exist"
                    )
    for r in reviews:
        if r.board not in boards:
            yield Malformed("reviews", r.id, "board", f"board {r.board} does not exist")


def decode_revision(d: object, key: object = None) -> Revision:
    f = _Fields("changes", d, key)
    table = f.text("table", _MISSING)
    if table not in REVISED_TABLES:
        raise f.bad("table", f"{table!r} is not one of {', '.join(REVISED_TABLES)}")
    for side in ("old", "new"):
        value = f.get(side, None)
        if value is not None and type(value) not in (str, int, float, bool):
            raise f.bad(side, f"{_kind(value)} is not a plain value")
    return Revision(
        id=f.id,
        table=table,
        ref=f.whole("ref"),
        field=f.text("field", _MISSING),
        old=f.get("old", None),
        new=f.get("new", None),
        what=f.text("what"),
        who=f.text("who"),
        at=f.text("at"),
    )


# A huddle's minutes: each field and the type it must have (a tuple: any of these types).
_MINUTES: dict[str, tuple[type, ...]] = {
    "date": (str,),
    "board": (str,),
    "board_id": (int, type(None)),
    "facilitator": (str,),
    "attendees": (list,),
    "started": (str,),
    "ended": (str,),
    "duration_s": (int, float),
    "timebox_min": (int, float, type(None)),
    "items": (list,),
    "actions": (list,),
    "notes": (list,),
    "skips": (list,),
}
_MINUTE_ITEM: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "name": (str,),
    "kpi": (int, type(None)),
    "action": (int, type(None)),
    "status": (str,),
    "seconds": (int, float),
    "outcome": (str,),
}


def decode_huddle(d: object, key: object = None) -> Doc:
    """Minutes stay plain documents (the huddle module reads them), checked field by field."""
    f = _Fields("huddles", d, key)
    _check_shape(f, f.d, _MINUTES, "")
    f.day("date")
    for n, who in enumerate(f.seq("attendees")):
        if type(who) is not str:
            raise f.bad(f"attendees[{n}]", f"{_kind(who)} is not a login")
    for n, item in enumerate(f.seq("items")):
        if type(item) is not dict:
            raise f.bad(f"items[{n}]", f"{_kind(item)} is not an object")
        _check_shape(f, item, _MINUTE_ITEM, f"items[{n}].")
    review = f.get("last_review", None)
    if review is not None and (
        type(review) is not dict or not all(type(v) in (str, int) for v in review.values())
    ):
        raise f.bad("last_review", "is not an object of plain values")
    for part in ("actions", "notes", "skips", "escalations"):
        for n, item in enumerate(f.seq(part)):
            if type(item) is not dict or not all(
                type(v) in (str, int, float, bool, type(None)) for v in item.values()
            ):
                raise f.bad(f"{part}[{n}]", "is not an object of plain values")
    return f.d


def _check_shape(
    f: _Fields, d: dict[str, Any], shape: dict[str, tuple[type, ...]], at: str
) -> None:
    for name, types in shape.items():
        if name in d and type(d[name]) not in types:
            raise f.bad(at + name, f"{_kind(d[name])} has the wrong type")
        if type(d.get(name)) is float and not math.isfinite(d[name]):
            raise f.bad(at + name, "is not a finite number")


def decode_change(meta: Mapping[str, Any]) -> Change | None:
    lc = meta.get("last_change")
    if lc is None:
        return None
    if type(lc) is not dict or not all(type(lc.get(k, "")) is str for k in ("who", "at", "what")):
        raise Malformed("meta", None, "last_change", "is not an object of who, at and what")
    return Change(str(lc.get("who", "")), str(lc.get("at", "")), str(lc.get("what", "")))


T = TypeVar("T")


def decode_table(
    raw: Mapping[str, Any], table: str, decode: Callable[[object, object], T]
) -> list[T]:
    """Every document of `table`, decoded; a duplicate id is malformed too."""
    docs = raw[table]
    out = [decode(d, key) for key, d in docs.items()]
    ids = {getattr(x, "id", None) if not isinstance(x, dict) else x["id"] for x in out}
    if len(ids) != len(out):
        seen: set[object] = set()
        for x in out:
            i = x["id"] if isinstance(x, dict) else getattr(x, "id", None)
            if i in seen:
                raise Malformed(table, i, "id", "is used by two documents")
            seen.add(i)
    return out


def reference_problems(
    boards: Mapping[int, Board],
    kpis: Mapping[int, Kpi],
    entries: Iterable[Entry],
    actions: Iterable[Action],
) -> Iterator[Malformed]:
    """Every id a document names that does not exist, and every loop in the boards' tree."""
    for b in boards.values():
        if b.parent is not None and b.parent not in boards:
            yield Malformed("boards", b.id, "parent", f"board {b.parent} does not exist")
    state: dict[int, int] = {}  # 1: on the current path, 2: known to reach a root
    for start in boards:
        path = []
        node: int | None = start
        while node is not None and node in boards and state.get(node) != 2:
            if state.get(node) == 1:
                yield Malformed("boards", node, "parent", "the boards' parents form a loop")
                break
            state[node] = 1
            path.append(node)
            node = boards[node].parent
        for seen in path:
            state[seen] = 2
    for k in kpis.values():
        if k.board not in boards:
            yield Malformed("kpis", k.id, "board", f"board {k.board} does not exist")
        if k.counter is not None and k.counter not in kpis:
            yield Malformed("kpis", k.id, "counter", f"KPI {k.counter} does not exist")
    for e in entries:
        if e.kpi not in kpis:
            yield Malformed("entries", e.id, "kpi", f"KPI {e.kpi} does not exist")
    for a in actions:
        if a.board not in boards:
            yield Malformed("actions", a.id, "board", f"board {a.board} does not exist")
        if a.kpi is not None and a.kpi not in kpis:
            yield Malformed("actions", a.id, "kpi", f"KPI {a.kpi} does not exist")


def check_references(
    boards: Mapping[int, Board],
    kpis: Mapping[int, Kpi],
    entries: Iterable[Entry],
    actions: Iterable[Action],
) -> None:
    """Every id a document names exists, and the boards form a tree: else the first problem."""
    for problem in reference_problems(boards, kpis, entries, actions):
        raise problem
