"""The one-line errors of a PostgreSQL store: the database refusing a write for lack of rights
(schema 3's roles, v3_roles.sql) and a missing driver. Apart from `store.pg.access` and
`store.pg.engine` so that neither imports the other."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Any

from ..errors import StoreError, StoreReadOnly

if TYPE_CHECKING:
    import psycopg

WHAT = {  # a table, as a refusal names what was refused
    "boards": "boards", "goals": "goals", "kpis": "KPIs", "actions": "actions",
    "huddles": "huddle minutes", "meta": "the store's last change",
}  # fmt: skip


class Refused(StoreReadOnly):
    """The database refused a write (or a read) for lack of rights; nothing was written."""


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


def no_driver(exc: ImportError) -> StoreError:
    """The one-line error for psycopg missing, or present without libpq ("no pq wrapper
    available"); another import error is re-raised as it is."""
    if exc.name in ("psycopg", "psycopg_binary", "psycopg_c") or "pq wrapper" in str(exc):
        return StoreError(
            "a PostgreSQL store needs the driver and libpq: pip install 'teamboard[pg]' "
            "(and the system's libpq, e.g. Debian's libpq5)"
        )
    raise exc
