"""What is recorded against a KPI: `record` (an actual), `note`, `history` and `target`.

`teamboard record` is the command people run most, over SSH: this module imports nothing
beyond what it needs at start-up.
"""

from __future__ import annotations

from store import ops, validate
from store.errors import BadInput
from store.model import Entry, Kpi
from store.present import (
    local_stamp,
    num,
    status_text,
    target_text,
    with_unit,
)
from store.rules import (
    KpiView,
    entry_status,
    last_complete_period,
    series,
    with_estimates,
)
from tui import lean

from . import base
from .base import Ctx, Sub, board_opt, command, json_flag, kpi_arg, quote
from .output import cell, one_line, table


def cmd_target(ctx: Ctx) -> int:
    a = ctx.args
    value = validate.number(a.value, "target")
    since = ctx.day(a.since, "--from", future_ok=True)
    k = ops.set_target(ctx.store, a.kpi, value, since, a.board)
    ctx.print(
        f"target of {one_line(k.name)} is {one_line(with_unit(value, k.unit))} "
        f"from {since.isoformat()} on"
    )
    if a.since is None:
        _warn_past_data(ctx, k, a.value)
    return 0


def _warn_past_data(ctx: Ctx, k: Kpi, value: str) -> None:
    """A target set from today does not judge data that all lies in the past (an imported
    year): say so, and how to apply it to that data."""
    days = [e.day for e in ctx.snapshot().entries.get(k.id, ())]
    if not days or max(days) >= last_complete_period(k.frequency, ctx.today):
        return
    first, last = min(days), max(days)
    board = f" --board {quote(ctx.args.board)}" if ctx.args.board else ""
    ctx.note(
        f"teamboard: note: every value of {one_line(k.name)} is from before today "
        f"({first.isoformat()} to {last.isoformat()}), so this target judges none of them. "
        f"To apply it to that data: teamboard {ctx.store_flag()}target {quote(k.name)} "
        f"{quote(value.strip())} --from {first.isoformat()}{board}"
    )


def record_line(view: KpiView, entry: Entry, superseded: Entry | None, ctx: Ctx) -> str:
    """The KPI's status after a record, in one line (`tui.lean.record_line`, which the lean
    `teamboard record` prints too)."""
    return lean.record_line(view, entry, superseded, ctx.paint, ctx.today)


def cmd_record(ctx: Ctx) -> int:
    a = ctx.args
    value = validate.number(a.value, "value")
    day = ctx.day(a.date)
    plan = base.number(a.plan, "plan")
    note = validate.text(a.note, "note") if a.note is not None else ""
    done = ops.record(
        ctx.store, a.kpi, value, day, ctx.today, a.board, plan=plan, note=note, now=ctx.now
    )
    ctx.print(record_line(done.view, done.entry, done.superseded, ctx))
    return 0


def cmd_note(ctx: Ctx) -> int:
    a = ctx.args
    note = validate.text(a.text, "note")
    if not note:
        raise BadInput("the note is empty: write something")
    e = ops.add_note(ctx.store, a.kpi, note, a.board)
    ctx.print(f"noted on the entry for {e.day.isoformat()}")
    return 0


def cmd_history(ctx: Ctx) -> int:
    a = ctx.args
    snap = ctx.snapshot()
    k = snap.kpi_named(a.kpi, a.board, archived=True)
    entries = sorted(snap.entries.get(k.id, []), key=lambda e: (e.day, e.id))
    kept = {e.id for e in series(k.frequency, entries)}
    # An actual without a plan is judged against the period's estimate (`teamboard plan`).
    entries = list(with_estimates(k, entries, snap.estimates.get(k.id, ())))
    board = snap.boards[k.board].name if k.board in snap.boards else ""
    if a.json:
        ctx.json(
            {
                "board": board,
                "kpi": k.name,
                "unit": k.unit,
                "direction": k.direction.value,
                "frequency": k.frequency.value,
                "archived": k.archived,
                "entries": [
                    {
                        "id": e.id,
                        "date": e.day.isoformat(),
                        "value": e.value,
                        "plan": e.plan,
                        "target": k.target_on(e.day),
                        "status": entry_status(k, e).value,
                        "note": e.note,
                        "who": e.who,
                        "at": e.at,
                        "superseded": e.id not in kept,
                    }
                    for e in entries
                ],
            }
        )
        return 0
    n_sup = len(entries) - len(kept)
    ctx.print(
        f"{one_line(k.name)} · board {one_line(board)} · target "
        f"{one_line(target_text(k, ctx.today))}{' · archived' if k.archived else ''} · "
        f"{len(entries)} entries" + (f", {n_sup} superseded" if n_sup else "")
    )
    if not entries:
        ctx.print(
            f"  nothing recorded yet: teamboard {ctx.store_flag()}record {quote(k.name)} VALUE"
        )
        return 0
    paint = ctx.paint
    rows = []
    for e in entries:
        st = entry_status(k, e)
        sup = e.id not in kept
        rows.append(
            [
                cell(e.day.isoformat()),
                cell(one_line(with_unit(e.value, k.unit))),
                cell(f"plan {num(e.plan)}" if e.plan is not None else ""),
                cell("superseded", paint, "dim") if sup else cell(status_text(st), paint, st),
                cell(one_line(e.who) or "?"),
                cell(one_line(local_stamp(e.at))),
                cell(one_line(e.note)),
            ]
        )
    for line in table(rows):
        ctx.print(line)
    return 0


def register(sub: Sub) -> None:
    c = command(
        sub, "target", "set a KPI's target from a date on (earlier periods keep theirs)",
        cmd_target,
    )  # fmt: skip
    kpi_arg(c)
    c.add_argument("value", metavar="VALUE", help="the new target")
    c.add_argument(
        "--from", dest="since", metavar="DATE", help="the first day it applies (default today)"
    )
    board_opt(c)

    c = command(sub, "record", "record an actual and print the KPI's status", cmd_record)
    kpi_arg(c, "the KPI's name (any case)")
    c.add_argument("value", metavar="VALUE", help="the actual, e.g. 78.5")
    board_opt(c)
    c.add_argument("--date", metavar="DATE", help="the period it is for (default today)")
    c.add_argument(
        "--plan",
        metavar="P",
        help="the planned value for this period (compared instead of the target); to estimate "
        "before the work, future periods too, use `teamboard plan KPI VALUE --date D`",
    )
    c.add_argument("--note", metavar="TEXT", help="what happened, for the huddle")

    c = command(sub, "note", "add a note to a KPI's latest entry", cmd_note)
    kpi_arg(c)
    c.add_argument("text", metavar="TEXT", help="the note")
    board_opt(c)

    c = command(sub, "history", "every entry of a KPI, superseded ones included", cmd_history)
    kpi_arg(c, "the KPI's name (archived ones too)")
    board_opt(c)
    json_flag(c)
