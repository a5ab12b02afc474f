"""The store's layout on disk: its identity, its tables, its version, and migrations.

A store is a JSON object of tables. Since schema 3 its `meta` document carries a marker,
`{"format": "teamboard-store", "schema": N}`, so teamboard never takes another file for a store
(a JSON export, another program's JSON) and writes over it. Stores from before the marker are
recognised by their shape and get the marker on their next write.

Version 1 (teamboard before time-phased targets) kept one `target` number on each KPI.
Version 2 keeps `targets`: a list of `{value, from}`; the first has no `from`.
Version 3 adds the marker and the `changes` table (the change log).
Version 4 adds `goals` (a KPI's free-text goal becomes a goal object on its board, which the KPI
names by `goal_id`), `reviews` (a leader looked at the board), `estimates` and `explanations`,
and a KPI's optional `due` time and `category`.
"""

from __future__ import annotations

from typing import Any

from .errors import StoreCorrupt, StoreForeign, StoreTooNew

FORMAT = "teamboard-store"
EXPORT_FORMAT = "teamboard-export"
SCHEMA = 4
TABLES = (
    "meta", "boards", "kpis", "entries", "actions", "huddles", "changes",
    "goals", "reviews", "estimates", "explanations",
)  # fmt: skip
_LEGACY_TABLES = frozenset(TABLES) - {"changes", "goals", "reviews", "estimates", "explanations"}


def marker() -> dict[str, Any]:
    """The meta document of a new store."""
    return {"format": FORMAT, "schema": SCHEMA}


def _shape(raw: object) -> str:
    if isinstance(raw, dict):
        keys = sorted(str(k) for k in raw)
        shown = ", ".join(repr(k[:20]) for k in keys[:4]) + (", …" if len(keys) > 4 else "")
        return f"an object with {shown}" if keys else "an empty object"
    return "a list" if isinstance(raw, list) else f"a {type(raw).__name__}"


def identify(raw: object, path: str) -> int:
    """The schema version of a parsed store; anything that is not a store raises, in one line
    that says what the file looks like."""
    if isinstance(raw, dict) and raw.get("format") == EXPORT_FORMAT:
        raise StoreForeign(
            f"{path} is a teamboard export, not a store: bring it back with "
            f"`teamboard --store NEW.json restore {path}`; teamboard will not write to it"
        )
    meta = raw.get("meta") if isinstance(raw, dict) else None
    doc = meta.get("1") if isinstance(meta, dict) else None
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        version = doc.get("schema")
        if type(version) is not int or version < 1:
            raise StoreCorrupt(path, f"table 'meta', field 'schema': {version!r} is not a version")
        return version
    # Before the marker: only our tables, each an object, and the look of a store.
    legacy = (
        isinstance(raw, dict)
        and bool(raw)
        and set(raw) <= _LEGACY_TABLES
        and all(isinstance(t, dict) for t in raw.values())
    )
    if legacy and isinstance(doc, dict) and doc.get("schema") in (1, 2):
        return int(doc["schema"])
    if legacy and meta is None and isinstance(raw, dict) and (raw.get("kpis") or raw.get("boards")):
        return 1
    raise StoreForeign(
        f"{path} is JSON but not a teamboard store ({_shape(raw)}); teamboard will not write "
        "to it. Name your store with --store, or create one with `teamboard init`"
    )


def check_tables(raw: dict[str, Any], path: str) -> None:
    """Every table present is an object (a list where a table belongs would be wiped)."""
    for name in TABLES:
        if name in raw and not isinstance(raw[name], dict):
            raise StoreCorrupt(path, f"table '{name}' is {_shape(raw[name])}, not an object")


def _v1_to_v2(raw: dict[str, Any]) -> None:
    for doc in (raw.get("kpis") or {}).values():
        if isinstance(doc, dict) and "targets" not in doc:
            doc["targets"] = [{"value": doc.pop("target", 0.0)}]


def _v2_to_v3(raw: dict[str, Any]) -> None:
    """The marker is set below; the change log starts empty."""


def _v3_to_v4(raw: dict[str, Any]) -> None:
    goals_from_text(raw)


def goals_from_text(raw: dict[str, Any]) -> int:
    """Each distinct free-text goal of a board becomes one goal object there (who and when of
    the first KPI that named it); the KPI keeps the text and names the goal by `goal_id`. The
    other new tables start empty; a KPI's optional `due` and `category` decode when absent."""
    goals = raw.setdefault("goals", {})
    if not isinstance(goals, dict):
        return 0  # check_tables names it
    made = 0
    ids = [d.get("id", 0) for d in goals.values() if isinstance(d, dict)]
    next_id = max((i for i in ids if type(i) is int), default=0)
    known: dict[tuple[object, str], int] = {}
    kpis = [d for d in (raw.get("kpis") or {}).values() if isinstance(d, dict)]
    for doc in sorted(kpis, key=lambda d: d["id"] if type(d.get("id")) is int else 0):
        text = doc.get("goal")
        if type(text) is not str or not text.strip() or doc.get("goal_id") is not None:
            continue
        key = (doc.get("board"), text.strip().casefold())
        if key not in known:
            next_id += 1
            made += 1
            known[key] = next_id
            goals[str(next_id)] = {
                "id": next_id, "board": doc.get("board"), "name": text.strip(), "parent": None,
                "due": None, "description": "", "archived": False,
                "who": doc.get("who", ""), "at": doc.get("at", ""),
            }  # fmt: skip
        doc["goal_id"] = known[key]
    return made


MIGRATIONS = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}


def too_new(version: int, path: str) -> StoreTooNew:
    return StoreTooNew(
        f"{path} was written by a newer teamboard (schema {version}; this one knows {SCHEMA}): "
        "upgrade teamboard (pip install -U teamboard) before writing to it"
    )


def migrate(raw: dict[str, Any], path: str = "store") -> bool:
    """Check what the file is and bring it to the current schema in place; True when anything
    changed (then the next write stores it). A newer store may be read, never migrated."""
    version = identify(raw, path)
    check_tables(raw, path)
    if version > SCHEMA:
        raise too_new(version, path)
    changed = False
    for name in TABLES:
        if name not in raw:
            raw[name] = {}
            changed = True
    while version < SCHEMA:
        MIGRATIONS[version](raw)
        version += 1
        changed = True
    doc = raw["meta"].setdefault("1", {})
    if not isinstance(doc, dict):
        raise StoreCorrupt(path, "table 'meta', id '1': is not an object")
    if doc.get("schema") != SCHEMA or doc.get("format") != FORMAT:
        doc["format"], doc["schema"] = FORMAT, SCHEMA
        changed = True
    return changed


def for_reading(raw: dict[str, Any], path: str) -> int:
    """Like `migrate`, in memory, but a store from a newer teamboard is read as it is."""
    try:
        migrate(raw, path)
    except StoreTooNew:
        for name in TABLES:
            raw.setdefault(name, {})
        return identify(raw, path)
    return SCHEMA
