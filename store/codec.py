"""The on-disk shape of every document: the one place that decodes and encodes them.

A store is a JSON object of tables (`store.schema` knows the tables and the version); each table
maps TinyDB's keys to documents. Decoding checks every field a reader relies on (type, range,
enum, date) and every reference between documents, so a file that parses but is not what we
expect becomes one `StoreCorrupt` line naming the table, the id and the field, never a traceback
somewhere later. Encoding builds the documents every write stores, from the domain's values.

Numbers stay within ±1e15 and finite: then no difference, mean or ratio of two can overflow.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from .errors import StoreCorrupt
from .model import (
    Action,
    Board,
    Change,
    Direction,
    Entry,
    Frequency,
    Kind,
    Kpi,
    Revision,
    Stage,
    StageChange,
    Target,
)

Doc = dict[str, Any]

LIMIT = 1e15  # the largest magnitude a value may have (see the module docstring)
HISTORY_FIELDS = ("stage", "owner", "due", "title", "kpi")
REVISED_TABLES = ("boards", "kpis", "actions")


class Malformed(Exception):
    """A document is not what we expect; `at()` turns it into the store's broken-file error."""

    def __init__(self, table: str, doc_id: object, field: str, detail: str) -> None:
        super().__init__(detail)
        self.table, self.doc_id, self.field, self.detail = table, doc_id, field, detail

    def at(self, path: str) -> StoreCorrupt:
        where = f"table '{self.table}'"
        if self.doc_id is not None:
            where += f", id {self.doc_id!r}"
        if self.field:
            where += f", field '{self.field}'"
        return StoreCorrupt(path, f"{where}: {self.detail}")


_MISSING: Any = object()
E = TypeVar("E", bound=StrEnum)


class _Fields:
    """Typed access to one document's fields; every miss raises `Malformed` naming the field."""

    __slots__ = ("d", "id", "key", "table")

    def __init__(self, table: str, d: object, key: object = None) -> None:
        if type(d) is not dict:
            raise Malformed(table, key, "", f"a document is {_kind(d)}, not an object")
        self.table, self.d, self.key = table, d, key
        self.id = 0
        self.id = self.whole("id")
        if self.id < 1:
            raise self.bad("id", "must be a positive whole number")

    def bad(self, field: str, detail: str) -> Malformed:
        return Malformed(self.table, self.id or self.key, field, detail)

    def get(self, field: str, default: Any) -> Any:
        value = self.d.get(field, default)
        if value is _MISSING:
            raise self.bad(field, "is missing")
        return value

    def whole(self, field: str, default: Any = _MISSING) -> int:
        value = self.get(field, default)
        if type(value) is not int:
            raise self.bad(field, f"{_kind(value)} is not a whole number")
        return value

    def ref(self, field: str) -> int | None:
        value = self.get(field, None)
        if value is not None and type(value) is not int:
            raise self.bad(field, f"{_kind(value)} is not an id")
        return value

    def text(self, field: str, default: Any = "") -> str:
        value = self.get(field, default)
        if type(value) is not str:
            raise self.bad(field, f"{_kind(value)} is not text")
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:
                raise self.bad(field, "holds text that is not valid Unicode") from None
        return value

    def name(self, field: str) -> str:
        value = self.text(field, _MISSING)
        if not value.strip():
            raise self.bad(field, "is empty")
        return value

    def num(self, field: str, default: Any = _MISSING) -> float:
        return _number(self, field, self.get(field, default))

    def opt_num(self, field: str) -> float | None:
        value = self.get(field, None)
        return None if value is None else _number(self, field, value)

    def day(self, field: str) -> date:
        return _date(self, field, self.get(field, _MISSING))

    def opt_day(self, field: str) -> date | None:
        value = self.get(field, None)
        return None if value is None or value == "" else _date(self, field, value)

    def enum(self, field: str, kind: type[E], default: str) -> E:
        value = self.get(field, default)
        try:
            return kind(value)
        except ValueError:
            options = ", ".join(m.value for m in kind)
            raise self.bad(field, f"{_kind(value)} is not one of {options}") from None

    def flag(self, field: str, default: bool) -> bool:
        value = self.get(field, default)
        if type(value) is not bool:
            raise self.bad(field, f"{_kind(value)} is not true or false")
        return value

    def seq(self, field: str) -> list[Any]:
        value = self.get(field, [])
        if type(value) is not list:
            raise self.bad(field, f"{_kind(value)} is not a list")
        return value


def _kind(value: object) -> str:
    """How a bad value looks, briefly and safely (never the whole of a long string)."""
    if isinstance(value, str):
        return repr(value[:40] + ("…" if len(value) > 40 else ""))
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def _number(f: _Fields, field: str, value: object) -> float:
    if type(value) not in (int, float):
        raise f.bad(field, f"{_kind(value)} is not a number")
    x = float(value)  # type: ignore[arg-type]
    if not math.isfinite(x) or abs(x) > LIMIT:
        raise f.bad(field, f"{value!r} is out of range (at most ±{LIMIT:g})")
    return x


def _date(f: _Fields, field: str, value: object) -> date:
    if type(value) is not str:
        raise f.bad(field, f"{_kind(value)} is not a date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise f.bad(field, f"{_kind(value)} is not a date (YYYY-MM-DD)") from None


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
            with contextlib.suppress(ValueError):
                plan = None if p is None else float(p)
                return Entry(i, k, date.fromisoformat(day), float(v), plan, note, who, at)  # type: ignore[arg-type]
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


# --- encoding ------------------------------------------------------------------------------


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def board_doc(
    name: str, description: str = "", parent: int | None = None, kpi_limit: int = 7
) -> Doc:
    return {"name": name, "description": description, "parent": parent, "kpi_limit": kpi_limit}


def target_doc(value: float, since: date | None, who: str, at: str) -> Doc:
    doc: Doc = {"value": value, "who": who, "at": at}
    if since is not None:
        doc["from"] = since.isoformat()
    return doc


def kpi_doc(
    *,
    board: int,
    name: str,
    targets: list[Doc],
    direction: Direction = Direction.UP,
    unit: str = "",
    amber: float | None = None,
    frequency: Frequency = Frequency.DAILY,
    owner: str = "",
    goal: str = "",
    kind: Kind = Kind.LAGGING,
    counter: int | None = None,
    description: str = "",
    archived: bool = False,
) -> Doc:
    return {
        "board": board,
        "name": name,
        "targets": targets,
        "direction": direction.value,
        "unit": unit,
        "amber": amber,
        "frequency": frequency.value,
        "owner": owner,
        "goal": goal,
        "kind": kind.value,
        "counter": counter,
        "description": description,
        "archived": archived,
    }


def entry_doc(
    kpi: int, day: date, value: float, plan: float | None = None, note: str = ""
) -> Doc:
    doc: Doc = {"kpi": kpi, "date": day.isoformat(), "value": value}
    if plan is not None:
        doc["plan"] = plan
    if note:
        doc["note"] = note
    return doc


def history_doc(field: str, old: object, new: object, stage: Stage, who: str, at: str) -> Doc:
    doc: Doc = {"field": field, "new": new, "stage": stage.value, "who": who, "at": at}
    if old is not None:
        doc["old"] = old
    return doc


def action_doc(
    *,
    title: str,
    board: int,
    kpi: int | None,
    owner: str,
    due: date | None,
    stage: Stage,
    history: list[Doc],
) -> Doc:
    return {
        "title": title,
        "board": board,
        "kpi": kpi,
        "owner": owner,
        "due": _iso(due),
        "stage": stage.value,
        "history": history,
    }


def revision_doc(table: str, ref: int, field: str, old: object, new: object, what: str) -> Doc:
    """One field of a board, KPI or action changed (who and when are added by the write)."""
    return {"table": table, "ref": ref, "field": field, "old": old, "new": new, "what": what}


def plain(value: object) -> object:
    """A domain value as the documents store it (enums by value, dates as ISO text)."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value
