"""`teamboard tree`, `review`, `reviews` and `health`: the KPI tree across tiers, and the
leaders at the board. Also the roll-up lines `status` prints for each child board."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from store.model import Status
from store.present import STATUS_GLYPH, limit_text, review_text, share_text, status_text
from store.rules import KpiView
from store.snapshot import Snapshot

from .base import Ctx, Sub, as_of_opt, command, json_flag
from .output import Painter, one_line

if TYPE_CHECKING:  # typing only: keep start-up light
    from store.health import Health
    from store.tiers import BoardSummary, GoalView, TreeNode


# --- the roll-up, for `status` and the tree -------------------------------------------------


def _num(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:g}" if x == int(x) else f"{x:.1f}"


def health_json(h: Health) -> dict[str, Any]:
    return {
        "huddles_14d": h.huddles_14d,
        "median_attendance": h.median_attendance,
        "red_action_share": h.red_action_share,
        "red_episodes": h.red_episodes,
        "median_open_action_age_days": h.median_open_age,
        "gate_skips": h.gate_skips,
    }


def health_text(h: Health) -> str:
    """`huddles 9 in 14 d · attendance 5 · reds actioned in a day 2/3 (67%) · open actions 6 d
    · gate skips 1`."""
    return (
        f"huddles {h.huddles_14d} in 14 d · attendance {_num(h.median_attendance)} · "
        f"reds actioned within a day {share_text(h.red_action_share)}"
        f" (of {h.red_episodes}) · open actions {_num(h.median_open_age)} d old · "
        f"gate skips {h.gate_skips}"
    )


def counts_json(c: Any) -> dict[str, int]:
    return {"green": c.green, "amber": c.amber, "red": c.red, "stale": c.stale,
            "no_data": c.no_data}  # fmt: skip


def summary_json(s: BoardSummary, today: date) -> dict[str, Any]:
    r = s.last_review
    return {
        "board": s.board.name,
        "own": counts_json(s.own),
        "below": counts_json(s.below),
        "reds_no_action": s.reds_no_action,
        "overdue_actions": s.overdue_actions,
        "open_escalations": s.open_escalations,
        "escalations_waiting_here": s.escalations_in,
        "last_huddle": s.last_huddle.isoformat() if s.last_huddle else None,
        "last_review": {"who": r.who, "at": r.at, "note": r.note} if r else None,
        "review_overdue": s.review_overdue,
        "review_days": s.board.review_days,
        "kpis": s.kpis,
        "kpi_limit": s.kpi_limit,
        "over_kpi_limit": s.over_limit,
        "losing": s.losing,
        "health": health_json(s.health),
    }


def _counts(c: Any) -> str:
    parts = [f"{STATUS_GLYPH[st]} {n}" for st, n in (
        (Status.GREEN, c.green), (Status.AMBER, c.amber), (Status.RED, c.red),
        (Status.STALE, c.stale)) if n]  # fmt: skip
    return " ".join(parts) or "no KPIs"


def summary_lines(s: BoardSummary, today: date, paint: Painter) -> list[str]:
    """A child board's roll-up as two lines (name and counts; what needs a look)."""
    name = paint(one_line(s.board.name), "bold")
    below = f" · below: {_counts(s.below)}" if s.below.total else ""
    losing = paint("  LOSING", "alarm") if s.losing else ""
    first = f"{name}  {_counts(s.own)}{below}  KPIs {limit_text(s.kpis, s.kpi_limit)}{losing}"
    bits = []
    if s.reds_no_action:
        bits.append(paint(f"{s.reds_no_action} red, no action", "alarm"))
    if s.overdue_actions:
        bits.append(paint(f"{s.overdue_actions} overdue", "alarm"))
    if s.open_escalations:
        bits.append(f"{s.open_escalations} escalated, waiting")
    if s.escalations_in:
        bits.append(
            f"{s.escalations_in} escalation{'s' if s.escalations_in != 1 else ''} to answer"
        )
    bits.append(f"last huddle {s.last_huddle.isoformat()}" if s.last_huddle else "no huddle yet")
    review = one_line(review_text(s.last_review, today))
    bits.append(paint(f"{review} (review overdue)", "alarm") if s.review_overdue else review)
    return [first, " · ".join(bits), health_text(s.health)]


# --- tree -----------------------------------------------------------------------------------


def _kpi_line(v: KpiView, paint: Painter, board: str | None = None) -> str:
    where = f" [{one_line(board)}]" if board else ""
    kind = " (leading)" if v.kpi.kind.value == "leading" else ""
    return f"{paint(status_text(v.status), v.status)}  {one_line(v.kpi.name)}{kind}{where}"


def _goal_notes(g: GoalView, snap: Snapshot) -> list[str]:
    from store.tiers import GOAL_KPI_LIMIT

    out = [
        f"over the limit on {snap.boards[b].name} ({g.per_board[b]}/{GOAL_KPI_LIMIT} KPIs)"
        for b in g.over_limit
    ]
    if g.no_leading:
        out.append("no leading indicator")
    if not g.served and not g.subgoals:
        out.append("no KPI serves it")
    return out


def _tree_lines(
    node: TreeNode, snap: Snapshot, depth: int, ctx: Ctx, today: date | None = None
) -> list[str]:
    paint = ctx.paint
    today = today or ctx.today
    pad = "  " * depth
    s = node.summary
    over = f"  KPIs {limit_text(s.kpis, s.kpi_limit)}" if s.over_limit else ""
    review = f" · {one_line(review_text(s.last_review, today))}"
    flag = paint(" (review overdue)", "alarm") if s.review_overdue else ""
    lines = [f"{pad}{paint(one_line(node.board.name), 'bold')}{over}{review}{flag}"]
    for g in node.goals:
        parent = snap.goals.get(g.goal.parent) if g.goal.parent is not None else None
        serves = f" → serves {one_line(parent.name)}" if parent else ""
        notes = _goal_notes(g, snap)
        warn = paint("  ! " + "; ".join(notes), "alarm") if notes else ""
        lines.append(f"{pad}  ◎ {one_line(g.goal.name)}{serves}{warn}")
        for v in g.kpis:
            other = v.board_name if v.kpi.board != node.board.id else None
            lines.append(f"{pad}      {_kpi_line(v, paint, other)}")
    for v in node.serving_up:
        goal = snap.goals.get(v.kpi.goal_id) if v.kpi.goal_id is not None else None
        up = f"{one_line(goal.name)} ({one_line(snap.boards[goal.board].name)})" if goal else "?"
        lines.append(f"{pad}  ↑ {_kpi_line(v, paint)} → serves {up}")
    if node.ungoaled:
        lines.append(f"{pad}  · no goal")
        for v in node.ungoaled:
            lines.append(f"{pad}      {_kpi_line(v, paint)}")
    for child in node.children:
        lines += _tree_lines(child, snap, depth + 1, ctx, today)
    return lines


def _goal_json(g: GoalView, snap: Snapshot) -> dict[str, Any]:
    return {
        "id": g.goal.id,
        "name": g.goal.name,
        "parent_goal": g.goal.parent,
        "due": g.goal.due.isoformat() if g.goal.due else None,
        "kpis": [
            {
                "name": v.kpi.name,
                "board": v.board_name,
                "status": v.status.value,
                "kind": v.kpi.kind.value,
            }
            for v in g.kpis
        ],
        "over_limit": [snap.boards[b].name for b in g.over_limit],
        "no_leading_indicator": g.no_leading,
    }


def _node_json(node: TreeNode, snap: Snapshot, today: date) -> dict[str, Any]:
    return {
        "board": node.board.name,
        "summary": summary_json(node.summary, today),
        "goals": [_goal_json(g, snap) for g in node.goals],
        "kpis_serving_above": [
            {"name": v.kpi.name, "status": v.status.value, "goal_id": v.kpi.goal_id}
            for v in node.serving_up
        ],
        "kpis_without_goal": [
            {"name": v.kpi.name, "status": v.status.value, "kind": v.kpi.kind.value}
            for v in node.ungoaled
        ],
        "children": [_node_json(c, snap, today) for c in node.children],
    }


def cmd_tree(ctx: Ctx) -> int:
    from store import tiers
    from store.present import as_of_text

    a = ctx.args
    snap, today, now, past = ctx.moment()  # --as-of: the tree as it stood at the end of that day
    board_id = snap.board_named(a.board).id if a.board else None
    nodes = tiers.tree(snap, board_id, today, now)
    if a.json:
        ctx.json({"today": today.isoformat(), "as_of": past.isoformat() if past else None,
                  "tree": [_node_json(n, snap, today) for n in nodes]})  # fmt: skip
        return 0
    if not nodes:
        ctx.print(f"no boards yet: add one with teamboard {ctx.store_flag()}board add NAME")
        return 0
    if past is not None:
        ctx.print(f"{as_of_text(past)} (past, read-only)")
    for n in nodes:
        for line in _tree_lines(n, snap, 0, ctx, today):
            ctx.print(line)
    return 0


# --- reviews --------------------------------------------------------------------------------


def cmd_review(ctx: Ctx) -> int:
    from store import reviews, validate

    a = ctx.args
    note = validate.text(a.note, "--note") if a.note is not None else ""
    r = reviews.add_review(ctx.store, a.board, ctx.today, note)
    snap = ctx.snapshot()
    reds = [snap.kpis[k].name for k in r.reds if k in snap.kpis]
    red_text = f"; red then: {', '.join(one_line(n) for n in reds)}" if reds else "; nothing red"
    ctx.print(f"reviewed {one_line(snap.boards[r.board].name)}{red_text}")
    return 0


def cmd_reviews(ctx: Ctx) -> int:
    from store import reviews
    from store.present import local_stamp

    a = ctx.args
    snap = ctx.snapshot()
    board_id = snap.board_named(a.board).id if a.board else None
    since = ctx.day(a.since, "--since") if a.since is not None else None
    found = reviews.reviews_of(snap, board_id, since)
    if a.json:
        ctx.json({"reviews": [
            {"id": r.id, "board": snap.boards[r.board].name, "who": r.who, "at": r.at,
             "note": r.note, "reds": [snap.kpis[k].name for k in r.reds if k in snap.kpis]}
            for r in found]})  # fmt: skip
        return 0
    if not found:
        how = f"teamboard {ctx.store_flag()}review BOARD --note TEXT"
        ctx.print(f"no reviews{' since ' + since.isoformat() if since else ''} yet: record one "
                  f"with {how}")  # fmt: skip
        return 0
    for r in found:
        reds = ", ".join(one_line(snap.kpis[k].name) for k in r.reds if k in snap.kpis)
        ctx.print(
            f"{local_stamp(r.at)}  {one_line(snap.boards[r.board].name)}  {one_line(r.who)}"
            + (f"  “{one_line(r.note)}”" if r.note else "")
            + (f"  red then: {reds}" if reds else "  nothing red")
        )
    return 0


# --- health ---------------------------------------------------------------------------------


def cmd_health(ctx: Ctx) -> int:
    from store.health import board_health

    from .boards import board_tree

    a = ctx.args
    snap = ctx.snapshot()
    boards = [snap.board_named(a.board)] if a.board else [b for b, _ in board_tree(snap)]
    found = [(b, board_health(snap, b.id, ctx.today)) for b in boards]
    if a.json:
        ctx.json({"today": ctx.today.isoformat(),
                  "boards": [{"board": b.name, **health_json(h)} for b, h in found]})  # fmt: skip
        return 0
    if not found:
        ctx.print(f"no boards yet: add one with teamboard {ctx.store_flag()}board add NAME")
    for b, h in found:
        ctx.print(f"{ctx.paint(one_line(b.name), 'bold')}: {health_text(h)}")
    return 0


def register(sub: Sub) -> None:
    c = command(sub, "tree", "the KPI tree: boards → goals → KPIs with their status", cmd_tree)
    c.add_argument("board", nargs="?", metavar="BOARD", help="from this board down (default: all)")
    as_of_opt(c)
    json_flag(c)
    c = command(sub, "review", "record that you reviewed a board (a leader at the board)",
                cmd_review)  # fmt: skip
    c.add_argument("board", metavar="BOARD", help="the board you looked at")
    c.add_argument("--note", metavar="TEXT", help="what you asked or saw")
    c = command(sub, "reviews", "list leaders' reviews, newest first", cmd_reviews)
    c.add_argument("board", nargs="?", metavar="BOARD", help="only this board's reviews")
    c.add_argument("--since", metavar="DATE", help="only reviews on or after DATE")
    json_flag(c)
    c = command(sub, "health", "board health: huddles, attendance, reds actioned, action age, "
                "gate skips", cmd_health)  # fmt: skip
    c.add_argument("board", nargs="?", metavar="BOARD", help="only this board (default: all)")
    json_flag(c)
