"""The KPI tree across tiers, as pure functions over a `Snapshot` and `today`.

A plant board has department boards under it, a department has team boards. These functions
answer "are we winning?" across the tiers: a board's roll-up summary (what its parent's tile
shows), the tree of boards → goals → KPIs, a goal's view (who serves it, over its limit, no
leading indicator), escalations waiting at a board, and a board's last leader review. No clock
and no file: the command line, the app and the tests get the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from .health import Health, board_health, stamp_day
from .model import Action, Board, Goal, Kind, Review, Status
from .rules import Flag, KpiView
from .snapshot import Snapshot

GOAL_KPI_LIMIT = 2  # at most this many KPIs of one board serve one goal (the vital few)


@dataclass(frozen=True, slots=True)
class Counts:
    green: int = 0
    amber: int = 0
    red: int = 0
    stale: int = 0
    no_data: int = 0

    @property
    def total(self) -> int:
        return self.green + self.amber + self.red + self.stale + self.no_data

    @classmethod
    def of(cls, views: Iterable[KpiView]) -> Counts:
        n = dict.fromkeys(Status, 0)
        for v in views:
            n[v.status] += 1
        return cls(n[Status.GREEN], n[Status.AMBER], n[Status.RED], n[Status.STALE],
                   n[Status.NO_DATA])  # fmt: skip

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.green + other.green,
            self.amber + other.amber,
            self.red + other.red,
            self.stale + other.stale,
            self.no_data + other.no_data,
        )


@dataclass(frozen=True, slots=True)
class BoardSummary:
    """One board's roll-up: what its tile on the parent's board shows."""

    board: Board
    own: Counts  # the board's own KPIs
    below: Counts  # every KPI of every board under it, summed
    reds_no_action: int  # own red KPIs with no open action
    overdue_actions: int  # own open actions past due
    open_escalations: int  # raised by this board, still waiting above
    escalations_in: int  # raised to this board, waiting for its answer
    last_huddle: date | None
    last_review: Review | None
    review_overdue: bool  # not reviewed for board.review_days days (or never)
    kpis: int  # live KPIs on the board
    kpi_limit: int
    losing: bool  # a red KPI on the board or anywhere under it
    health: Health

    @property
    def over_limit(self) -> bool:
        return self.kpis > self.kpi_limit


@dataclass(frozen=True, slots=True)
class GoalView:
    """A goal and the KPIs that serve it (of its board and the boards under it)."""

    goal: Goal
    kpis: tuple[KpiView, ...]
    per_board: dict[int, int]  # board id -> how many of its KPIs serve the goal
    over_limit: tuple[int, ...]  # board ids with more than GOAL_KPI_LIMIT
    no_leading: bool  # served, but only by lagging KPIs
    subgoals: tuple[GoalView, ...]  # goals that serve this one

    @property
    def served(self) -> bool:
        return bool(self.kpis)


@dataclass(frozen=True, slots=True)
class TreeNode:
    board: Board
    goals: tuple[GoalView, ...]  # the board's own goals
    ungoaled: tuple[KpiView, ...]  # the board's KPIs that serve no goal
    children: tuple[TreeNode, ...]
    summary: BoardSummary
    serving_up: tuple[KpiView, ...] = ()  # the board's KPIs that serve a goal of a board above


# --- boards ---------------------------------------------------------------------------------


def descendants(snap: Snapshot, board_id: int) -> list[int]:
    """Every board under `board_id`, all tiers, parents before children."""
    out: list[int] = []
    todo = [board_id]
    while todo:
        kids = sorted(b.id for b in snap.children(todo.pop(0)))
        out += kids
        todo += kids
    return out


def ancestors(snap: Snapshot, board_id: int) -> list[int]:
    """The boards above `board_id`, nearest first."""
    out: list[int] = []
    node = snap.boards[board_id].parent
    while node is not None and node not in out:
        out.append(node)
        node = snap.boards[node].parent
    return out


def last_review(snap: Snapshot, board_id: int) -> Review | None:
    return next((r for r in reversed(snap.reviews) if r.board == board_id), None)


def review_overdue(snap: Snapshot, board_id: int, today: date) -> bool:
    """No leader review for the board's `review_days` days or more (or never)."""
    last = last_review(snap, board_id)
    day = stamp_day(last.at) if last is not None else None
    return day is None or (today - day).days >= snap.boards[board_id].review_days


def last_huddle(snap: Snapshot, board_id: int) -> date | None:
    days = [str(h.get("date")) for h in snap.huddles if h.get("board_id") == board_id]
    return date.fromisoformat(max(days)) if days else None


def escalations_to(snap: Snapshot, board_id: int) -> list[Action]:
    """Open actions escalated to this board and still waiting for it, the oldest first."""
    acts = [
        a
        for a in snap.actions.values()
        if a.waiting and a.escalation is not None and a.escalation.to == board_id
    ]
    return sorted(acts, key=lambda a: (a.escalation.at if a.escalation else "", a.id))


def escalations_from(snap: Snapshot, board_id: int) -> list[Action]:
    """Open actions this board escalated (waiting, answered or taken over), the oldest first."""
    acts = [
        a
        for a in snap.actions.values()
        if a.open and a.escalation is not None and a.escalation.origin == board_id
    ]
    return sorted(acts, key=lambda a: (a.escalation.at if a.escalation else "", a.id))


def board_views(
    snap: Snapshot, today: date, now: datetime | None = None
) -> dict[int, list[KpiView]]:
    """Every live KPI evaluated once, by board, at `now` (lateness and staleness as on the
    board itself; default: the end of `today`): what a roll-up of many boards reads."""
    out: dict[int, list[KpiView]] = {b: [] for b in snap.boards}
    for v in snap.views(None, today, now):
        out.setdefault(v.kpi.board, []).append(v)
    return out


def summarize(
    snap: Snapshot,
    board_id: int,
    today: date,
    now: datetime | None = None,
    views: dict[int, list[KpiView]] | None = None,
) -> BoardSummary:
    """The board's roll-up summary today, at `now` (`views`: `board_views`, when already
    evaluated)."""
    if views is None:
        views = board_views(snap, today, now)
    b = snap.boards[board_id]
    own_views = views.get(board_id, [])
    below = Counts()
    for d in descendants(snap, board_id):
        below = below + Counts.of(views.get(d, ()))
    own = Counts.of(own_views)
    waiting_from = [a for a in escalations_from(snap, board_id) if a.waiting]
    return BoardSummary(
        board=b,
        own=own,
        below=below,
        reds_no_action=sum(1 for v in own_views if Flag.RED_NO_ACTION in v.flags),
        overdue_actions=sum(1 for a in snap.actions_of(board_id) if a.overdue(today)),
        open_escalations=len(waiting_from),
        escalations_in=len(escalations_to(snap, board_id)),
        last_huddle=last_huddle(snap, board_id),
        last_review=last_review(snap, board_id),
        review_overdue=review_overdue(snap, board_id, today),
        kpis=len(own_views),
        kpi_limit=b.kpi_limit,
        losing=own.red > 0 or below.red > 0,
        health=board_health(snap, board_id, today, own_views),
    )


def rollup(
    snap: Snapshot, board_id: int, today: date, now: datetime | None = None
) -> list[BoardSummary]:
    """One summary per direct child board, in the order they were added."""
    kids = sorted(snap.children(board_id), key=_bid)
    if not kids:  # a board with no team below: nothing to evaluate
        return []
    views = board_views(snap, today, now)
    return [summarize(snap, c.id, today, now, views) for c in kids]


def _bid(b: Board) -> int:
    return b.id


# --- goals ----------------------------------------------------------------------------------


def goal_view(
    snap: Snapshot, goal_id: int, today: date, _views: dict[int, KpiView] | None = None
) -> GoalView:
    """The goal, the live KPIs that serve it, the boards over the per-goal limit."""
    views = _views if _views is not None else {v.kpi.id: v for v in snap.views(None, today)}
    return _goal_view(snap, goal_id, views, set())


def _goal_view(snap: Snapshot, goal_id: int, views: dict[int, KpiView], seen: set[int]) -> GoalView:
    seen.add(goal_id)
    g = snap.goals[goal_id]
    serving = tuple(v for v in views.values() if v.kpi.goal_id == goal_id)
    per_board: dict[int, int] = {}
    for v in serving:
        per_board[v.kpi.board] = per_board.get(v.kpi.board, 0) + 1
    subs = tuple(
        _goal_view(snap, s.id, views, seen)
        for s in snap.goals_of(None)
        if s.parent == goal_id and s.id not in seen
    )
    return GoalView(
        goal=g,
        kpis=serving,
        per_board=per_board,
        over_limit=tuple(sorted(b for b, n in per_board.items() if n > GOAL_KPI_LIMIT)),
        no_leading=_no_leading(serving, subs),
        subgoals=subs,
    )


def _no_leading(serving: Sequence[KpiView], subs: Sequence[GoalView]) -> bool:
    """Served (by its KPIs or its subgoals' KPIs), and not one of them is a leading indicator."""
    kinds = [v.kpi.kind for v in serving]
    todo = list(subs)
    while todo:
        g = todo.pop()
        kinds += [v.kpi.kind for v in g.kpis]
        todo += g.subgoals
    return bool(kinds) and Kind.LEADING not in kinds


def goal_views(snap: Snapshot, board_id: int | None, today: date) -> list[GoalView]:
    """The live goals of a board (every board's when None), in the order they were added."""
    views = {v.kpi.id: v for v in snap.views(None, today)}
    return [goal_view(snap, g.id, today, views) for g in snap.goals_of(board_id)]


def serving_count(snap: Snapshot, goal_id: int, board_id: int, but: int | None = None) -> int:
    """How many live KPIs of the board serve the goal (leaving out KPI `but`)."""
    return sum(1 for k in snap.kpis_of(board_id) if k.goal_id == goal_id and k.id != but)


def _goal_of(snap: Snapshot, v: KpiView) -> Goal | None:
    g = snap.goals.get(v.kpi.goal_id) if v.kpi.goal_id is not None else None
    return g if g is not None and not g.archived else None


# --- the tree -------------------------------------------------------------------------------


def tree(
    snap: Snapshot, board_id: int | None, today: date, now: datetime | None = None
) -> list[TreeNode]:
    """Boards → goals → KPIs, from `board_id` down (every top-level board's tree when None)."""
    by_board = board_views(snap, today, now)
    views = {v.kpi.id: v for lst in by_board.values() for v in lst}
    roots: Sequence[Board]
    if board_id is None:
        roots = sorted((b for b in snap.boards.values() if b.parent is None), key=_bid)
    else:
        roots = [snap.boards[board_id]]
    return [_node(snap, b, views, by_board, today, now) for b in roots]


def _node(
    snap: Snapshot,
    b: Board,
    views: dict[int, KpiView],
    by_board: dict[int, list[KpiView]],
    today: date,
    now: datetime | None,
) -> TreeNode:
    own = [v for v in views.values() if v.kpi.board == b.id]
    return TreeNode(
        board=b,
        goals=tuple(goal_view(snap, g.id, today, views) for g in snap.goals_of(b.id)),
        ungoaled=tuple(
            sorted(
                (v for v in own if _goal_of(snap, v) is None),
                key=lambda v: v.kpi.id,
            )
        ),
        children=tuple(
            _node(snap, c, views, by_board, today, now)
            for c in sorted(snap.children(b.id), key=_bid)
        ),
        summary=summarize(snap, b.id, today, now, by_board),
        serving_up=tuple(
            sorted(
                (v for v in own if (g := _goal_of(snap, v)) is not None and g.board != b.id),
                key=lambda v: v.kpi.id,
            )
        ),
    )


__all__ = [
    "GOAL_KPI_LIMIT",
    "BoardSummary",
    "Counts",
    "GoalView",
    "TreeNode",
    "ancestors",
    "board_views",
    "descendants",
    "escalations_from",
    "escalations_to",
    "goal_view",
    "goal_views",
    "last_huddle",
    "last_review",
    "review_overdue",
    "rollup",
    "serving_count",
    "summarize",
    "tree",
]
