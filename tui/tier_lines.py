"""What the screens say about the tiers: a child board's roll-up tile, an escalation's row, the
KPI tree's lines. Plain data built from `store.tiers` and worded by `store.present`.

No Textual here: the widgets show these literally (store text stays text), and a test can read
them without an app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from store import present, tiers
from store.health import Health
from store.model import Action, Board, Status
from store.present import STATUS_GLYPH, STATUS_WORD, num, short_date
from store.rules import KpiView
from store.snapshot import Snapshot
from store.tiers import GOAL_KPI_LIMIT, BoardSummary, Counts, GoalView
from widgets.child_tile import ChildCard
from widgets.escalation_table import EscalationLine

WORST_FIRST = (Status.RED, Status.AMBER, Status.STALE, Status.GREEN, Status.NO_DATA)


def counts_of(c: Counts) -> dict[Status, int]:
    return {
        Status.GREEN: c.green,
        Status.AMBER: c.amber,
        Status.RED: c.red,
        Status.STALE: c.stale,
        Status.NO_DATA: c.no_data,
    }


def worst(*counts: Counts) -> Status:
    """The status that colours a tile: the worst of its KPIs (and of the boards under it)."""
    total: dict[Status, int] = {}
    for c in counts:
        for status, n in counts_of(c).items():
            total[status] = total.get(status, 0) + n
    return next((s for s in WORST_FIRST if total.get(s)), Status.NO_DATA)


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def health_text(h: Health) -> str:
    """`health: 8 huddles in 14 d · 4 at a huddle · 60% of reds actioned in a day · …`."""
    parts = [f"{plural(h.huddles_14d, 'huddle')} in 14 d"]
    if h.median_attendance is not None:
        parts.append(f"{num(h.median_attendance)} at a huddle")
    if h.red_action_share is not None:
        parts.append(f"{present.share_text(h.red_action_share)} of reds actioned in a day")
    if h.median_open_age is not None:
        parts.append(f"open actions {num(round(h.median_open_age))} d old")
    if h.gate_skips:
        parts.append(plural(h.gate_skips, "gate skip"))
    return "health: " + " · ".join(parts)


def child_card(s: BoardSummary, today: date, losing: tuple[str, ...] = ()) -> ChildCard:
    """A child board's roll-up tile: what a leader on the board above should ask about first.
    `losing`: the boards under it with a red KPI, so the plant sees which team it is."""
    alerts: list[str] = []
    below = s.below
    if below.red:
        where = f": {', '.join(losing)}" if losing else ""
        alerts.append(f"{STATUS_GLYPH[Status.RED]} {below.red} red below{where}")
    if s.reds_no_action:
        alerts.append(f"⚑ {s.reds_no_action} red, no action")
    if s.overdue_actions:
        alerts.append(f"⚠ {plural(s.overdue_actions, 'overdue action')}")
    if s.open_escalations:
        alerts.append(f"⇡ {plural(s.open_escalations, 'escalation')} waiting for an answer")
    if s.escalations_in:
        alerts.append(f"⇣ {plural(s.escalations_in, 'escalation')} to answer")
    if s.kpis > s.kpi_limit:
        alerts.append(f"⚑ KPIs {present.limit_text(s.kpis, s.kpi_limit)}")
    review = present.review_text(s.last_review, today)
    if s.review_overdue:
        alerts.append(f"⚑ review overdue ({review})")
    huddle = f"last huddle {short_date(s.last_huddle, today)}" if s.last_huddle else "no huddle yet"
    facts = [huddle if s.review_overdue else f"{huddle} · {review}", health_text(s.health)]
    return ChildCard(
        board_id=s.board.id,
        name=s.board.name,
        status=worst(s.own, s.below),
        counts=counts_of(s.own),
        alerts=tuple(alerts),
        facts=tuple(facts),
    )


def rollup_title(parent: str, n: int) -> str:
    return f"Boards under {parent} ({n}) · enter opens one"


# --- escalations --------------------------------------------------------------------------------


def escalation_in(action: Action, boards: Mapping[int, Board], today: date) -> EscalationLine:
    """An escalation waiting at this board (the board above's side)."""
    esc = action.escalation
    assert esc is not None
    return EscalationLine(
        action.id,
        "⇣ to answer",
        action.title,
        present.waiting_text(action, boards, today),
        esc.why,
        True,
    )


def escalation_out(action: Action, boards: Mapping[int, Board], today: date) -> EscalationLine:
    """An action this board raised (the team's side): waiting, answered or taken over."""
    esc = action.escalation
    assert esc is not None
    if esc.waiting:
        state, text = "⇡ waiting", esc.why
    elif esc.taken_at:
        state, text = "⇲ taken over", esc.why
    else:
        state, text = "↩ answered", esc.answer
    where = present.escalation_state(action, boards, today)
    if esc.answered_at and not esc.taken_at:  # the answer has a column of its own
        where = where.split(": ", 1)[0]
    return EscalationLine(action.id, state, action.title, where, text, esc.waiting)


def escalations_title(lines: list[EscalationLine], inbound: int) -> str:
    waiting = sum(1 for e in lines if e.waiting)
    keys = "y answers · o takes over" if inbound else "E escalates an action"
    return f"Escalations ({len(lines)}, {waiting} waiting) · {keys}"


def action_badge(action: Action) -> str:
    """The mark an escalated action carries in the board's action list."""
    esc = action.escalation
    if esc is None:
        return ""
    if esc.waiting:
        return "⇡"
    return "⇲" if esc.taken_at else "↩"


# --- the KPI tree -------------------------------------------------------------------------------


def ordered(c: Counts) -> list[tuple[Status, str]]:
    """`[(RED, "✖ 2 red"), (GREEN, "✔ 3 green")]`: the statuses present, worst first."""
    counts = counts_of(c)
    return [
        (s, f"{STATUS_GLYPH[s]} {counts[s]} {STATUS_WORD[s]}") for s in WORST_FIRST if counts[s]
    ]


def board_tail(s: BoardSummary, today: date) -> str:
    """After a board's name and counts in the tree: the limit, reds below, the review."""
    parts = [f"KPIs {present.limit_text(s.kpis, s.kpi_limit)}"]
    if not s.own.total:
        parts[0] = "no KPIs of its own"
    if s.below.red:
        parts.append(f"{STATUS_GLYPH[Status.RED]} {s.below.red} red below")
    if s.reds_no_action:
        parts.append(f"⚑ {s.reds_no_action} red, no action")
    if s.escalations_in:
        parts.append(f"⇣ {plural(s.escalations_in, 'escalation')} to answer")
    review = present.review_text(s.last_review, today)
    parts.append(f"⚑ review overdue ({review})" if s.review_overdue else review)
    return " · ".join(parts)


def goal_line(
    g: GoalView, boards: Mapping[int, Board], where: str = "", serves: str = ""
) -> str:
    """A goal: its name (and its board, `where`, when shown under another's goal), how many
    KPIs serve it, its flags, and the goal above it serves (`serves`, on another board)."""
    parts = [f"◎ {g.goal.name}" + (f" ({where})" if where else ""), plural(len(g.kpis), "KPI")]
    if g.no_leading:
        parts.append("⚑ no leading indicator")
    for board_id in g.over_limit:
        name = boards[board_id].name if board_id in boards else f"board #{board_id}"
        n = g.per_board.get(board_id, 0)
        parts.append(f"⚑ {name}: {present.limit_text(n, GOAL_KPI_LIMIT)}")
    if not g.kpis and not g.subgoals:
        parts.append("no KPI serves it yet")
    if serves:
        parts.append(f"serves ◎ {serves}")
    return "  ·  ".join(parts)


def kpi_line(v: KpiView, boards: Mapping[int, Board], home: int | None = None) -> str:
    """A KPI: status glyph and word, name, its board when not the goal's, kind."""
    where = ""
    if home is not None and v.kpi.board != home and v.kpi.board in boards:
        where = f" ({boards[v.kpi.board].name})"
    return f"{present.status_text(v.status)}  {v.kpi.name}{where} · {v.kpi.kind.value}"


# --- everything a board shows about its tiers, built once per load ---------------------------


@dataclass(frozen=True)
class TierView:
    """The roll-up tiles, the escalations, the review line and the action badges of a board."""

    cards: tuple[ChildCard, ...]
    rollup_title: str
    escalations: tuple[EscalationLine, ...]
    escalations_title: str
    review: str
    review_overdue: bool
    badges: dict[int, str]


def losing_below(
    snap: Snapshot, board_id: int, today: date, now: datetime | None = None
) -> tuple[str, ...]:
    """The boards under `board_id` (all tiers) with a red KPI, in tree order."""
    return tuple(
        snap.boards[d].name
        for d in tiers.descendants(snap, board_id)
        if any(v.status is Status.RED for v in snap.views(d, today, now))
    )


def tier_view(
    snap: Snapshot, board_id: int, today: date, now: datetime | None = None
) -> TierView:
    boards = snap.boards
    cards = tuple(
        child_card(s, today, losing_below(snap, s.board.id, today, now) if s.below.red else ())
        for s in tiers.rollup(snap, board_id, today, now)
    )
    inbound = [escalation_in(a, boards, today) for a in tiers.escalations_to(snap, board_id)]
    outbound = [escalation_out(a, boards, today) for a in tiers.escalations_from(snap, board_id)]
    lines = inbound + outbound  # what waits for this board's answer first
    badges = {a.id: action_badge(a) for a in snap.actions_of(board_id) if a.escalation}
    return TierView(
        cards=cards,
        rollup_title=rollup_title(boards[board_id].name, len(cards)),
        escalations=tuple(lines),
        escalations_title=escalations_title(lines, len(inbound)) if lines else "",
        review=present.review_text(tiers.last_review(snap, board_id), today),
        review_overdue=tiers.review_overdue(snap, board_id, today),
        badges=badges,
    )
