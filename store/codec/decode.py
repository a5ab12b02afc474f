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
    Estimate,
    Explanation,
    Frequency,
    Kind,
    Kpi,
    Revision,
    Stage,
    StageChange,
    Target,
)
from .fields import _MISSING, LIMIT, Malformed, _date, _Fields, _kind, _number

Doc = dict[str, Any]

HISTORY_FIELDS = ("stage", "owner", "due", "title", "kpi")
REVISED_TABLES = ("boards", "kpis", "actions")


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
    )


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
    )


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
    for part in ("actions", "notes", "skips"):
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
