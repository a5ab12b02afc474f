"""`teamboard goal add | list | edit | archive`: strategic goals on boards, served by KPIs of
the board and the boards under it (the KPI tree); at most 2 KPIs of a board per goal."""

from __future__ import annotations

import argparse
from datetime import date

from store import validate
from store.model import Goal
from store.snapshot import Snapshot

from . import base
from .base import Ctx, Sub, board_opt, cleared, command, group, json_flag, quote
from .output import cell, one_line, table

NO_DUE = "none"


def goal_name(text: str) -> str:
    return validate.title(text, "goal name")


def _due(ctx: Ctx, text: str | None) -> tuple[date | None, bool]:
    """(the due date or None, whether to clear it)."""
    if text is None:
        return None, False
    if cleared(text) or text.strip().lower() == NO_DUE:
        return None, True
    return ctx.day(text, "--due", future_ok=True), False


def goal_json(g: Goal, snap: Snapshot, today: date) -> dict[str, object]:
    from store import tiers

    view = tiers.goal_view(snap, g.id, today)
    parent = snap.goals.get(g.parent) if g.parent is not None else None
    return {
        "id": g.id,
        "name": g.name,
        "board": snap.boards[g.board].name,
        "parent_goal": parent.name if parent else None,
        "parent_goal_board": snap.boards[parent.board].name if parent else None,
        "due": g.due.isoformat() if g.due else None,
        "description": g.description,
        "archived": g.archived,
        "kpis": [
            {
                "name": v.kpi.name,
                "board": v.board_name,
                "kind": v.kpi.kind.value,
                "status": v.status.value,
            }
            for v in view.kpis
        ],
        "per_board": {snap.boards[b].name: n for b, n in view.per_board.items()},
        "over_limit": [snap.boards[b].name for b in view.over_limit],
        "no_leading_indicator": view.no_leading,
        "who": g.who,
        "at": g.at,
    }


def goal_flags(snap: Snapshot, g: Goal, today: date) -> list[str]:
    """`over the limit on Line 2 (3/2)`, `no leading indicator`, `no KPI serves it`."""
    from store import tiers

    view = tiers.goal_view(snap, g.id, today)
    out = [
        f"over the limit on {snap.boards[b].name} ({view.per_board[b]}/{tiers.GOAL_KPI_LIMIT} KPIs)"
        for b in view.over_limit
    ]
    if view.no_leading:
        out.append("no leading indicator")
    if not view.served:
        out.append("no KPI serves it")
    return out


def cmd_goal_add(ctx: Ctx) -> int:
    from store import goals

    a = ctx.args
    due, _ = _due(ctx, a.due)
    g = goals.add_goal(
        ctx.store,
        goal_name(a.name),
        a.board,
        parent=goal_name(a.parent_goal) if a.parent_goal else None,
        due=due,
        description=base.text(a.description, "description") or "",
    )
    ctx.print(f"added goal {one_line(g.name)} to {one_line(a.board)} (#{g.id})")
    return 0


def cmd_goal_list(ctx: Ctx) -> int:
    a = ctx.args
    snap = ctx.snapshot()
    board_id = snap.board_named(a.board).id if a.board else None
    goals = snap.goals_of(board_id, archived=a.archived)
    if a.json:
        ctx.json({"goals": [goal_json(g, snap, ctx.today) for g in goals]})
        return 0
    if not goals:
        how = f"teamboard {ctx.store_flag()}goal add NAME --board BOARD"
        ctx.print(f"no goals yet: add one with {how}")
        return 0
    rows = []
    for g in goals:
        parent = snap.goals.get(g.parent) if g.parent is not None else None
        n = sum(1 for k in snap.kpis_of(None) if k.goal_id == g.id)
        flags = "; ".join(goal_flags(snap, g, ctx.today))
        rows.append(
            [
                cell(f"#{g.id}"),
                cell(one_line(snap.boards[g.board].name)),
                cell(one_line(g.name)),
                cell(f"serves {one_line(parent.name)}" if parent else ""),
                cell(f"due {g.due.isoformat()}" if g.due else ""),
                cell(f"{n} KPI{'s' if n != 1 else ''}"),
                cell(flags, ctx.paint, "alarm" if flags else None),
                cell("archived" if g.archived else ""),
            ]
        )
    for line in table(rows, indent=""):
        ctx.print(line)
    return 0


def cmd_goal_edit(ctx: Ctx) -> int:
    from store import goals

    a = ctx.args
    due, clear_due = _due(ctx, a.due)
    parent = None
    if a.parent_goal is not None:
        parent = "" if cleared(a.parent_goal) else goal_name(a.parent_goal)
    g = goals.edit_goal(
        ctx.store,
        validate.ref(a.goal, "goal name"),
        a.board,
        name=goal_name(a.name) if a.name is not None else None,
        parent=parent,
        due=due,
        clear_due=clear_due,
        description=base.text(a.description, "description"),
    )
    ctx.print(f"updated goal {one_line(g.name)}")
    return 0


def cmd_goal_archive(ctx: Ctx) -> int:
    from store import goals

    a = ctx.args
    g = goals.archive_goal(ctx.store, validate.ref(a.goal, "goal name"), a.board, a.restore)
    if a.restore:
        ctx.print(f"restored goal {one_line(g.name)}")
    else:
        ctx.print(
            f"archived goal {one_line(g.name)}; the KPIs that served it serve no goal now "
            f"(undo: teamboard {ctx.store_flag()}goal archive {quote(g.name)} --restore)"
        )
    return 0


def _goal_arg(c: argparse.ArgumentParser) -> None:
    c.add_argument("goal", metavar="GOAL", help="the goal's name (any case)")
    board_opt(c, "the goal's board, when its name is on several boards")


def register(sub: Sub) -> None:
    goals = group(sub, "goal", "add, list, edit and archive goals (what the KPIs serve)")
    c = command(goals, "add", "add a goal to a board", cmd_goal_add)
    c.add_argument("name", metavar="NAME", help="the goal, e.g. 'On-time delivery 95%%'")
    c.add_argument("--board", metavar="BOARD", required=True, help="the board it belongs to")
    c.add_argument(
        "--parent-goal", metavar="GOAL", help="the goal it serves, on this board or one above"
    )
    c.add_argument("--due", metavar="DATE", help="when it should be reached")
    c.add_argument("--description", metavar="TEXT", help="what it means")
    c = command(goals, "list", "list goals (every board's, or BOARD's) and their KPIs",
                cmd_goal_list)  # fmt: skip
    c.add_argument("board", nargs="?", metavar="BOARD", help="only this board's goals")
    c.add_argument("--archived", action="store_true", help="include archived goals")
    json_flag(c)
    c = command(goals, "edit", "rename a goal or change its parent goal, due date or "
                "description", cmd_goal_edit)  # fmt: skip
    _goal_arg(c)
    c.add_argument("--name", metavar="NAME", help="a new name")
    c.add_argument("--parent-goal", metavar="GOAL", help='the goal it serves ("" for none)')
    c.add_argument("--due", metavar="DATE", help='a new due date ("" to clear)')
    c.add_argument("--description", metavar="TEXT", help='a new description ("" to clear)')
    c = command(goals, "archive", "archive a goal (off the tree, history kept) or --restore it",
                cmd_goal_archive)  # fmt: skip
    _goal_arg(c)
    c.add_argument("--restore", action="store_true", help="bring an archived goal back")
