"""`teamboard action add | list | move | done | edit`: the countermeasures, each with an owner,
a due date and a PDCA stage."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date

from store import ops, validate
from store.errors import BadInput
from store.model import Action, Stage
from store.present import escalation_state
from store.snapshot import Snapshot

from . import base
from .base import Ctx, Sub, board_opt, cleared, command, group, json_flag
from .output import Cell, Painter, action_json, cell, one_line, table

CLEAR_DUE = "none"  # `--due none` clears too (`""` is the one way everywhere else)


def action_rows(
    actions: Sequence[Action], snap: Snapshot, today: date, paint: Painter, with_board: bool
) -> list[list[Cell]]:
    """One table row per action: id, stage, owner, due date, overdue, title, KPI (and board)."""
    rows = []
    for a in actions:
        kpi = snap.kpis.get(a.kpi) if a.kpi is not None else None
        row = [
            cell(f"#{a.id}"),
            cell(a.stage.value, paint, "bold" if a.stage is not Stage.DONE else "dim"),
            cell(one_line(a.owner) or "nobody"),
            cell(f"due {a.due.isoformat()}" if a.due else "no due date"),
            cell("OVERDUE", paint, "alarm") if a.overdue(today) else cell(""),
            cell(one_line(a.title)),
            cell(f"→ {one_line(kpi.name)}" if kpi else ""),
            cell(one_line(escalation_state(a, snap.boards, today))),
        ]
        if with_board:
            board = snap.boards.get(a.board)
            row.append(cell(f"[{one_line(board.name)}]" if board else ""))
        rows.append(row)
    return rows


def cmd_action_add(ctx: Ctx) -> int:
    a = ctx.args
    act = ops.add_action(
        ctx.store,
        validate.title(a.title, "action title"),
        board=a.board,
        kpi=a.kpi,
        owner=base.owner(a.owner) or "",
        due=ctx.day(a.due, "--due", future_ok=True) if a.due is not None else None,
    )
    ctx.print(f"#{act.id}")
    return 0


def cmd_action_list(ctx: Ctx) -> int:
    a = ctx.args
    snap = ctx.snapshot()
    board_id = snap.board_named(a.board).id if a.board else None
    acts = snap.actions_of(board_id, open_only=not a.all)
    if a.json:
        ctx.json({"actions": [action_json(x, snap, ctx.today) for x in acts]})
        return 0
    if not acts:
        ctx.print("no open actions" if not a.all else "no actions")
        return 0
    for line in table(action_rows(acts, snap, ctx.today, ctx.paint, board_id is None), ""):
        ctx.print(line)
    return 0


def cmd_action_move(ctx: Ctx) -> int:
    a = ctx.args
    stage = None if a.stage.strip().lower() == "next" else validate.choice(Stage, a.stage, "stage")
    act = ops.move_action(ctx.store, validate.action_id(a.id), stage)
    ctx.print(f"#{act.id} is in {act.stage.value} now")
    return 0


def cmd_action_done(ctx: Ctx) -> int:
    act = ops.move_action(ctx.store, validate.action_id(ctx.args.id), Stage.DONE)
    ctx.print(f"#{act.id} is done")
    return 0


def cmd_action_edit(ctx: Ctx) -> int:
    a = ctx.args
    clear_due = cleared(a.due) or (a.due is not None and a.due.strip().lower() == CLEAR_DUE)
    due = None if a.due is None or clear_due else ctx.day(a.due, "--due", future_ok=True)
    act = ops.edit_action(
        ctx.store,
        validate.action_id(a.id),
        title=validate.title(a.title, "action title") if a.title is not None else None,
        owner=base.owner(a.owner),
        due=due,
        kpi=a.kpi,
        clear_due=clear_due,
    )
    ctx.print(f"updated #{act.id}")
    return 0


def cmd_action_escalate(ctx: Ctx) -> int:
    from store import escalation

    a = ctx.args
    why = validate.text(a.why, "--why")
    if not why:
        raise BadInput("--why must say what the team needs from the board above")
    to = validate.ref(a.to, "--to").strip() if a.to is not None else None
    act = escalation.escalate(ctx.store, validate.action_id(a.id), why, to or None)
    snap = ctx.snapshot()
    where = snap.boards[act.escalation.to].name if act.escalation else "?"
    ctx.print(f"#{act.id} is escalated to {one_line(where)}")
    return 0


def cmd_action_answer(ctx: Ctx) -> int:
    from store import escalation

    a = ctx.args
    note = validate.text(a.note, "--note")
    if not note:
        raise BadInput("--note must say the answer: the team reads it on its board")
    act = escalation.answer(ctx.store, validate.action_id(a.id), note)
    snap = ctx.snapshot()
    origin = snap.boards[act.escalation.origin].name if act.escalation else "?"
    ctx.print(f"answered #{act.id}; {one_line(origin)} sees the answer on its board")
    return 0


def cmd_action_take(ctx: Ctx) -> int:
    from store import escalation

    a = ctx.args
    act = escalation.take(ctx.store, validate.action_id(a.id), base.owner(a.owner) or None)
    snap = ctx.snapshot()
    ctx.print(
        f"#{act.id} is on {one_line(snap.boards[act.board].name)} now, owned by "
        f"{one_line(act.owner) or 'nobody'}"
    )
    return 0


def register(sub: Sub) -> None:
    acts = group(sub, "action", "add, list, move, edit and escalate actions (countermeasures)")
    c = command(acts, "add", "add an action; prints its id", cmd_action_add)
    c.add_argument("title", metavar="TITLE", help="what will be done")
    board_opt(c, "its board (default: the KPI's, else the first top-level board)")
    c.add_argument("--kpi", metavar="KPI", help="the KPI it serves")
    c.add_argument("--owner", metavar="LOGIN", help="who does it")
    c.add_argument("--due", metavar="DATE", help="when it is due (future dates welcome)")
    c = command(acts, "list", "list open actions (every board's, or BOARD's)", cmd_action_list)
    c.add_argument("board", nargs="?", metavar="BOARD", help="only this board's actions")
    c.add_argument("--all", action="store_true", help="include done actions")
    json_flag(c)
    c = command(acts, "move", "move an action to a PDCA stage", cmd_action_move)
    _id_arg(c)
    c.add_argument("stage", metavar="STAGE", help="plan, do, check, act, done, or next")
    c = command(acts, "done", "mark an action done", cmd_action_done)
    _id_arg(c)
    c = command(acts, "edit", "change an action's title, owner, due date or KPI", cmd_action_edit)
    _id_arg(c)
    c.add_argument("--title", metavar="TITLE", help="a new title")
    c.add_argument("--owner", metavar="LOGIN", help='a new owner ("" for nobody)')
    c.add_argument("--due", metavar="DATE", help='a new due date ("" to clear)')
    c.add_argument("--kpi", metavar="KPI", help="the KPI it serves (on the action's board)")
    c = command(acts, "escalate", "raise an action to the board above (or a named one above)",
                cmd_action_escalate)  # fmt: skip
    _id_arg(c)
    c.add_argument("--to", metavar="BOARD", help="a board above (default: the parent board)")
    c.add_argument("--why", metavar="TEXT", required=True, help="what the team needs from it")
    c = command(acts, "answer", "answer an action escalated to your board", cmd_action_answer)
    _id_arg(c)
    c.add_argument("--note", metavar="TEXT", required=True, help="the answer the team will see")
    c = command(acts, "take", "take an escalated action over onto the board it was raised to",
                cmd_action_take)  # fmt: skip
    _id_arg(c)
    c.add_argument("--owner", metavar="LOGIN", help="its new owner (default: you)")


def _id_arg(c: argparse.ArgumentParser) -> None:
    c.add_argument("id", metavar="ID", help="the action's id, 12 or #12")
