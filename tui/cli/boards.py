"""`teamboard board add | list | edit`: the boards, as a tree (a department, then its teams)."""

from __future__ import annotations

from store import ops, validate
from store.model import Board
from store.present import limit_text
from store.snapshot import Snapshot

from . import base
from .base import Ctx, Sub, command, group, json_flag
from .output import cell, one_line, table


def cmd_board_add(ctx: Ctx) -> int:
    a = ctx.args
    name = validate.name(a.name, "board name")
    limit = validate.kpi_limit(a.kpi_limit) if a.kpi_limit is not None else 7
    b = ops.add_board(
        ctx.store,
        name,
        a.parent,
        description=base.text(a.description, "description") or "",
        kpi_limit=limit,
        review_days=validate.whole(a.review_days, "--review-days", 1, 365)
        if a.review_days is not None
        else 7,
    )
    ctx.print(f"added board {one_line(b.name)} (up to {b.kpi_limit} KPIs)")
    return 0


def board_tree(snap: Snapshot) -> list[tuple[Board, int]]:
    """Every board with its depth, parents before children, each level by id.

    Iterative: a tree thousands of tiers deep (made by hand) must not hit the recursion limit.
    """
    children: dict[int, list[Board]] = {}
    for b in snap.boards.values():
        if b.parent is not None:
            children.setdefault(b.parent, []).append(b)
    out: list[tuple[Board, int]] = []
    seen: set[int] = set()
    roots = [b for b in snap.boards.values() if b.parent is None or b.parent not in snap.boards]
    # Roots first, then anything a hand-edited loop left unreached.
    everything = sorted(snap.boards.values(), key=lambda b: b.id)
    for start in [*sorted(roots, key=lambda b: b.id), *everything]:
        stack = [(start, 0)]
        while stack:
            b, depth = stack.pop()
            if b.id in seen:  # a hand-edited loop must not hang us
                continue
            seen.add(b.id)
            out.append((b, depth))
            below = sorted(children.get(b.id, ()), key=lambda c: c.id, reverse=True)
            stack.extend((c, depth + 1) for c in below)
    return out


def cmd_board_list(ctx: Ctx) -> int:
    snap = ctx.snapshot()
    tree = board_tree(snap)
    if ctx.args.json:
        ctx.json(
            {
                "boards": [
                    {
                        "id": b.id,
                        "name": b.name,
                        "parent": snap.boards[b.parent].name if b.parent in snap.boards else None,
                        "description": b.description,
                        "kpi_limit": b.kpi_limit,
                        "review_days": b.review_days,
                        "kpis": len(snap.kpis_of(b.id)),
                        "open_actions": len(snap.actions_of(b.id)),
                    }
                    for b, _ in tree
                ]
            }
        )
        return 0
    if not tree:
        ctx.print(f"no boards yet: add one with teamboard {ctx.store_flag()}board add NAME")
        return 0
    rows = []
    for b, depth in tree:
        n = len(snap.kpis_of(b.id))
        rows.append(
            [
                cell("  " * depth + one_line(b.name)),
                cell(f"{limit_text(n, b.kpi_limit)} KPIs", ctx.paint,
                     "alarm" if n > b.kpi_limit else None),
                cell(f"{len(snap.actions_of(b.id))} open actions"),
                cell(one_line(b.description)),
            ]
        )
    for line in table(rows, indent=""):
        ctx.print(line)
    return 0


def cmd_board_edit(ctx: Ctx) -> int:
    a = ctx.args
    b = ops.edit_board(
        ctx.store,
        a.board,
        new_name=validate.name(a.name, "board name") if a.name is not None else None,
        description=base.text(a.description, "description"),
        parent=a.parent.strip() if a.parent is not None else None,  # "": to the top level
        kpi_limit=validate.kpi_limit(a.kpi_limit) if a.kpi_limit is not None else None,
        review_days=validate.whole(a.review_days, "--review-days", 1, 365)
        if a.review_days is not None
        else None,
    )
    ctx.print(f"updated board {one_line(b.name)}")
    return 0


def register(sub: Sub) -> None:
    boards = group(sub, "board", "add, list and edit boards")
    c = command(boards, "add", "add a board", cmd_board_add)
    c.add_argument("name", metavar="NAME", help="the board's name")
    c.add_argument(
        "--parent", metavar="BOARD", help="the board above it (its KPIs feed that one's)"
    )
    c.add_argument("--description", metavar="TEXT", help="what the board is for")
    c.add_argument("--kpi-limit", metavar="N", help="most KPIs the board may track (default 7)")
    c.add_argument(
        "--review-days", metavar="N",
        help="flag it on its parent's roll-up when no leader reviewed it for N days (default 7)",
    )  # fmt: skip
    c = command(boards, "list", "list the boards as a tree", cmd_board_list)
    json_flag(c)
    c = command(
        boards, "edit", "rename a board or change its description, parent or KPI limit",
        cmd_board_edit,
    )  # fmt: skip
    c.add_argument("board", metavar="BOARD", help="the board to change")
    c.add_argument("--name", metavar="NAME", help="a new name")
    c.add_argument("--description", metavar="TEXT", help='a new description ("" to clear)')
    c.add_argument("--parent", metavar="BOARD", help='a new parent board ("" for none)')
    c.add_argument("--kpi-limit", metavar="N", help="a new KPI limit")
    c.add_argument(
        "--review-days", metavar="N",
        help="flag the board on its parent's roll-up when no leader reviewed it for N days "
        "(default 7)",
    )  # fmt: skip
