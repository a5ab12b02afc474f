"""`teamboard status` (are we winning or losing?) and `teamboard minutes` (what the last huddle
decided): the board and the huddle as text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from store.errors import StoreError
from store.model import Status
from store.present import (
    STATUS_WORD,
    as_of_text,
    benchmark_label,
    flag_texts,
    limit_text,
    review_text,
    status_text,
    trend_text,
    variance_text,
    waiting_text,
    with_unit,
)
from store.rules import Flag, KpiView
from store.scope import Scope

from .actions import action_rows
from .base import Ctx, Sub, as_of_opt, command, json_flag, quote
from .boards import board_tree
from .output import Cell, Painter, action_json, cell, kpi_view_json, one_line, safe, table


def _counts(views: Sequence[KpiView], paint: Painter) -> str:
    order = (Status.GREEN, Status.AMBER, Status.RED, Status.STALE)
    n = {s: sum(1 for v in views if v.status is s) for s in Status}
    parts = [paint(f"{n[s]} {STATUS_WORD[s]}", s) if n[s] else f"0 {STATUS_WORD[s]}" for s in order]
    if n[Status.NO_DATA]:
        parts.append(f"{n[Status.NO_DATA]} no data")
    late = sum(1 for v in views if Flag.LATE in v.flags)
    if late:
        parts.append(f"{late} late")
    return ", ".join(parts)


def kpi_rows(views: Sequence[KpiView], ctx: Ctx) -> list[list[Cell]]:
    """One table row per KPI: status, name, latest value, benchmark, variance, trend, flags."""
    paint = ctx.paint
    rows = []
    for v in views:
        latest = v.latest
        flags = one_line("; ".join(flag_texts(v, ctx.today)))
        rows.append(
            [
                cell(status_text(v.status), paint, v.status),
                cell(one_line(v.kpi.name)),
                cell(one_line(with_unit(latest.value, v.kpi.unit)) if latest else "—"),
                cell(one_line(benchmark_label(v))),
                cell(variance_text(v)),
                cell(trend_text(v.trend)),
                cell(flags, paint, "alarm" if flags and v.status is Status.RED else None),
            ]
        )
    return rows


def one_board(ctx: Ctx, board: str | None) -> Scope | None:
    """What showing one board reads: on a database, that board and those below it (the first
    board, when none is named, found from the boards alone); a file is read whole anyway."""
    if ctx.store.engine == "file":
        return None
    if board is None:
        return Scope.of({ctx.snapshot(Scope.of(())).default_board().id})
    return Scope.of({board})


def cmd_status(ctx: Ctx) -> int:
    a = ctx.args
    snap, today, now, past = ctx.moment(scope=None if a.all else one_board(ctx, a.board))
    if a.all:
        boards = [b for b, _ in board_tree(snap)]
    else:
        boards = [snap.board_named(a.board) if a.board else snap.default_board()]
    from store import tiers

    from .tree import summary_json, summary_lines

    if a.json:
        kpis = []
        actions = []
        for b in boards:
            kpis += [kpi_view_json(v) for v in snap.views(b.id, today, now)]
            actions += [action_json(x, snap, today) for x in snap.actions_of(b.id)]
        ctx.json(
            {
                "today": today.isoformat(),
                "as_of": past.isoformat() if past else None,
                "boards": [b.name for b in boards],
                "kpis": kpis,
                "actions": actions,
                # issue 10: the tiers, per board shown
                "tiers": [
                    {
                        "board": b.name,
                        "summary": summary_json(tiers.summarize(snap, b.id, today, now), today),
                        "escalations_waiting": [
                            action_json(x, snap, today) for x in tiers.escalations_to(snap, b.id)
                        ],
                        "children": [
                            summary_json(c, today) for c in tiers.rollup(snap, b.id, today, now)
                        ],
                    }
                    for b in boards
                ],
            }
        )
        return 0
    paint = ctx.paint
    for i, b in enumerate(boards):
        if i:
            ctx.print()
        views = snap.views(b.id, today, now)
        when = f"{as_of_text(past)} (past, read-only)" if past else today.isoformat()
        ctx.print(
            f"{paint(one_line(b.name), 'bold')} · {when} · "
            f"{len(views)} KPI{'s' if len(views) != 1 else ''}: {_counts(views, paint)}"
        )
        review = one_line(review_text(tiers.last_review(snap, b.id), today))
        if tiers.review_overdue(snap, b.id, today):
            review += paint(f" (review overdue: every {b.review_days} days)", "alarm")
        ctx.print(f"  {review}")
        if len(views) > b.kpi_limit:
            ctx.print(paint(
                f"  ! {limit_text(len(views), b.kpi_limit)}: more KPIs than the board's limit "
                "of the vital few", "alarm"))  # fmt: skip
        waiting = tiers.escalations_to(snap, b.id)
        if waiting:
            ctx.print(f"  escalations waiting for {one_line(b.name)} ({len(waiting)}):")
            for x in waiting:
                ctx.print(f"    #{x.id} {one_line(x.title)} · "
                          f"{one_line(waiting_text(x, snap.boards, today))}")  # fmt: skip
        if views:
            for line in table(kpi_rows(views, ctx)):
                ctx.print(line)
        else:
            ctx.print(
                f"  no KPIs yet: teamboard {ctx.store_flag()}kpi add NAME "
                f"--board {quote(b.name)} --target T"
            )
        acts = snap.actions_of(b.id)
        if acts:
            ctx.print(f"  open actions ({len(acts)}):")
            for line in table(action_rows(acts, snap, today, paint, False), "    "):
                ctx.print(line)
        else:
            ctx.print("  no open actions")
        children = tiers.rollup(snap, b.id, today, now)
        if children and not a.all:
            ctx.print(f"  boards under {one_line(b.name)}:")
            for summary in children:
                for n, line in enumerate(summary_lines(summary, today, paint)):
                    ctx.print(("    " if n == 0 else "      ") + line)
    return 0


def cmd_minutes(ctx: Ctx) -> int:
    from store import huddle
    from store.explain import for_minutes, markdown_lines

    a = ctx.args
    snap, _, _, past = ctx.moment(boards=False)
    board = snap.board_named(a.board) if a.board else None
    day = ctx.day(a.date) if a.date else None
    if past is not None and day is not None and day > past:
        raise StoreError(f"--date {day.isoformat()} is after --as-of {past.isoformat()}")
    found = huddle.pick(snap.huddles, board.id if board else None, day)
    if not found:
        where = f" of {one_line(board.name)}" if board else ""
        when = f" on {day.isoformat()}" if day else ""
        when += f" by {past.isoformat()}" if past else ""
        how = f"teamboard {ctx.store_flag()}huddle" + (f" {quote(board.name)}" if board else "")
        if snap.huddles and (board or day):
            raise StoreError(
                f"no huddle minutes{where}{when}; see the last ones with "
                f"teamboard {ctx.store_flag()}minutes --last"
            )
        raise StoreError(f"no huddle minutes{where} yet: hold a huddle with {how}")
    chosen = found if day else found[-1:]  # --last is the default

    def explained(h: dict[str, Any]) -> list[dict[str, str]]:
        held = date.fromisoformat(str(h.get("date")))
        board_id = h.get("board_id")
        return for_minutes(snap.kpis, snap.explanations, board_id, held)

    if a.format == "json":
        ctx.json({"huddles": [h | {"explanations": explained(h)} for h in chosen]})
    else:
        texts = [
            huddle.markdown(h).rstrip("\n")
            + "\n".join(markdown_lines(explained(h), ctx.today))
            + "\n"
            for h in chosen
        ]
        ctx.print(safe("\n".join(texts)))
    return 0


def register(sub: Sub) -> None:
    c = command(
        sub, "status", "are we winning or losing? KPIs and open actions as text", cmd_status
    )
    c.add_argument(
        "board", nargs="?", metavar="BOARD", help="the board (default: the first top-level one)"
    )
    c.add_argument("--all", action="store_true", help="every board")
    as_of_opt(c)
    json_flag(c)

    c = command(sub, "minutes", "print the minutes of a huddle (the last one by default)",
                cmd_minutes)  # fmt: skip
    when = c.add_mutually_exclusive_group()
    when.add_argument("--last", action="store_true", help="the last huddle (the default)")
    when.add_argument("--date", metavar="DATE", help="every huddle held on DATE")
    c.add_argument("--board", metavar="BOARD", help="only this board's huddles")
    c.add_argument(
        "--format", choices=("md", "json"), default="md", help="md (Markdown, default) or json"
    )
    as_of_opt(c, "only huddles held by the end of DATE (the last of them by default)")
