"""Documents ↔ rows: the one place that knows how a store document (store/codec) maps onto the
PostgreSQL tables of schema.sql.

A document's known fields are columns (typed, checked by the database); fields this mapping does
not know yet go to the row's `extra` (jsonb) and come back unchanged, so a newer document never
loses a field here. A KPI's targets and an action's history are child tables, append-only: a
changed list is written as the items it gained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

Doc = dict[str, Any]


@dataclass(frozen=True)
class Col:
    """One document field in one column: `kind` says how it converts; `omit` leaves the field
    out of the document when the column holds `absent` (fields that are absent when unset), and
    an absent field is written as `absent`."""

    key: str
    col: str
    kind: str = "plain"  # plain | date | json | at
    omit: bool = False
    absent: Any = None


@dataclass(frozen=True)
class Child:
    """A list field kept as rows of a child table, in the order `order` gives."""

    key: str
    table: str
    parent_col: str
    cols: tuple[Col, ...]
    order: str


@dataclass(frozen=True)
class Table:
    name: str  # the store's table (and the SQL table)
    cols: tuple[Col, ...]
    extra: bool = True  # unknown fields go to the `extra` jsonb column
    children: tuple[Child, ...] = field(default=())
    whole: str | None = None  # the column that keeps the whole document (huddle minutes)


WHO_AT = (Col("who", "who"), Col("at", "at", "at"))

TABLES: tuple[Table, ...] = (
    Table("boards", (
        Col("id", "id"), Col("name", "name"), Col("description", "description"),
        Col("parent", "parent"), Col("kpi_limit", "kpi_limit"),
        Col("review_days", "review_days", omit=True), *WHO_AT,
    )),
    Table("goals", (
        Col("id", "id"), Col("board", "board"), Col("name", "name"), Col("parent", "parent"),
        Col("due", "due", "date"), Col("description", "description"),
        Col("archived", "archived"), *WHO_AT,
    )),
    Table("kpis", (
        Col("id", "id"), Col("board", "board"), Col("name", "name"),
        Col("direction", "direction"), Col("unit", "unit"), Col("amber", "amber"),
        Col("frequency", "frequency"), Col("owner", "owner"), Col("goal", "goal"),
        Col("goal_id", "goal_id", omit=True), Col("kind", "kind"), Col("counter", "counter"),
        Col("description", "description"), Col("archived", "archived"),
        Col("category", "category", omit=True), Col("due", "due", omit=True), *WHO_AT,
    ), children=(Child("targets", "targets", "kpi", (
        Col("value", "value"), Col("from", "since", "date", omit=True), *WHO_AT,
    ), "since NULLS FIRST, id"),)),
    Table("entries", (
        Col("id", "id"), Col("kpi", "kpi"), Col("date", "date", "date"), Col("value", "value"),
        Col("plan", "plan", omit=True), Col("note", "note", omit=True, absent=""), *WHO_AT,
    )),
    Table("actions", (
        Col("id", "id"), Col("title", "title"), Col("board", "board"), Col("kpi", "kpi"),
        Col("owner", "owner"), Col("due", "due", "date"), Col("stage", "stage"),
        Col("escalation", "escalation", "json", omit=True), *WHO_AT,
    ), children=(Child("history", "action_history", "action", (
        Col("field", "field"), Col("old", "old", "json", omit=True), Col("new", "new", "json"),
        Col("stage", "stage"), *WHO_AT,
    ), "id"),)),
    Table("reviews", (
        Col("id", "id"), Col("board", "board"), Col("note", "note"), Col("reds", "reds"),
        *WHO_AT,
    )),
    Table("estimates", (
        Col("id", "id"), Col("kpi", "kpi"), Col("date", "date", "date"), Col("value", "value"),
        Col("by", '"by"'), *WHO_AT,
    )),
    Table("explanations", (
        Col("id", "id"), Col("kpi", "kpi"), Col("text", "text"),
        Col("from", "since", "date"), Col("until", "until", "date"), *WHO_AT,
    )),
    Table("huddles", (
        Col("id", "id"), Col("board_id", "board_id"), Col("date", "date", "date"), *WHO_AT,
    ), extra=False, whole="minutes"),
    Table("changes", (
        Col("id", "id"), Col("table", "tbl"), Col("ref", "ref"), Col("field", "field"),
        Col("old", "old", "json"), Col("new", "new", "json"), Col("what", "what"), *WHO_AT,
    )),
)  # fmt: skip
BY_NAME = {t.name: t for t in TABLES}


def iso_at(value: datetime | None) -> str:
    """A timestamp as the documents keep it: UTC, whole seconds, `Z`."""
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _from_db(col: Col, value: Any) -> Any:
    if value is None:
        return None
    if col.kind == "date":
        return value.isoformat() if isinstance(value, date) else value
    if col.kind == "at":
        return value if isinstance(value, str) else iso_at(value)
    return value


def _to_db(col: Col, value: Any) -> Any:
    from psycopg.types.json import Jsonb

    if value is None and col.omit:
        return col.absent
    if col.kind == "json":
        return None if value is None and col.omit else Jsonb(value)
    if col.kind in ("date", "at") and value == "":
        return None  # an unknown time (old stores): the database's own
    return value


def _selected(c: Col) -> str:
    """A column as the documents want it: dates and times as their ISO text, made by the
    server (a Python date or datetime per row, only to print it, costs more than the read)."""
    if c.kind == "date":
        return f"to_char({c.col}, 'YYYY-MM-DD')"
    if c.kind == "at":
        return f"""to_char({c.col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
    return c.col


def select_sql(t: Table | Child, where: str = "", join: str = "") -> str:
    """The SELECT of a table's rows (`where`: an SQL condition on them, e.g. `kpi = ANY(%s)`;
    `join`: a JOIN clause after the table, whose columns must not shadow the table's)."""
    cols = [_selected(c) for c in t.cols]
    cond = f" WHERE {where}" if where else ""
    join = f" {join}" if join else ""
    if isinstance(t, Child):
        return (f"SELECT {t.parent_col}, {', '.join(cols)} FROM {t.table}{join}{cond} "
                f"ORDER BY {t.order}")  # fmt: skip
    more = ["nullif(extra, '{}'::jsonb)"] if t.extra else []  # most are empty: nothing to parse
    more += [t.whole] if t.whole else []
    return f"SELECT {', '.join(cols + more)} FROM {t.name}{join}{cond} ORDER BY id"


def row_doc(cols: Sequence[Col], row: Sequence[Any], t: Table | None = None) -> Doc:
    """A document from a row that `select_sql` selected."""
    doc: Doc = {}
    if t is not None and t.whole:
        doc.update(row[len(cols)])
    if t is not None and t.extra and row[len(cols)] is not None:
        doc.update(row[len(cols)])
    for c, value in zip(cols, row, strict=False):
        if c.omit and value == c.absent:
            doc.pop(c.key, None)
        elif c.kind == "plain" or c.kind == "json":
            doc[c.key] = value
        else:
            doc[c.key] = _from_db(c, value)
    return doc


def insert_sql(t: Table | Child) -> tuple[str, list[str]]:
    """The INSERT for one row: its SQL and the column names in order."""
    cols = [c.col for c in t.cols]
    if isinstance(t, Child):
        cols = [t.parent_col, *cols]
        name = t.table
    else:
        cols += ["extra"] if t.extra else []
        cols += [t.whole] if t.whole else []
        name = t.name
    marks = [
        "coalesce(%s, current_user)" if c == "who" else "coalesce(%s, now())" if c == "at" else "%s"
        for c in cols
    ]
    return f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join(marks)})", cols


def doc_params(t: Table, doc: Doc) -> list[Any]:
    """The INSERT's values for a document (children aside)."""
    from psycopg.types.json import Jsonb

    known = {c.key for c in t.cols} | {ch.key for ch in t.children}
    params = [_to_db(c, doc.get(c.key)) for c in t.cols]
    if t.extra:
        params.append(Jsonb({k: v for k, v in doc.items() if k not in known}))
    if t.whole:
        params.append(Jsonb({k: v for k, v in doc.items() if k not in ("id", "who", "at")}))
    return [(v or None) if c.key in ("who", "at") else v for c, v in _pad(t.cols, params)]


def _pad(cols: Sequence[Col], params: list[Any]) -> list[tuple[Col, Any]]:
    none = Col("", "")
    return [(cols[n] if n < len(cols) else none, v) for n, v in enumerate(params)]


def child_params(ch: Child, parent: int, item: Doc) -> list[Any]:
    params = [_to_db(c, item.get(c.key)) for c in ch.cols]
    pairs = zip(ch.cols, params, strict=True)
    return [parent, *((v or None) if c.key in ("who", "at") else v for c, v in pairs)]


def gained(old: list[Any], new: list[Any]) -> list[Any]:
    """The items of `new` that `old` lacks (as a multiset): what an append-only list gained."""
    left = list(old)
    out = []
    for item in new:
        if item in left:
            left.remove(item)
        else:
            out.append(item)
    if left:
        raise ValueError("an append-only list lost items")
    return out
