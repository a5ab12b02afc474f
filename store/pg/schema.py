"""The PostgreSQL schema's version, creating it (`teamboard init`), and its migrations.

`schema.sql` is version 1. A later version adds its step to `MIGRATIONS` (SQL that takes the
store from the version before) and raises `VERSION`; `upgrade` runs the steps a store lacks,
inside the writer's transaction, and a store newer than this teamboard is refused.
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from ..errors import StoreError

VERSION = 3


def _sql(name: str) -> str:
    return files("store.pg").joinpath(name).read_text(encoding="utf-8")


def schema_sql() -> str:
    return _sql("schema.sql")



# Version N: the SQL that takes a store from N-1 to N.
MIGRATIONS: dict[int, str] = {
    2: _sql("v2_scale.sql"),  # scale: entry ids from a sequence, the scoped reads' indexes
    3: _sql("v3_roles.sql"),  # roles: who may write what, enforced by row-level security
}


def version_of(conn: psycopg.Connection[Any]) -> int | None:
    """The store's schema version, or None when the database has no teamboard store."""
    row = conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    got = conn.execute("SELECT schema_version FROM meta WHERE id = 1").fetchone()
    return int(got[0]) if got else None


def apply(conn: psycopg.Connection[Any]) -> None:
    """Create the schema (version 1), then migrate it to `VERSION`."""
    conn.execute(schema_sql())
    conn.execute("INSERT INTO meta (id, schema_version) VALUES (1, 1)")
    upgrade(conn, 1)


def upgrade(conn: psycopg.Connection[Any], version: int) -> bool:
    """Run the migrations after `version`; True when there were any. Only the tables' owner
    (or a member of its role) may: anyone else is told who upgrades the store, and how."""
    if version < VERSION:
        row = conn.execute(
            "SELECT pg_has_role(current_user, c.relowner, 'USAGE'), pg_get_userbyid(c.relowner) "
            "FROM pg_class c WHERE c.oid = 'meta'::regclass"
        ).fetchone()
        if row is not None and not row[0]:
            raise StoreError(
                f"this store has schema {version} and this teamboard writes schema {VERSION}: "
                f"its owner ({row[1]}) upgrades it once, with `teamboard access list`; nothing "
                "was written"
            )
    for step in range(version + 1, VERSION + 1):
        conn.execute(MIGRATIONS[step])
        conn.execute("UPDATE meta SET schema_version = %s", (step,))
    return version < VERSION
