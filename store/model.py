"""The domain: plain frozen dataclasses, built from the store's documents.

They never touch the file: `store.db` reads it, `store.snapshot` builds these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum


class Direction(StrEnum):
    UP = "up"  # higher is better
    DOWN = "down"  # lower is better


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Kind(StrEnum):
    LEADING = "leading"
    LAGGING = "lagging"


class Stage(StrEnum):
    PLAN = "plan"
    DO = "do"
    CHECK = "check"
    ACT = "act"
    DONE = "done"

    @property
    def next(self) -> Stage:
        """The stage after this one in the PDCA cycle; `act` leads to `done`."""
        order = list(Stage)
        return order[min(order.index(self) + 1, len(order) - 1)]


class Status(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    STALE = "stale"
    NO_DATA = "no-data"


@dataclass(frozen=True, slots=True)
class Board:
    id: int
    name: str
    description: str = ""
    parent: int | None = None
    kpi_limit: int = 7
    who: str = ""  # who added it, and when (UTC ISO)
    at: str = ""
    review_days: int = 7  # a leader should look at the board at least this often


@dataclass(frozen=True, slots=True)
class Target:
    """A target value in force from `since` on; `since=None` means from the beginning."""

    value: float
    since: date | None = None
    who: str = ""
    at: str = ""


@dataclass(frozen=True, slots=True)
class Kpi:
    id: int
    board: int
    name: str
    targets: tuple[Target, ...]
    direction: Direction = Direction.UP
    unit: str = ""
    amber: float | None = None
    frequency: Frequency = Frequency.DAILY
    owner: str = ""
    goal: str = ""
    kind: Kind = Kind.LAGGING
    counter: int | None = None
    description: str = ""
    archived: bool = False
    who: str = ""
    at: str = ""
    category: str = ""  # an SQCDP letter's word (Safety, ...) or a team's own; "" for none
    goal_id: int | None = None  # the Goal it serves; `goal` above is that goal's name
    due: time | None = None  # when a period's value is due, local time on the next period's day

    def target_on(self, day: date) -> float:
        """The target in force on `day`: the latest one that started on or before it (of two
        set for the same day, the one set later: the list is in order of `since`, then of
        setting)."""
        chosen = self.targets[0].value
        for t in self.targets:
            if t.since is None or t.since <= day:
                chosen = t.value
        return chosen

    @property
    def target(self) -> float:
        """The target in force today (the newest one)."""
        return self.targets[-1].value

    def next_target(self, day: date) -> Target | None:
        """The first target that starts after `day` (and so is not in force yet), if any; of
        two for that day, the one set later."""
        later = [t for t in self.targets if t.since is not None and t.since > day]
        if not later:
            return None
        first = min(t.since for t in later if t.since is not None)
        return [t for t in later if t.since == first][-1]


@dataclass(frozen=True, slots=True)
class Entry:
    """An actual for one period. A later entry for the same KPI and date supersedes it."""

    id: int
    kpi: int
    day: date
    value: float
    plan: float | None = None
    note: str = ""
    who: str = ""
    at: str = ""  # UTC ISO timestamp


@dataclass(frozen=True, slots=True)
class StageChange:
    stage: Stage
    who: str
    at: str
    field: str = "stage"  # or "owner", "due", "title"
    old: str = ""
    new: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    id: int
    title: str
    board: int
    kpi: int | None = None
    owner: str = ""
    due: date | None = None
    stage: Stage = Stage.PLAN
    who: str = ""
    at: str = ""
    history: tuple[StageChange, ...] = field(default_factory=tuple)
    escalation: Escalation | None = None  # raised to a board above, and what came back

    @property
    def open(self) -> bool:
        return self.stage is not Stage.DONE

    @property
    def waiting(self) -> bool:
        """Escalated and not yet answered nor taken over: the board above owes an answer."""
        return self.open and self.escalation is not None and self.escalation.waiting

    def overdue(self, today: date) -> bool:
        return self.open and self.due is not None and self.due < today


@dataclass(frozen=True, slots=True)
class Change:
    """Who changed the store last, and when: shown in the board's header."""

    who: str
    at: str
    what: str


@dataclass(frozen=True, slots=True)
class Revision:
    """One field of a board, KPI or action changed (or the thing added, archived, restored):
    the change log keeps the old and the new value, who and when. Nothing is ever deleted."""

    id: int
    table: str  # "boards", "kpis" or "actions"
    ref: int  # the id of the board, KPI or action
    field: str  # the field, or "created", "archived", "target"
    old: object
    new: object
    what: str
    who: str
    at: str


@dataclass(frozen=True, slots=True)
class Escalation:
    """An action raised from its team's board to a board above (`to`), and the way back.

    `origin` is the board it came from (the action's `board` changes only when the board above
    takes it over). Waiting while neither answered nor taken."""

    to: int  # the board it was raised to (the parent or a named ancestor)
    origin: int  # the board it came from
    why: str
    who: str  # who raised it, and when (UTC ISO)
    at: str
    answer: str = ""  # the board above's answer, who gave it and when
    answered_by: str = ""
    answered_at: str = ""
    taken_by: str = ""  # who on the board above took it over, and when
    taken_at: str = ""

    @property
    def waiting(self) -> bool:
        return not self.answered_at and not self.taken_at


@dataclass(frozen=True, slots=True)
class Goal:
    """A strategic goal on a board. KPIs of that board or of boards under it serve it; a goal
    may serve a goal of a board above (`parent`): plant goal → department goal → team KPIs."""

    id: int
    board: int
    name: str
    parent: int | None = None  # the goal it serves, on a board above (or the same board)
    due: date | None = None
    description: str = ""
    archived: bool = False
    who: str = ""
    at: str = ""


@dataclass(frozen=True, slots=True)
class Estimate:
    """An estimate for one period, made before the work (`teamboard plan`). A later estimate
    for the same KPI and period supersedes it; the old one stays. `by` is the estimator."""

    id: int
    kpi: int
    day: date
    value: float
    by: str = ""
    who: str = ""
    at: str = ""


@dataclass(frozen=True, slots=True)
class Review:
    """A leader looked at the board: who, when, what they asked, which KPIs were red then."""

    id: int
    board: int
    note: str = ""
    reds: tuple[int, ...] = ()  # ids of the board's red KPIs at the time
    who: str = ""
    at: str = ""  # UTC ISO


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a KPI is red and has no action (`teamboard explain`): it satisfies the red-no-action
    gate from `since` to `until` inclusive; then the flag returns."""

    id: int
    kpi: int
    text: str
    since: date
    until: date
    who: str = ""
    at: str = ""

    def active(self, day: date) -> bool:
        return self.since <= day <= self.until
