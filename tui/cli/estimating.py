"""`teamboard plan` (an estimate before the work), `teamboard estimates` (who estimates well)
and `teamboard explain` (why a KPI is red and has no action)."""

from __future__ import annotations

from store import validate
from store.errors import BadInput
from store.model import Status
from store.present import STATUS_WORD, short_date, signed, with_unit

from .base import Ctx, Sub, board_opt, command, json_flag, kpi_arg, quote
from .output import cell, one_line, table


def cmd_plan(ctx: Ctx) -> int:
    from store.plans import plan

    a = ctx.args
    value = validate.number(a.value, "estimate")
    day = ctx.day(a.date, "--date", future_ok=True)
    by = validate.owner(a.by) if a.by is not None else ""
    if a.by is not None and not by:
        raise BadInput("--by needs a login: who made the estimate (default: you)")
    x, old = plan(ctx.store, a.kpi, value, day, by, a.board)
    k = ctx.snapshot().kpis[x.kpi]
    line = (
        f"estimate of {one_line(k.name)} for {short_date(x.day, ctx.today)} by {one_line(x.by)}: "
        f"{one_line(with_unit(x.value, k.unit))}"
    )
    if old is not None:
        line += f" (revises {one_line(with_unit(old.value, k.unit))}, kept in history)"
    ctx.print(line)
    return 0


def _bias(pct: float | None) -> str:
    if pct is None:
        return "—"
    word = "over" if pct > 0 else "under" if pct < 0 else "on the mark"
    return f"{signed(round(pct, 1))}% ({word})" if pct else word


def cmd_estimates(ctx: Ctx) -> int:
    from store.plans import report

    a = ctx.args
    snap = ctx.snapshot()
    board = snap.board_named(a.board) if a.board else None
    since = ctx.day(a.since, "--since", future_ok=True) if a.since else None
    stats = report(snap, board.id if board else None, since)
    if a.json:
        ctx.json(
            {
                "board": board.name if board else None,
                "since": since.isoformat() if since else None,
                "estimators": [
                    {
                        "by": s.by,
                        "count": s.count,
                        "compared": s.compared,
                        "mean_bias_pct": s.mean_bias,
                        "gaps": [
                            {
                                "kpi": g.kpi.name,
                                "date": g.day.isoformat(),
                                "estimate": g.estimate,
                                "actual": g.actual,
                                "bias_pct": g.bias,
                            }
                            for g in s.gaps
                        ],
                    }
                    for s in stats
                ],
            }
        )
        return 0
    where = f" on {one_line(board.name)}" if board else ""
    when = f" since {short_date(since, ctx.today)}" if since else ""
    if not stats:
        ctx.print(
            f"no estimates{where}{when} yet: teamboard {ctx.store_flag()}plan KPI VALUE --date DATE"
        )
        return 0
    ctx.print(f"estimates{where}{when} (bias: estimate against the actual, in % of the actual)")
    rows = [
        [
            cell(one_line(s.by) or "?"),
            cell(f"{s.count} estimate{'s' if s.count != 1 else ''}"),
            cell(f"{s.compared} with actuals"),
            cell(f"mean bias {_bias(s.mean_bias)}"),
        ]
        for s in stats
    ]
    for line in table(rows):
        ctx.print(line)
    gaps = sorted(
        (g for s in stats for g in s.gaps if g.bias),
        key=lambda g: -abs(g.bias or 0.0),
    )[:5]
    if gaps:
        ctx.print("largest gaps (talk them over):")
        rows = [
            [
                cell(one_line(g.kpi.name)),
                cell(short_date(g.day, ctx.today)),
                cell(one_line(g.by)),
                cell(f"estimate {one_line(with_unit(g.estimate, g.kpi.unit))}"),
                cell(f"actual {one_line(with_unit(g.actual, g.kpi.unit))}"),
                cell(_bias(g.bias)),
            ]
            for g in gaps
        ]
        for line in table(rows):
            ctx.print(line)
    return 0


def cmd_explain(ctx: Ctx) -> int:
    from store.explain import explain

    a = ctx.args
    text = validate.text(a.text, "explanation")
    until = ctx.day(a.until, "--until", future_ok=True) if a.until is not None else None
    x = explain(ctx.store, a.kpi, text, ctx.today, until, a.board)
    snap = ctx.snapshot()
    k = snap.kpis[x.kpi]
    view = next((v for v in snap.views(k.board, ctx.today, ctx.now) if v.kpi.id == k.id), None)
    if view is not None and view.status is not Status.RED:
        ctx.note(
            f"teamboard: note: {one_line(k.name)} is {STATUS_WORD[view.status]} now; the "
            "explanation counts only while it is red with no action"
        )
    ctx.print(
        f"explained {one_line(k.name)} until {short_date(x.until, ctx.today)}: the huddle's "
        f"red-no-action gate is open until then (after it, add an action: teamboard "
        f"{ctx.store_flag()}action add TITLE --kpi {quote(k.name)})"
    )
    return 0


def register(sub: Sub) -> None:
    c = command(
        sub, "plan", "record an estimate for a period before the work (future periods too)",
        cmd_plan,
    )  # fmt: skip
    kpi_arg(c, "the KPI's name (any case)")
    c.add_argument("value", metavar="VALUE", help="the estimate, e.g. 87")
    c.add_argument(
        "--date", metavar="DATE", required=True, help="the period it is for (future days too)"
    )
    c.add_argument("--by", metavar="LOGIN", help="who made the estimate (default: you)")
    board_opt(c)

    c = command(
        sub, "estimates", "who estimates well: per estimator, the count, mean bias, largest gaps",
        cmd_estimates,
    )  # fmt: skip
    c.add_argument("board", nargs="?", metavar="BOARD", help="only this board's KPIs")
    c.add_argument("--since", metavar="DATE", help="only periods from DATE on")
    json_flag(c)

    c = command(
        sub, "explain", "say why a KPI is red and has no action (opens the huddle's gate)",
        cmd_explain,
    )  # fmt: skip
    kpi_arg(c, "the KPI's name (any case)")
    c.add_argument("text", metavar="TEXT", help="why it is red, and why there is no action")
    c.add_argument(
        "--until",
        metavar="DATE",
        help="the last day it holds (default: the end of the next period)",
    )
    board_opt(c)


__all__ = ["register"]
