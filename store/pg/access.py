"""Who may write what in a PostgreSQL store (schema version 3, v3_roles.sql), as the owner
manages it (`teamboard access grant | revoke | list`), and a refusal as one line that says what
was refused and which command would allow it.

The database enforces the rights (row-level security); this module only asks for them and words
them. Grants are per board: a member writes its board, a leader is a member of its board and
leads it and the boards below it (reviews, answers and takes over escalations), a wall reads
(every board: a wall grant has no board). Only the tables' owner (or a member of its role)
grants and revokes; a login that has no database role yet gets one (LOGIN, nothing else), which
takes CREATEROLE.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from ..errors import BadInput, StoreReadOnly
from ..snapshot import Snapshot
from . import schema as pg_schema
from .engine import PgStore, load

KINDS = ("member", "leader", "wall")
LOGIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,62}")
WHAT = {  # a table, as a refusal names what was refused
    "boards": "boards", "goals": "goals", "kpis": "KPIs", "actions": "actions",
    "huddles": "huddle minutes", "meta": "the store's last change",
}  # fmt: skip


class Refused(StoreReadOnly):
    """The database refused a write (or a read) for lack of rights; nothing was written."""


@dataclass(frozen=True)
class Grant:
    login: str
    kind: str
    board: str | None  # the board's name; None for a wall (it reads every board)
    who: str
    at: str


def _fix(login: str, board: str | None, kind: str) -> str:
    where = f" --board {shlex.quote(board)}" if board is not None else ""
    return f"teamboard access grant {login}{where} --as {kind}"


def refusal(exc: psycopg.Error, shown: str) -> Refused:
    """An insufficient_privilege error as one line: what was refused, whom to ask, which
    command. v3_roles.sql's checks put the particulars in the error's DETAIL as JSON."""
    diag = exc.diag
    message = (diag.message_primary or str(exc)).strip().splitlines()[0]
    owner = (diag.message_hint or "").strip() or "its owner"
    try:
        detail: dict[str, Any] = json.loads(diag.message_detail or "")
    except ValueError:
        detail = {}
    login, board, kind = detail.get("login"), detail.get("board"), detail.get("as")
    if not isinstance(login, str):
        return Refused(
            f"the database refused it ({message}): only the store's owner may do that; "
            "nothing was written"
        )
    if detail.get("what") == "read":
        return Refused(
            f"{login} has no access to the store at {shown}: ask its owner ({owner}) for it: "
            f"`{_fix(login, None, 'wall')}` to read, or `--board BOARD --as member` to write"
        )
    if kind == "owner" or board is None:
        return Refused(
            f"{login} may not add or change {detail.get('what', 'that')}: only the store's "
            f"owner ({owner}) does; nothing was written"
        )
    need = "leader" if kind == "leader" else "member"
    return Refused(
        f"{login} may not write {detail.get('what', 'that')} on board {board}; nothing was "
        f"written. Ask the store's owner ({owner}) for it: `{_fix(login, board, need)}`"
    )


def unchanged(conn: psycopg.Connection[Any], table: str, doc: dict[str, Any]) -> Refused:
    """An UPDATE the row-level security let through to no row: the row is not the writer's."""
    row = conn.execute(
        "SELECT current_user, pg_get_userbyid(c.relowner) FROM pg_class c "
        "WHERE c.oid = 'meta'::regclass"
    ).fetchone()
    login, owner = (str(row[0]), str(row[1])) if row else ("you", "its owner")
    board_id = doc.get("board_id") if table == "huddles" else doc.get("board")
    name = conn.execute("SELECT name FROM boards WHERE id = %s", (board_id,)).fetchone()
    what = WHAT.get(table, table)
    if name is None:
        return Refused(
            f"{login} may not change {what}: only the store's owner ({owner}) does, or a member "
            "of a board; nothing was written"
        )
    return Refused(
        f"{login} may not change {what} on board {name[0]}; nothing was written. Ask the "
        f"store's owner ({owner}) for it: `{_fix(login, str(name[0]), 'member')}`"
    )


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


__all__ = ["KINDS", "Grant", "Refused", "grant", "grants", "refusal", "revoke", "unchanged"]
