"""`teamboard migrate --to STORE`: a store's every document, copied into a new store on any
engine (a team's file into PostgreSQL, or back), keeping who wrote each and when.

It copies the documents themselves, not an export: superseded entries, targets, actions and
their history, huddles, the change log, goals, reviews, estimates and explanations, whatever the
codec holds. The source is read whole and checked as a snapshot first; the target must be empty;
the copy is one transaction there (all or nothing). Imports no driver of its own: a PostgreSQL
side brings psycopg with it.
"""

from __future__ import annotations

import copy
from typing import Any

from .. import schema
from ..db import Store
from ..errors import StoreError
from ..snapshot import Snapshot
from ..storage import read_raw

COUNTED = ("boards", "kpis", "entries", "actions", "huddles", "changes", "goals", "reviews",
           "estimates", "explanations")  # fmt: skip


def documents(store: Store) -> dict[str, Any]:
    """The store's documents, `{table: {key: doc}}`, at the current schema, checked."""
    if store.engine == "file":
        store._check_path()
        raw: dict[str, Any] = read_raw(store.path)
        schema.migrate(raw, str(store.path))  # in memory: the source is not written
    else:
        from .engine import PgStore, load

        assert isinstance(store, PgStore)
        with store.connect() as conn, conn.transaction():
            raw = load(conn, version=store._version(conn))
    Snapshot.from_raw(copy.deepcopy(raw), str(store))  # refuses a broken source, naming it
    return raw


def migrate(source: Store, target: Store) -> dict[str, int]:
    """Copy every document of `source` into the empty `target`; how many of each kind."""
    raw = documents(source)
    with target.transaction(create=True) as tx:
        if any(tx.raw.get(t) for t in COUNTED):
            raise StoreError(
                f"{target} holds a store already: migrate fills a new, empty one and never "
                "writes over a store. Name another with --to"
            )
        seq = tx.raw["meta"]["1"].setdefault("seq", {})
        for table in schema.TABLES:
            docs = [d for d in raw.get(table, {}).values() if isinstance(d, dict)]
            if table == "meta" or not docs:
                continue
            tx.insert_many(table, docs)
            seq[table] = max(int(d["id"]) for d in docs)
        last = raw.get("meta", {}).get("1", {}).get("last_change")
        if isinstance(last, dict):
            tx.raw["meta"]["1"]["last_change"] = dict(last)
            tx.storage.dirty = True
        return {t: len(raw.get(t, {})) for t in COUNTED}
