"""`teamboard access grant | revoke | list`: who may write what in a PostgreSQL store (issue 14),
which the database enforces (store/pg/v3_roles.sql). Run by the store's owner; on a file store,
access is the file system's (its group and mode), and the command says so."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.errors import BadInput

from .base import Ctx, Sub, command, group, json_flag
from .output import cell, one_line, table

if TYPE_CHECKING:
    from store.pg.engine import PgStore

FILE = (
    "a store file's access is the file system's: its group and mode (README, \"Sharing one "
    "store\"); `teamboard access` manages a PostgreSQL store's"
)
WHAT = {
    "member": "writes its board",
    "leader": "writes its board; reviews and answers escalations on it and the boards below",
    "wall": "reads every board",
}


def _pg(ctx: Ctx) -> PgStore:
    if ctx.store.engine == "file":
        raise BadInput(FILE)
    from store.pg.engine import PgStore

    assert isinstance(ctx.store, PgStore)
    return ctx.store


def _where(board: str | None) -> str:
    return f" of board {one_line(board)}" if board is not None else " (every board)"


def cmd_access_grant(ctx: Ctx) -> int:
    from store.pg import access

    store = _pg(ctx)
    a = ctx.args
    g, made = access.grant(store, a.login, a.kind, a.board)
    if made:
        ctx.print(f"created database role {g.login} (LOGIN): peer authentication maps the OS "
                  f"login {g.login} to it")  # fmt: skip
    if g.at:
        ctx.print(f"{g.login} is a {g.kind}{_where(g.board)} already (granted by {g.who})")
    else:
        ctx.print(f"{g.login} is now a {g.kind}{_where(g.board)}: {WHAT[g.kind]}")
    return 0


def cmd_access_revoke(ctx: Ctx) -> int:
    from store.pg import access

    store = _pg(ctx)
    a = ctx.args
    g = access.revoke(store, a.login, a.kind, a.board)
    ctx.print(f"{g.login} is no longer a {g.kind}{_where(g.board)} (its database role stays)")
    return 0


def cmd_access_list(ctx: Ctx) -> int:
    from store.pg import access

    store = _pg(ctx)
    owner, found = access.grants(store)
    if ctx.args.json:
        ctx.json(
            {
                "owner": owner,
                "access": [
                    {"login": g.login, "as": g.kind, "board": g.board, "granted_by": g.who,
                     "at": g.at}
                    for g in found
                ],
            }
        )  # fmt: skip
        return 0
    ctx.print(f"owner: {one_line(owner)} (adds boards, grants access)")
    if not found:
        ctx.print(
            f"nobody else has access yet: teamboard {ctx.store_flag()}access grant LOGIN "
            "--board BOARD --as member"
        )
        return 0
    rows = [
        [cell(one_line(g.login)), cell(g.kind),
         cell(one_line(g.board) if g.board is not None else "(every board)"),
         cell(f"by {one_line(g.who)} {g.at[:10]}")]
        for g in found
    ]  # fmt: skip
    for line in table(rows, indent=""):
        ctx.print(line)
    return 0


def _args(c: object, verb: str) -> None:
    import argparse

    assert isinstance(c, argparse.ArgumentParser)
    c.add_argument(
        "login", metavar="LOGIN",
        help="the OS login (peer authentication makes it the database role)",
    )  # fmt: skip
    c.add_argument(
        "--board", metavar="BOARD",
        help=f"the board to {verb} (not for a wall: a wall reads every board)",
    )  # fmt: skip
    c.add_argument("--as", dest="kind", required=True, choices=("member", "leader", "wall"),
                   help="member: writes its board; leader: also reviews and answers escalations "
                   "on it and the boards below; wall: reads")  # fmt: skip


def register(sub: Sub) -> None:
    acc = group(sub, "access", "who may write what in a PostgreSQL store (its owner grants it)")
    c = command(acc, "grant", "let a login write a board (member, leader) or read (wall)",
                cmd_access_grant)  # fmt: skip
    _args(c, "grant")
    c = command(acc, "revoke", "take a grant back", cmd_access_revoke)
    _args(c, "revoke")
    c = command(acc, "list", "who may do what, and who granted it", cmd_access_list)
    json_flag(c)
