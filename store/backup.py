"""The whole store as one JSON document (`teamboard export --format json`), and back (`restore`).

The export is for people and scripts as much as for backups: references carry both the name
and the id. Version 2:

    {"format": "teamboard-export", "version": 2, "exported_at": "<UTC ISO>", "schema": 3,
     "boards":  [{"id", "name", "description", "parent" (name|null), "parent_id", "kpi_limit",
                  "who", "at"}],
     "kpis":    [{"id", "board" (name), "board_id", "name",
                  "targets": [{"value", "from" (date|null), "who", "at"}], "direction", "unit",
                  "amber", "frequency", "owner", "goal", "kind", "counter" (name|null),
                  "counter_id", "description", "archived", "who", "at"}],
     "entries": [{"id", "board", "kpi" (names), "kpi_id", "date", "value", "plan", "note",
                  "who", "at", "superseded" (bool)}],
     "actions": [{"id", "title", "board", "board_id", "kpi" (name|null), "kpi_id", "owner",
                  "due", "stage", "who", "at",
                  "history": [{"field", "old", "new", "stage", "who", "at"}]}],
     "huddles": [the minutes as stored],
     "changes": [{"id", "table", "ref", "field", "old", "new", "what", "who", "at"}],
     "goals":   [{"id", "board_id", "name", "parent" (goal id|null), "due", "description",
                  "archived", "who", "at"}],
     "reviews": [{"id", "board_id", "note", "reds" (KPI ids), "who", "at"}]}

Since schema 4 a board carries "review_days", a KPI "goal_id", and an escalated action its
"escalation" ({"to", "origin" (board ids), "why", "who", "at", "answer", "answered_by",
"answered_at", "taken_by", "taken_at"}), a KPI "category" ("" for none) and "due" (HH:MM|null),
and two tables join:

     "estimates":    [{"id", "board", "kpi" (names), "kpi_id", "date", "value", "by", "who",
                       "at"}],
     "explanations": [{"id", "board", "kpi" (names), "kpi_id", "text", "from", "until", "who",
                       "at"}]

Entries come in record order per KPI; `superseded` marks a value replaced by a later one for
the same period. Dates are YYYY-MM-DD, times UTC ISO 8601. Version 1 exports (no ids, no
change log) restore too: their references are resolved by name.

Restore is exact: export, restore, export gives the same document bar `exported_at`. A bad
export is refused whole, with every problem listed, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from . import codec, schema
from .db import Store
from .errors import BadInput, StoreCorrupt, StoreError
from .model import Entry
from .rules import series
from .snapshot import Snapshot
from .storage import parse

VERSION = 2
Doc = dict[str, Any]


# --- export ------------------------------------------------------------------------------------


def _superseded_ids(snap: Snapshot) -> set[int]:
    out: set[int] = set()
    for kpi_id, entries in snap.entries.items():
        k = snap.kpis.get(kpi_id)
        if k is None:
            continue
        kept = {e.id for e in series(k.frequency, entries)}
        out.update(e.id for e in entries if e.id not in kept)
    return out


def export_doc(snap: Snapshot, exported_at: str) -> Doc:
    """The whole store as one JSON-ready object; see the module docstring for its shape."""
    boards, kpis = snap.boards, snap.kpis

    def bname(bid: int | None) -> str | None:
        return boards[bid].name if bid is not None and bid in boards else None

    def kname(kid: int | None) -> str | None:
        return kpis[kid].name if kid is not None and kid in kpis else None

    superseded = _superseded_ids(snap)

    def entry(e: Entry) -> Doc:
        k = kpis[e.kpi]
        return {
            "id": e.id,
            "board": bname(k.board),
            "kpi": k.name,
            "kpi_id": e.kpi,
            "date": e.day.isoformat(),
            "value": e.value,
            "plan": e.plan,
            "note": e.note,
            "who": e.who,
            "at": e.at,
            "superseded": e.id in superseded,
        }

    return {
        "format": schema.EXPORT_FORMAT,
        "version": VERSION,
        "exported_at": exported_at,
        "schema": schema.SCHEMA,
        "boards": [
            {
                "id": b.id,
                "name": b.name,
                "description": b.description,
                "parent": bname(b.parent),
                "parent_id": b.parent,
                "kpi_limit": b.kpi_limit,
                "review_days": b.review_days,
                "who": b.who,
                "at": b.at,
            }
            for b in sorted(boards.values(), key=lambda b: b.id)
        ],
        "kpis": [
            {
                "id": k.id,
                "board": bname(k.board),
                "board_id": k.board,
                "name": k.name,
                "targets": [
                    {
                        "value": t.value,
                        "from": t.since.isoformat() if t.since else None,
                        "who": t.who,
                        "at": t.at,
                    }
                    for t in k.targets
                ],
                "direction": k.direction.value,
                "unit": k.unit,
                "amber": k.amber,
                "frequency": k.frequency.value,
                "owner": k.owner,
                "goal": k.goal,
                "goal_id": k.goal_id,
                "kind": k.kind.value,
                "counter": kname(k.counter),
                "counter_id": k.counter,
                "description": k.description,
                "archived": k.archived,
                "category": k.category,
                "due": k.due.strftime("%H:%M") if k.due is not None else None,
                "who": k.who,
                "at": k.at,
            }
            for k in sorted(kpis.values(), key=lambda k: k.id)
        ],
        "entries": [entry(e) for kpi_id in sorted(snap.entries) for e in snap.entries[kpi_id]],
        "actions": [
            {
                "id": a.id,
                "title": a.title,
                "board": bname(a.board),
                "board_id": a.board,
                "kpi": kname(a.kpi),
                "kpi_id": a.kpi,
                "owner": a.owner,
                "due": a.due.isoformat() if a.due else None,
                "stage": a.stage.value,
                "who": a.who,
                "at": a.at,
                "history": [
                    {
                        "field": h.field,
                        "old": h.old,
                        "new": h.new,
                        "stage": h.stage.value,
                        "who": h.who,
                        "at": h.at,
                    }
                    for h in a.history
                ],
                **({"escalation": codec.plain_escalation(a.escalation)} if a.escalation else {}),
            }
            for a in sorted(snap.actions.values(), key=lambda a: a.id)
        ],
        "goals": [
            {
                "id": g.id, "board_id": g.board, "name": g.name, "parent": g.parent,
                "due": g.due.isoformat() if g.due else None, "description": g.description,
                "archived": g.archived, "who": g.who, "at": g.at,
            }
            for g in sorted(snap.goals.values(), key=lambda g: g.id)
        ],
        "reviews": [
            {"id": r.id, "board_id": r.board, "note": r.note, "reds": list(r.reds),
             "who": r.who, "at": r.at}
            for r in snap.reviews
        ],
        "estimates": [
            {
                "id": x.id, "board": bname(kpis[x.kpi].board), "kpi": kpis[x.kpi].name,
                "kpi_id": x.kpi, "date": x.day.isoformat(), "value": x.value, "by": x.by,
                "who": x.who, "at": x.at,
            }
            for kpi_id in sorted(snap.estimates) for x in snap.estimates[kpi_id]
        ],
        "explanations": [
            {
                "id": y.id, "board": bname(kpis[y.kpi].board), "kpi": kpis[y.kpi].name,
                "kpi_id": y.kpi, "text": y.text, "from": y.since.isoformat(),
                "until": y.until.isoformat(), "who": y.who, "at": y.at,
            }
            for kpi_id in sorted(snap.explanations) for y in snap.explanations[kpi_id]
        ],
        "huddles": list(snap.huddles),
        "changes": [
            {
                "id": r.id,
                "table": r.table,
                "ref": r.ref,
                "field": r.field,
                "old": r.old,
                "new": r.new,
                "what": r.what,
                "who": r.who,
                "at": r.at,
            }
            for r in snap.revisions
        ],
    }


# --- restore -----------------------------------------------------------------------------------


class RestoreRejected(BadInput):
    """The export cannot be restored; `details` lists every problem. Nothing was written."""

    def __init__(self, source: str, problems: list[str]) -> None:
        n = len(problems)
        super().__init__(
            f"{source}: {n} problem{'s' if n != 1 else ''} found; nothing was restored. Fix "
            "the export (or use an untouched one) and run restore again"
        )
        self.details = [f"{source}: {p}" for p in problems]


class _Names:
    """Resolves a v1 export's references by name; a v2 export's ids are used as they are."""

    def __init__(self, doc: Doc) -> None:
        self.boards: dict[str, int] = {}
        self.kpis: dict[tuple[str, str], int] = {}
        for b in _items(doc, "boards"):
            if isinstance(b.get("name"), str) and type(b.get("id")) is int:
                self.boards[b["name"].casefold()] = b["id"]
        for k in _items(doc, "kpis"):
            if all(isinstance(k.get(f), str) for f in ("board", "name")):
                key = (k["board"].casefold(), k["name"].casefold())
                if type(k.get("id")) is int:
                    self.kpis[key] = k["id"]

    def board(self, item: Doc, id_field: str, name_field: str) -> Any:
        if id_field in item:
            return item[id_field]
        name = item.get(name_field)
        if name is None:
            return None
        if not isinstance(name, str) or name.casefold() not in self.boards:
            raise ValueError(f"'{name_field}' names no board of the export: {name!r}")
        return self.boards[name.casefold()]

    def kpi(self, item: Doc, id_field: str, name_field: str, board: object) -> Any:
        if id_field in item:
            return item[id_field]
        name = item.get(name_field)
        if name is None:
            return None
        key = (board.casefold() if isinstance(board, str) else "", str(name).casefold())
        if key not in self.kpis:
            raise ValueError(f"'{name_field}' names no KPI of the export: {name!r}")
        return self.kpis[key]


def _items(doc: Doc, table: str) -> Iterator[Doc]:
    for item in doc.get(table) or []:
        if isinstance(item, dict):
            yield item


def _to_store(doc: Doc, problems: list[str]) -> dict[str, list[Doc]]:
    """The export's items as store documents; what cannot be converted goes to `problems`."""
    names = _Names(doc)
    out: dict[str, list[Doc]] = {t: [] for t in ("boards", "kpis", "entries", "actions")}
    out["huddles"], out["changes"] = [], []
    out["goals"], out["reviews"] = [], []
    out["estimates"], out["explanations"] = [], []
    convert: dict[str, Callable[[Doc], Doc]] = {
        "boards": lambda b: {
            **_without(b, "parent_id"),
            "parent": names.board(b, "parent_id", "parent"),
        },
        "kpis": lambda k: {
            # a KPI without a category or due time stores none (as `kpi add` writes it)
            **_without(k, "board_id", "counter_id", *_unset(k, "category", "due")),
            "board": names.board(k, "board_id", "board"),
            "counter": names.kpi(k, "counter_id", "counter", k.get("board")),
        },
        "entries": lambda e: {
            **_without(e, "board", "kpi_id", "superseded"),
            "kpi": names.kpi(e, "kpi_id", "kpi", e.get("board")),
        },
        "actions": lambda a: {
            **_without(a, "board_id", "kpi_id"),
            "board": names.board(a, "board_id", "board"),
            "kpi": names.kpi(a, "kpi_id", "kpi", a.get("board")),
        },
        "huddles": dict,
        "changes": dict,
        "goals": lambda g: {**_without(g, "board_id"), "board": g.get("board_id")},
        "reviews": lambda r: {**_without(r, "board_id"), "board": r.get("board_id")},
        "estimates": lambda x: {
            **_without(x, "board", "kpi_id"),
            "kpi": names.kpi(x, "kpi_id", "kpi", x.get("board")),
        },
        "explanations": lambda y: {
            **_without(y, "board", "kpi_id"),
            "kpi": names.kpi(y, "kpi_id", "kpi", y.get("board")),
        },
    }
    for table, make in convert.items():
        items = doc.get(table, [])
        if not isinstance(items, list):
            problems.append(f"'{table}' is not a list")
            continue
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                problems.append(f"{table}[{n}] is not an object")
                continue
            try:
                out[table].append(make(item))
            except ValueError as exc:
                problems.append(f"{table}[{n}] (id {item.get('id')!r}): {exc}")
    return out


def _without(item: Doc, *fields: str) -> Doc:
    return {k: v for k, v in item.items() if k not in fields}


def _unset(item: Doc, *fields: str) -> tuple[str, ...]:
    """The `fields` the export gives as empty (null or ""): the store leaves them out."""
    return tuple(f for f in fields if f in item and item[f] in (None, ""))


_DECODERS: dict[str, Callable[[object, object], object]] = {
    "boards": codec.decode_board,
    "kpis": codec.decode_kpi,
    "entries": codec.decode_entry,
    "actions": codec.decode_action,
    "huddles": codec.decode_huddle,
    "changes": codec.decode_revision,
    "goals": codec.decode_goal,
    "reviews": codec.decode_review,
    "estimates": codec.decode_estimate,
    "explanations": codec.decode_explanation,
}


def check_export(blob: bytes, source: str) -> dict[str, list[Doc]]:
    """The store documents an export holds, or `RestoreRejected` listing every problem."""
    try:
        doc = parse_export(blob, source)
    except StoreCorrupt as exc:
        line = f" (line {exc.line}, column {exc.column})" if exc.line else ""
        raise RestoreRejected(source, [exc.detail + line]) from None
    problems: list[str] = []
    if doc.get("format") != schema.EXPORT_FORMAT:
        raise RestoreRejected(source, ['not a teamboard export (no "format": "teamboard-export")'])
    if doc.get("version") not in (1, VERSION):
        problems.append(f"export version {doc.get('version')!r} is not one this teamboard knows")
    tables = _to_store(doc, problems)
    decoded: dict[str, list[Any]] = {}
    for table, docs in tables.items():
        decoded[table] = []
        seen: set[int] = set()
        for d in docs:
            try:
                decoded[table].append(_DECODERS[table](d, None))
            except codec.Malformed as exc:
                problems.append(_say(exc))
                continue
            if d["id"] in seen:
                problems.append(f"{table}: id {d['id']} is used twice")
            seen.add(d["id"])
    boards = {b.id: b for b in decoded["boards"]}
    kpis = {k.id: k for k in decoded["kpis"]}
    refs = codec.reference_problems(boards, kpis, decoded["entries"], decoded["actions"])
    problems += [_say(m) for m in refs]
    goals = {g.id: g for g in decoded["goals"]}
    tiers = codec.tier_problems(boards, kpis, decoded["actions"], goals, decoded["reviews"])
    problems += [_say(m) for m in tiers]
    for table in ("estimates", "explanations"):
        for x in decoded[table]:
            if x.kpi not in kpis:
                missing = codec.Malformed(table, x.id, "kpi", f"KPI {x.kpi} does not exist")
                problems.append(_say(missing))
    if problems:
        raise RestoreRejected(source, problems)
    return tables


def _say(m: codec.Malformed) -> str:
    where = f"{m.table}" + (f" id {m.doc_id}" if m.doc_id is not None else "")
    return f"{where}" + (f", field '{m.field}'" if m.field else "") + f": {m.detail}"


def parse_export(blob: bytes, source: str) -> Doc:
    from pathlib import Path

    if not blob.strip():
        raise StoreCorrupt(source, "the file is empty")
    doc = parse(Path(source), blob)
    if not isinstance(doc, dict):
        raise StoreCorrupt(source, "the top level is not a JSON object")
    return doc


def restore(store: Store, blob: bytes, source: str) -> dict[str, int]:
    """Create a store at `store.path` from an export; refuses an existing store. Returns how
    many documents of each kind it holds."""
    tables = check_export(blob, source)
    with store.transaction(create=True) as tx:
        if any(tx.raw[t] for t in ("boards", "kpis", "entries", "actions", "huddles")):
            raise StoreError(
                f"{store.path} is a store already: restore creates a new one and never writes "
                "over a store. Name a new file with --store PATH"
            )
        seq = tx.raw["meta"]["1"].setdefault("seq", {})
        for table, docs in tables.items():
            if docs:
                tx.insert_many(table, docs)
                seq[table] = max(d["id"] for d in docs)
        # An export from before goal objects: its free-text goals become goals (schema 4).
        made = schema.goals_from_text(tx.storage.data)
        if made:
            seq["goals"] = max(d["id"] for d in tx.storage.data["goals"].values())
        counts = {t: len(d) for t, d in tables.items()}
        counts["goals"] += made
        tx.touch(f"restored {counts['entries']} entries from {source}")
        return counts
