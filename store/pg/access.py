"""Who may write what in a PostgreSQL store (schema version 3, v3_roles.sql), as the owner
manages it (`teamboard access grant | revoke | list`). A refusal's one line, which says what was
refused and which command would allow it, is `store.pg.refusals`'.

The database enforces the rights (row-level security); this module only asks for them and words
them. Grants are per board: a member writes its board, a leader is a member of its board and
leads it and the boards below it (reviews, answers and takes over escalations), a wall reads
(every board: a wall grant has no board). Only the tables' owner (or a member of its role)
grants and revokes; a login that has no database role yet gets one (LOGIN, nothing else), which
takes CREATEROLE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from ..errors import BadInput
from ..snapshot import Snapshot
from . import schema as pg_schema
from .engine import PgStore, load
from .refusals import Refused

KINDS = ("member", "leader", "wall")
LOGIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,62}")
@dataclass(frozen=True)
class Grant:
    login: str
    kind: str
    board: str | None  # the board's name; None for a wall (it reads every board)
    who: str
    at: str


# --- the owner's command ------------------------------------------------------------------


def _prepare(store: PgStore, conn: psycopg.Connection[Any], owner: bool = True) -> Snapshot:
    """The store's boards and KPIs (no entries). With `owner` (grant, revoke), under the write
    lock and refused to anyone but the owner; a schema 1 store is upgraded first (its owner's
    `access list` does it too; anyone else is told so)."""
    if owner or store._version(conn) < pg_schema.VERSION:
        store._begin_write(conn)
    if owner:
        row = conn.execute(
            "SELECT current_user, teamboard_owns(current_user::text), teamboard_owner()"
        ).fetchone()
        assert row is not None
        if not row[1]:
            raise Refused(
                f"{row[0]} may not manage access to {store.shown}: only its owner ({row[2]}) "
                "does (`teamboard access list` shows who may do what)"
            )
    return Snapshot.from_raw(load(conn, entries_of=[]), store.shown)


def _login(login: str) -> str:
    if not LOGIN.fullmatch(login):
        raise BadInput(
            f"{login!r} is not a login: name the OS login (letters, digits, _ . -), which peer "
            "authentication makes the database role"
        )
    return login


def _board(snap: Snapshot, board: str | None, kind: str) -> tuple[int | None, str | None]:
    if kind not in KINDS:
        raise BadInput(f"--as {kind!r}: say member, leader or wall")
    if kind == "wall":
        if board:
            raise BadInput("a wall reads every board: leave out --board (or grant member)")
        return None, None
    if not board:
        raise BadInput(f"name the board the {kind} is on: add --board BOARD")
    b = snap.board_ref(board)
    return b.id, b.name


def grant(store: PgStore, login: str, kind: str, board: str | None = None) -> tuple[Grant, bool]:
    """Let `login` be `kind` (of `board`); creates its role if it has none. (the grant, and
    whether the login's database role was created now)."""
    login = _login(login)
    try:
        with store.connect() as conn, conn.transaction():
            snap = _prepare(store, conn)
            board_id, name = _board(snap, board, kind)
            made = False
            known = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,))
            if known.fetchone() is None:
                try:
                    with conn.transaction():
                        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
                except psycopg.errors.InsufficientPrivilege:
                    raise Refused(
                        f"{login} has no database role and you may not create one (it takes "
                        f"CREATEROLE): ask the database's administrator: "
                        f"`sudo -u postgres createuser {login}`; nothing was written"
                    ) from None
                made = True
            have = conn.execute(
                "SELECT who, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                "FROM access WHERE login = %s AND board IS NOT DISTINCT FROM %s AND kind = %s",
                (login, board_id, kind),
            ).fetchone()
            if have is not None:
                return Grant(login, kind, name, str(have[0]), str(have[1])), made
            conn.execute(
                "INSERT INTO access (login, board, kind) VALUES (%s, %s, %s)",
                (login, board_id, kind),
            )
            conn.execute(
                "INSERT INTO access_history (login, board, kind, granted) "
                "VALUES (%s, %s, %s, true)",
                (login, board_id, kind),
            )
            who = conn.execute("SELECT current_user").fetchone()
            return Grant(login, kind, name, str(who[0]) if who else "", ""), made
    except psycopg.Error as exc:
        raise store._error(exc) from None


def revoke(store: PgStore, login: str, kind: str, board: str | None = None) -> Grant:
    """Take `kind` (of `board`) from `login`; its database role stays (the owner's to drop)."""
    login = _login(login)
    try:
        with store.connect() as conn, conn.transaction():
            snap = _prepare(store, conn)
            board_id, name = _board(snap, board, kind)
            gone = conn.execute(
                "DELETE FROM access WHERE login = %s AND board IS NOT DISTINCT FROM %s "
                "AND kind = %s RETURNING who",
                (login, board_id, kind),
            ).fetchone()
            if gone is None:
                where = f" of board {name}" if name else ""
                raise BadInput(
                    f"{login} is no {kind}{where}: nothing to revoke (see `teamboard access list`)"
                )
            conn.execute(
                "INSERT INTO access_history (login, board, kind, granted) "
                "VALUES (%s, %s, %s, false)",
                (login, board_id, kind),
            )
            return Grant(login, kind, name, str(gone[0]), "")
    except psycopg.Error as exc:
        raise store._error(exc) from None


def grants(store: PgStore) -> tuple[str, list[Grant]]:
    """(the store's owner, every grant by login, then board)."""
    try:
        with store.connect() as conn, conn.transaction():
            snap = _prepare(store, conn, owner=False)
            owner = conn.execute("SELECT teamboard_owner()").fetchone()
            found = conn.execute(
                "SELECT login, kind, board, who, "
                "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                "FROM access ORDER BY login, board NULLS FIRST, kind"
            ).fetchall()
    except psycopg.Error as exc:
        raise store._error(exc) from None
    out = [
        Grant(str(r[0]), str(r[1]), snap.boards[r[2]].name if r[2] is not None else None,
              str(r[3]), str(r[4]))
        for r in found
    ]  # fmt: skip
    return (str(owner[0]) if owner else ""), out


__all__ = ["KINDS", "Grant", "Refused", "grant", "grants", "revoke"]
