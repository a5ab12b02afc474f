"""The store's layout on disk, its version, and migrations of older files.

Version 1 (teamboard before time-phased targets) kept one `target` number on each KPI.
Version 2 keeps `targets`: a list of `{value, from}`; the first has no `from`.
"""

from __future__ import annotations

from typing import Any

from .errors import StoreError

SCHEMA = 2
TABLES = ("meta", "boards", "kpis", "entries", "actions", "huddles")


def version_of(raw: dict[str, Any]) -> int:
    meta = raw.get("meta") or {}
    for doc in meta.values():
        if isinstance(doc, dict) and "schema" in doc:
            return int(doc["schema"])
    return 1 if raw.get("kpis") or raw.get("boards") else SCHEMA


def _v1_to_v2(raw: dict[str, Any]) -> None:
    for doc in (raw.get("kpis") or {}).values():
        if "targets" not in doc:
            doc["targets"] = [{"value": doc.pop("target", 0.0)}]


MIGRATIONS = {1: _v1_to_v2}


def migrate(raw: dict[str, Any]) -> bool:
    """Bring `raw` to the current schema in place; True when anything changed."""
    version = version_of(raw)
    if version > SCHEMA:
        raise StoreError(
            f"this store was written by a newer teamboard (schema {version}, this one knows "
            f"{SCHEMA}); upgrade teamboard: pip install -U teamboard"
        )
    changed = False
    for name in TABLES:
        if not isinstance(raw.get(name), dict):
            raw[name] = {}
            changed = True
    while version < SCHEMA:
        MIGRATIONS[version](raw)
        version += 1
        changed = True
    meta = raw["meta"]
    doc = meta.setdefault("1", {})
    if doc.get("schema") != SCHEMA:
        doc["schema"] = SCHEMA
        changed = True
    return changed
