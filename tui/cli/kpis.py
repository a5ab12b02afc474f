"""`teamboard kpi add | list | edit | archive`: a board's vital few KPIs and their settings."""

from __future__ import annotations

import argparse
from datetime import time

from store import ops, validate
from store.model import Direction, Frequency, Kind
from store.present import num, target_text, with_unit

from . import base
from .base import CLEAR, Ctx, Sub, board_opt, cleared, command, group, json_flag, kpi_arg, quote
from .output import cell, kpi_json, one_line, table


def cmd_kpi_add(ctx: Ctx) -> int:
    a = ctx.args
    k = ops.add_kpi(
        ctx.store,
        validate.name(a.name, "KPI name"),
        a.board,
        validate.number(a.target, "target"),
        direction=base.choice(Direction, a.direction, "--direction") or Direction.UP,
        unit=base.unit(a.unit) or "",
        amber=base.number(a.amber, "amber"),
        frequency=base.choice(Frequency, a.frequency, "--frequency") or Frequency.DAILY,
        owner=base.owner(a.owner) or "",
        goal=_goal(a.goal) or "",
        kind=base.choice(Kind, a.kind, "--kind") or Kind.LAGGING,
        counter=a.counter,
        description=base.text(a.description, "description") or "",
        force=a.force,
        category=validate.category(a.category) if a.category is not None else "",
        due=_due_time(a.due),
    )
    better = "higher" if k.direction is Direction.UP else "lower"
    ctx.print(
        f"added KPI {one_line(k.name)} (target {one_line(with_unit(k.target, k.unit))}, "
        f"{better} is better, {k.frequency.value}"
        + (f", due {k.due.strftime('%H:%M')})" if k.due else ")")
    )
    return 0


def _due_time(text: str | None) -> time | None:
    value = base.due(text)
    return value if isinstance(value, time) else None


def cmd_kpi_list(ctx: Ctx) -> int:
    a = ctx.args
    snap = ctx.snapshot()
    board_id = snap.board_named(a.board).id if a.board else None
    kpis = sorted(snap.kpis_of(board_id, archived=a.archived), key=lambda k: (k.board, k.id))
    if a.json:
        ctx.json({"kpis": [kpi_json(k, snap, ctx.today) for k in kpis]})
        return 0
    if not kpis:
        ctx.print("no KPIs" + (" (archived ones hidden: add --archived)" if not a.archived else ""))
        return 0
    rows = []
    for k in kpis:
        arrow = "↑" if k.direction is Direction.UP else "↓"
        rows.append(
            [
                cell(one_line(snap.boards[k.board].name) if k.board in snap.boards else "?"),
                cell(one_line(k.name)),
                cell(f"target {one_line(target_text(k, ctx.today))}"),
                cell(f"amber {num(k.amber)}" if k.amber is not None else ""),
                cell(f"{arrow} {k.direction.value}"),
                cell(k.frequency.value),
                cell(k.kind.value),
                cell(one_line(k.owner) or "no owner"),
                cell(f"due {k.due.strftime('%H:%M')}" if k.due else ""),
                cell("archived" if k.archived else ""),
            ]
        )
    for line in table(rows, indent=""):
        ctx.print(line)
    return 0


def cmd_kpi_edit(ctx: Ctx) -> int:
    a = ctx.args
    amber: float | str | None = None
    if a.amber is not None:
        amber = CLEAR if cleared(a.amber) else validate.number(a.amber, "amber")
    k = ops.edit_kpi(
        ctx.store,
        a.kpi,
        a.board,
        name=validate.name(a.name, "KPI name") if a.name is not None else None,
        unit=base.unit(a.unit),
        direction=base.choice(Direction, a.direction, "--direction"),
        amber=amber,
        frequency=base.choice(Frequency, a.frequency, "--frequency"),
        owner=base.owner(a.owner),
        goal=_goal(a.goal),
        kind=base.choice(Kind, a.kind, "--kind"),
        counter=a.counter.strip() if a.counter is not None else None,
        description=base.text(a.description, "description"),
        category=validate.category(a.category) if a.category is not None else None,
        force=a.force,
        due=base.due(a.due),
    )
    ctx.print(f"updated KPI {one_line(k.name)}")
    return 0


def _goal(text: str | None) -> str | None:
    """The goal a KPI serves, by name (`""` clears): checked like a goal's name."""
    if text is None or cleared(text):
        return None if text is None else CLEAR
    return validate.title(text, "goal")


def cmd_kpi_archive(ctx: Ctx) -> int:
    a = ctx.args
    k = ops.archive_kpi(ctx.store, a.kpi, a.board, restore=a.restore)
    if a.restore:
        ctx.print(f"restored KPI {one_line(k.name)}")
    else:
        ctx.print(
            f"archived KPI {one_line(k.name)}; its history is kept "
            f"(undo: teamboard {ctx.store_flag()}kpi archive {quote(k.name)} --restore)"
        )
    return 0


def _kpi_options(c: argparse.ArgumentParser, editing: bool = False) -> None:
    clear = ' ("" to clear)' if editing else ""
    c.add_argument(
        "--direction", metavar="up|down", help="up: higher is better (default); down: lower"
    )
    c.add_argument("--unit", metavar="U", help=f"the unit, e.g. %% or min{clear}")
    c.add_argument(
        "--amber", metavar="A", help=f"amber between A and the target, red beyond{clear}"
    )
    c.add_argument(
        "--frequency",
        metavar="daily|weekly|monthly",
        help="how often it is recorded (default daily)",
    )
    c.add_argument("--owner", metavar="LOGIN", help=f"who looks after it{clear}")
    c.add_argument(
        "--goal",
        metavar="GOAL",
        help=f"the goal it serves, on its board or one above (made on its board if new; at "
        f"most 2 KPIs of a board per goal){clear}",
    )
    c.add_argument(
        "--kind", metavar="leading|lagging", help="leading (predicts) or lagging (results; default)"
    )
    c.add_argument("--counter", metavar="KPI", help=f"its counter-metric on the same board{clear}")
    c.add_argument("--description", metavar="TEXT", help=f"how it is measured{clear}")
    c.add_argument(
        "--category",
        metavar="S|Q|C|D|P|WORD",
        help=f"its SQCDP category for the calendar: Safety, Quality, Cost, Delivery, People, or "
        f"a letter or word of your own{clear}",
    )
    c.add_argument(
        "--due",
        metavar="HH:MM",
        help="when a period's value is due: local time on the day after a daily period, or "
        f"the first day after a weekly or monthly one; late after it, then stale{clear}",
    )


def register(sub: Sub) -> None:
    kpis = group(sub, "kpi", "add, list, edit and archive KPIs")
    c = command(kpis, "add", "add a KPI to a board", cmd_kpi_add)
    c.add_argument("name", metavar="NAME", help="the KPI's name, e.g. OEE")
    c.add_argument("--board", metavar="BOARD", required=True, help="the board to add it to")
    c.add_argument("--target", metavar="T", required=True, help="the target value")
    _kpi_options(c)
    c.add_argument(
        "--force", action="store_true",
        help="add it even beyond the board's KPI limit or the goal's limit of 2 KPIs",
    )  # fmt: skip
    c = command(kpis, "list", "list KPIs (every board's, or BOARD's)", cmd_kpi_list)
    c.add_argument("board", nargs="?", metavar="BOARD", help="only this board's KPIs")
    c.add_argument("--archived", action="store_true", help="include archived KPIs")
    json_flag(c)
    c = command(
        kpis, "edit", "change a KPI's settings (the target has its own command)", cmd_kpi_edit
    )
    kpi_arg(c, "the KPI's name (any case)")
    board_opt(c)
    c.add_argument("--name", metavar="NAME", help="a new name")
    _kpi_options(c, editing=True)
    c.add_argument("--force", action="store_true", help="serve a goal beyond its limit of 2 KPIs")
    c = command(
        kpis, "archive", "archive a KPI (off the board, history kept) or --restore it",
        cmd_kpi_archive,
    )  # fmt: skip
    kpi_arg(c)
    board_opt(c)
    c.add_argument("--restore", action="store_true", help="bring an archived KPI back")
