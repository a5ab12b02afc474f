"""A realistic demo store: a plant, a department and two teams, 90 days of history.

Everything is a function of `today` and `seed`, so a test that freezes today gets the same store
every time. The story, as the board tells it today:

- Operations (the plant): on-time delivery is amber (weekly), complaints are green (monthly),
  near misses were only just added and have no data yet. Its goals are the plant's.
- Assembly (the department, under Operations): its own two KPIs are green, so it looks fine,
  while Line 2 under it is losing. Reviewed yesterday; an escalation from Line 2 waits for it
  (the broken tablet, 2 days) and one it answered (the station 5 fixture).
- Line 3 Assembly (team, under Assembly): all green, but nobody reviewed it for 12 days.
- Line 2 Assembly (team): units per hour are green against a target raised 30 days ago, but its
  counter-metric first-pass yield is red and nobody has opened an action on it (two flags);
  scrap cost is red with an action under way; changeover time is stale since the line-side
  tablet broke; daily output is green against the day's plan (estimate vs actual). Three of
  its KPIs serve the department's "On-time delivery" (one over the limit of 2 per goal), and
  the plant's cost goal is served by scrap cost alone (no leading indicator).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .db import Store, Tx
from .errors import BadInput
from .model import Entry, Frequency, Stage, Status
from .rules import entry_status, next_period_start, period_start
from .snapshot import kpi_from

HISTORY_DAYS = 90
TEAM_BOARD = "Line 2 Assembly"  # where the demo's story is: `teamboard demo` opens it
DEPARTMENT = "Assembly"
OTHER_TEAM = "Line 3 Assembly"


def _at(day: date, hour: int, minute: int) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def _put(tx: Tx, table: str, doc: dict[str, Any], who: str, at: str) -> dict[str, Any]:
    """Insert with our own id, saying who wrote it and when (the story's people and days)."""
    return tx.insert(table, doc, who, at)


@dataclass(frozen=True)
class _Point:
    """One entry to write: the day it is for, when and by whom it was recorded."""

    kpi: str
    day: date
    value: float
    who: str
    at: str
    plan: float | None = None
    note: str = ""


def _periods(frequency: Frequency, today: date) -> list[date]:
    """Starts of the complete periods of the last HISTORY_DAYS days, oldest first."""
    start = period_start(frequency, today - timedelta(days=HISTORY_DAYS))
    out = []
    while next_period_start(frequency, start) <= today:
        out.append(start)
        start = next_period_start(frequency, start)
    return out


def _daily(
    rng: random.Random,
    today: date,
    name: str,
    level: Callable[[int], float],
    noise: float,
    last: tuple[float, float],
    who: tuple[str, ...],
    digits: int = 1,
    stop: int = 1,
) -> list[_Point]:
    """A daily series: `level(days_ago)` plus noise; the newest value drawn from `last`."""
    points = []
    for ago in range(HISTORY_DAYS, stop - 1, -1):
        day = today - timedelta(days=ago)
        value = level(ago) + rng.gauss(0.0, noise)
        if ago == stop:
            value = rng.uniform(*last)
        recorded = day + timedelta(days=1)  # at the next morning's huddle
        at = _at(recorded, 6, rng.randrange(5, 55))
        points.append(_Point(name, day, round(value, digits), rng.choice(who), at))
    return points


def _ramp(ago: int, start: int, end: int, before: float, after: float) -> float:
    """`before` until `start` days ago, then a straight line to `after` at `end` days ago."""
    if ago >= start:
        return before
    if ago <= end:
        return after
    return before + (after - before) * (start - ago) / (start - end)


def _points(rng: random.Random, today: date) -> list[_Point]:
    pts: list[_Point] = []

    # Operations, weekly: drifting from about 96.5% towards the amber band.
    weeks = _periods(Frequency.WEEKLY, today)
    for i, monday in enumerate(weeks):
        friday = monday + timedelta(days=4)
        level = 96.8 - 3.0 * i / max(len(weeks) - 1, 1) + rng.gauss(0.0, 0.6)
        if i == len(weeks) - 1:
            level = rng.uniform(92.8, 94.2)  # amber: below 95, above 92
        at = _at(monday + timedelta(days=7), 8, rng.randrange(0, 30))
        pts.append(_Point("On-time delivery", friday, round(min(level, 100.0), 1), "dara", at))

    # Operations, monthly: complaints coming down after the 8D.
    months = _periods(Frequency.MONTHLY, today)
    counts = [rng.choice((5, 6, 7)), rng.choice((4, 5)), rng.choice((3, 4)), rng.choice((1, 2))]
    for first, count in zip(months, counts[-len(months) :], strict=True):
        last_day = next_period_start(Frequency.MONTHLY, first) - timedelta(days=1)
        at = _at(last_day + timedelta(days=1), 9, rng.randrange(0, 59))
        pts.append(_Point("Customer complaints", last_day, float(count), "ana", at))

    # Line 2: units per hour rising to meet the target raised 30 days ago.
    pts += _daily(
        rng,
        today,
        "Units per hour",
        lambda ago: _ramp(ago, 40, 8, 111.0, 122.0),
        2.2,
        (121.0, 125.0),
        ("ben", "ben", "chen"),
    )
    # ...while first-pass yield slides since a new connector lot arrived 11 days ago.
    pts += _daily(
        rng,
        today,
        "First-pass yield",
        lambda ago: _ramp(ago, 8, 1, 98.5, 94.4),
        0.3,
        (93.8, 94.8),
        ("chen",),
    )
    # Scrap cost: in line until the torque tool drifted, 9 days ago.
    pts += _daily(
        rng,
        today,
        "Scrap cost",
        lambda ago: _ramp(ago, 9, 3, 370.0, 640.0),
        28.0,
        (610.0, 690.0),
        ("dara", "chen"),
        digits=0,
    )
    # Changeover time: slowly improving, then nothing since the tablet broke 4 days ago.
    pts += _daily(
        rng,
        today,
        "Changeover time",
        lambda ago: 31.0 - 4.0 * (HISTORY_DAYS - ago) / HISTORY_DAYS,
        1.6,
        (25.5, 27.5),
        ("ben",),
        digits=0,
        stop=5,
    )
    # Daily output against the day's plan from the schedule.
    for ago in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=ago)
        plan = float(rng.choice((860, 880, 900, 900, 920, 940)))
        value = plan + rng.gauss(4.0, 22.0) if ago > 1 else plan + rng.uniform(6.0, 30.0)
        at = _at(day + timedelta(days=1), 6, rng.randrange(5, 55))
        pts.append(_Point("Daily output", day, round(value), "ben", at, plan=plan))

    return _story(rng, today, pts)


def _story(rng: random.Random, today: date, pts: list[_Point]) -> list[_Point]:
    """The notes behind some numbers, and one value recorded twice (the later one wins)."""

    def note(name: str, ago: int, text: str) -> None:
        day = today - timedelta(days=ago)
        for i, p in enumerate(pts):
            if p.kpi == name and p.day == day:
                pts[i] = _Point(p.kpi, p.day, p.value, p.who, p.at, p.plan, text)
                return

    note("First-pass yield", 8, "First day on the new connector lot (supplier B): 9 reworks.")
    note("First-pass yield", 3, "Rework queue is 40 units; the connector lot is still in use.")
    note("Scrap cost", 8, "Torque tool on station 4 out of calibration: 31 housings scrapped.")
    note("Units per hour", 30, "New target 120 from today (takt study after the line rebalance).")
    note("Changeover time", 5, "Line-side tablet broke during the night shift; IT ticket open.")
    note("Daily output", 60, "Power cut 10:20-11:05; the afternoon shift made up half of it.")

    # Daily output three days ago: the night shift was missing from the first count.
    day = today - timedelta(days=3)
    first = next(p for p in pts if p.kpi == "Daily output" and p.day == day)
    pts.append(
        _Point(
            first.kpi,
            first.day,
            round(first.value + rng.choice((38, 42, 47))),
            "dara",
            _at(day + timedelta(days=1), 10, 12),
            first.plan,
            "Corrected: the night shift's count was missing from the first figure.",
        )
    )
    return pts


# The SQCDP calendar: each KPI's category, and the reasons people write on red days (a note on
# most red days, not all: a calendar also shows the ones nobody explained).
CATEGORIES = {
    "On-time delivery": "Delivery",
    "Customer complaints": "Quality",
    "Near misses reported": "Safety",
    "Units per hour": "Delivery",
    "First-pass yield": "Quality",
    "Scrap cost": "Cost",
    "Changeover time": "Delivery",
    "Daily output": "Delivery",
    # issue 10's tiers: the department's and Line 3's KPIs have their letters too
    "Schedule attainment": "Delivery",
    "Kaizen ideas": "People",
    "Line 3 output": "Delivery",
    "Line 3 yield": "Quality",
}
RED_DAY_REASONS = {
    "First-pass yield": ("Connector lot B: bent pins", "Connector lot B: bent pins",
                         "Rework backlog"),
    "Scrap cost": ("Torque tool out of calibration", "Torque tool out of calibration",
                   "Wrong housing batch"),
    "Daily output": ("Material shortage", "Operator absent", "Material shortage"),
    "Units per hour": ("Operator absent", "Micro-stops at station 2"),
    "Changeover time": ("Setup tools missing", "First-off inspection late", "Setup tools missing"),
}  # fmt: skip


def _red_day_reason(tx: Tx, kpi_id: int, p: _Point) -> str:
    """A reason for a red day's entry (by the board's own rules), on three red days in four."""
    reasons = RED_DAY_REASONS.get(p.kpi, ())
    n = p.day.toordinal()
    if not reasons or n % 4 == 0:
        return ""
    k = kpi_from(tx.doc("kpis", kpi_id))
    if entry_status(k, Entry(0, kpi_id, p.day, p.value, p.plan)) is not Status.RED:
        return ""
    return reasons[n % len(reasons)]


def _kpis(today: date) -> list[dict[str, Any]]:
    """The KPI documents (without ids and boards), in the order they were added."""
    raised = (today - timedelta(days=30)).isoformat()
    return [
        {
            "board": "Operations",
            "name": "On-time delivery",
            "unit": "%",
            "direction": "up",
            "targets": [95.0],
            "amber": 92.0,
            "frequency": "weekly",
            "owner": "dara",
            "kind": "lagging",
            "goal": "Deliver every order on the promised day (2026 goal: 95%)",
            "description": "Orders shipped complete on or before the promised date, per week.",
        },
        {
            "board": "Operations",
            "name": "Customer complaints",
            "unit": "complaints",
            "direction": "down",
            "targets": [3.0],
            "amber": 5.0,
            "frequency": "monthly",
            "owner": "ana",
            "kind": "lagging",
            "goal": "No defect reaches a customer",
            "description": "Complaints logged in the CRM, per calendar month.",
        },
        {
            "board": "Operations",
            "name": "Near misses reported",
            "unit": "reports",
            "direction": "up",
            "targets": [5.0],
            "amber": 3.0,
            "frequency": "weekly",
            "owner": "chen",
            "kind": "leading",
            "goal": "Nobody gets hurt",
            "description": "Near-miss cards handed in per week; more reports, fewer accidents.",
        },
        {
            "board": "Line 2 Assembly",
            "name": "Units per hour",
            "unit": "units/h",
            "direction": "up",
            "targets": [110.0, (120.0, raised)],
            "amber": 104.0,
            "frequency": "daily",
            "owner": "ben",
            "kind": "leading",
            "goal": "On-time delivery",
            "counter": "First-pass yield",
            "description": "Good and bad units off the end of the line per running hour.",
        },
        {
            "board": "Line 2 Assembly",
            "name": "First-pass yield",
            "unit": "%",
            "direction": "up",
            "targets": [98.0],
            "amber": 96.5,
            "frequency": "daily",
            "owner": "chen",
            "kind": "leading",
            "goal": "Customer complaints",
            "description": "Units passing the end-of-line test the first time, no rework.",
        },
        {
            "board": "Line 2 Assembly",
            "name": "Scrap cost",
            "unit": "EUR",
            "direction": "down",
            "targets": [400.0],
            "amber": 550.0,
            "frequency": "daily",
            "owner": "dara",
            "kind": "lagging",
            "goal": "Cost per unit down 4% in 2026",
            "description": "Material scrapped per day at standard cost.",
        },
        {
            "board": "Line 2 Assembly",
            "name": "Changeover time",
            "unit": "min",
            "direction": "down",
            "targets": [25.0],
            "amber": 30.0,
            "frequency": "daily",
            "owner": "ben",
            "kind": "leading",
            "goal": "On-time delivery",
            "description": "Average minutes from last good part to first good part.",
        },
        {
            "board": "Line 2 Assembly",
            "name": "Daily output",
            "unit": "units",
            "direction": "up",
            "targets": [900.0],
            "amber": 860.0,
            "frequency": "daily",
            "owner": "ben",
            "kind": "lagging",
            "goal": "On-time delivery",
            "description": "Good units shipped to the warehouse, against the day's schedule.",
        },
    ]


def _actions(today: date) -> list[dict[str, Any]]:
    """Actions: (title, board, kpi, owner, due in days from today, stages with days ago)."""
    return [
        {
            "title": "Recalibrate the torque tool on station 4 and add a daily check",
            "board": "Line 2 Assembly",
            "kpi": "Scrap cost",
            "owner": "dara",
            "due": 3,
            "moves": [("plan", 8, "dara"), ("do", 6, "dara")],
        },
        {
            "title": "Daily expedite call with the carrier for late orders",
            "board": "Operations",
            "kpi": "On-time delivery",
            "owner": "ana",
            "due": -2,
            "moves": [("plan", 20, "dara"), ("do", 16, "ana"), ("check", 5, "ana")],
            "reassign": ("dara", "ana", 18),
        },
        {
            "title": "SMED workshop: pre-heat the dies outside the changeover",
            "board": "Line 2 Assembly",
            "kpi": "Changeover time",
            "owner": "ben",
            "due": 10,
            "moves": [
                ("plan", 60, "ben"),
                ("do", 45, "ben"),
                ("check", 20, "chen"),
                ("act", 7, "ben"),
            ],
        },
        {
            "title": "Replace the broken line-side tablet",
            "board": "Line 2 Assembly",
            "kpi": "Changeover time",
            "owner": "ben",
            "due": -1,
            "moves": [("plan", 3, "ben")],
        },
        {
            "title": "Balance stations 3 and 5 after the takt study",
            "board": "Line 2 Assembly",
            "kpi": "Units per hour",
            "owner": "chen",
            "due": 14,
            "moves": [("plan", 2, "ben")],
        },
        {
            "title": "8D on the cracked housing complaint",
            "board": "Operations",
            "kpi": "Customer complaints",
            "owner": "ana",
            "due": -50,
            "moves": [
                ("plan", 85, "ana"),
                ("do", 80, "ana"),
                ("check", 62, "ana"),
                ("act", 55, "chen"),
                ("done", 48, "ana"),
            ],
        },
        {
            "title": "Poka-yoke for connector orientation at station 5",
            "board": "Line 2 Assembly",
            "kpi": "First-pass yield",
            "owner": "chen",
            "due": -35,
            "moves": [
                ("plan", 70, "chen"),
                ("do", 60, "chen"),
                ("check", 45, "chen"),
                ("act", 41, "ben"),
                ("done", 38, "chen"),
            ],
        },
        {
            "title": "Monthly complaint review with sales",
            "board": "Operations",
            "kpi": None,
            "owner": "ana",
            "due": -6,
            "moves": [("plan", 25, "ana"), ("do", 12, "ana")],
        },
    ]


# --- the tiers (issue 10): drawn after the first two boards' story, so that stays the same ---


def _tier_points(rng: random.Random, today: date) -> list[_Point]:
    """The department's and Line 3's history: green, with a little noise."""
    pts: list[_Point] = []
    for monday in _periods(Frequency.WEEKLY, today):
        at = _at(monday + timedelta(days=7), 8, rng.randrange(30, 59))
        friday = monday + timedelta(days=4)
        pts.append(_Point("Schedule attainment", friday, round(rng.uniform(96.2, 99.4), 1),
                          "ana", at))  # fmt: skip
        pts.append(_Point("Kaizen ideas", friday, float(rng.randrange(6, 11)), "ana", at))
    pts += _daily(rng, today, "Line 3 output", lambda ago: 655.0, 9.0, (660.0, 672.0),
                  ("emil",), digits=0)  # fmt: skip
    pts += _daily(rng, today, "Line 3 yield", lambda ago: 98.9, 0.25, (98.7, 99.3),
                  ("emil", "fay"))  # fmt: skip
    return pts


def _tier_kpis() -> list[dict[str, Any]]:
    return [
        {
            "board": DEPARTMENT,
            "name": "Schedule attainment",
            "unit": "%",
            "direction": "up",
            "targets": [95.0],
            "amber": 92.0,
            "frequency": "weekly",
            "owner": "ana",
            "kind": "lagging",
            "goal": "On-time delivery",
            "description": "Orders assembled on the scheduled day, per week, for both lines.",
        },
        {
            "board": DEPARTMENT,
            "name": "Kaizen ideas",
            "unit": "ideas",
            "direction": "up",
            "targets": [5.0],
            "amber": 3.0,
            "frequency": "weekly",
            "owner": "ana",
            "kind": "leading",
            "goal": "Customer complaints",
            "description": "Improvement ideas handed in per week in the department.",
        },
        {
            "board": OTHER_TEAM,
            "name": "Line 3 output",
            "unit": "units",
            "direction": "up",
            "targets": [640.0],
            "amber": 610.0,
            "frequency": "daily",
            "owner": "emil",
            "kind": "lagging",
            "goal": "On-time delivery",
            "description": "Good units of the X100 covers shipped to the warehouse per day.",
        },
        {
            "board": OTHER_TEAM,
            "name": "Line 3 yield",
            "unit": "%",
            "direction": "up",
            "targets": [98.0],
            "amber": 96.5,
            "frequency": "daily",
            "owner": "fay",
            "kind": "leading",
            "goal": "Customer complaints",
            "description": "Covers passing the end-of-line test the first time.",
        },
    ]


# Goals: (board, name, parent goal's (board, name), description). The KPIs' goal texts name
# these; a team KPI's text finds the nearest goal of that name on its board or above.
_GOALS: list[tuple[str, str, tuple[str, str] | None, str]] = [
    ("Operations", "Deliver every order on the promised day (2026 goal: 95%)", None,
     "The plant's promise to its customers."),
    ("Operations", "No defect reaches a customer", None, "Zero escapes, measured by complaints."),
    ("Operations", "Nobody gets hurt", None, "Safety first: report every near miss."),
    ("Operations", "Cost per unit down 4% in 2026", None, "Against the 2025 standard cost."),
    (DEPARTMENT, "On-time delivery", ("Operations",
     "Deliver every order on the promised day (2026 goal: 95%)"), "Both lines on schedule."),
    (DEPARTMENT, "Customer complaints", ("Operations", "No defect reaches a customer"),
     "Quality at the source in assembly."),
]  # fmt: skip


def _tiers(tx: Tx, today: date, boards: dict[str, int], kpi_ids: dict[str, int]) -> None:
    """The goals, the KPIs' links to them, the leaders' reviews and the escalations."""
    goal_ids: dict[tuple[str, str], int] = {}
    for board, name, parent, description in _GOALS:
        doc = {
            "board": boards[board], "name": name,
            "parent": goal_ids[parent] if parent else None,
            "due": f"{today.year}-12-31", "description": description, "archived": False,
        }  # fmt: skip
        when = _at(today - timedelta(days=100), 8, 30)
        goal_ids[(board, name)] = _put(tx, "goals", doc, "ana", when)["id"]
    parents = {b: tx.doc("boards", i).get("parent") for b, i in boards.items()}
    by_id = {i: b for b, i in boards.items()}
    for spec in [*_kpis(today), *_tier_kpis()]:
        on: str | None = spec["board"]
        while on is not None and (on, spec["goal"]) not in goal_ids:
            up = parents[on]
            on = by_id[up] if up is not None else None
        if on is None:  # the goal is the board's own: the team's own words
            goal = _put(tx, "goals", {"board": boards[spec["board"]], "name": spec["goal"],
                                      "parent": None, "due": None, "description": "",
                                      "archived": False}, spec["owner"],
                        _at(today - timedelta(days=100), 9, 0))  # fmt: skip
            goal_ids[(spec["board"], spec["goal"])] = goal["id"]
            on = spec["board"]
        tx.update("kpis", kpi_ids[spec["name"]], {"goal_id": goal_ids[(on, spec["goal"])]})

    reviews = [  # (board, who, days ago, note)
        ("Operations", "ana", 4, "Why is on-time delivery drifting? Asked for the carrier data."),
        (DEPARTMENT, "ana", 1, "Line 2's yield: what does supplier B say?"),
        (TEAM_BOARD, "dara", 3, "Scrap is up: is the torque check daily now?"),
        (OTHER_TEAM, "dara", 12, "All green; keep the yield check going."),
    ]
    snap = tx.snapshot
    for board, who, ago, note in reviews:
        day = today - timedelta(days=ago)
        reds = [v.kpi.id for v in snap.views(boards[board], day) if v.status.value == "red"]
        _put(tx, "reviews", {"board": boards[board], "note": note, "reds": reds}, who,
             _at(day, 9, 40))  # fmt: skip

    def escalate(title: str, ago: int, why: str, answer: tuple[str, int, str] | None) -> None:
        a = next(x for x in tx.snapshot.actions.values() if x.title == title)
        at = _at(today - timedelta(days=ago), 14, 5)
        esc: dict[str, Any] = {"to": boards[DEPARTMENT], "origin": a.board, "why": why,
                               "who": "ben", "at": at}  # fmt: skip
        doc = tx.doc("actions", a.id)
        raised = {"field": "escalated", "old": "", "new": f"to {DEPARTMENT}: {why}",
                  "stage": a.stage.value, "who": "ben", "at": at}  # fmt: skip
        history = [*doc["history"], raised]
        if answer is not None:
            who, days, note = answer
            when = _at(today - timedelta(days=days), 11, 20)
            esc |= {"answer": note, "answered_by": who, "answered_at": when}
            history.append({"field": "answered", "old": "", "new": note,
                            "stage": a.stage.value, "who": who, "at": when})  # fmt: skip
        tx.update("actions", a.id, {"escalation": esc, "history": history})

    escalate("Replace the broken line-side tablet", 2,
             "IT has not touched the ticket in three days; we need the department to push it.",
             None)  # fmt: skip
    escalate("Balance stations 3 and 5 after the takt study", 2,
             "Moving station 5's fixture needs maintenance time on a Saturday.",
             ("ana", 1, "Approved: maintenance moves the fixture on Saturday, 06:00-10:00."))


def build(store: Store, today: date, seed: int = 7) -> None:
    """Write the demo into `store` (created when missing) in one transaction.

    Refuses a store that has boards already: the demo belongs in a store of its own.
    """
    rng = random.Random(seed)
    created = today - timedelta(days=HISTORY_DAYS + 14)
    with store.transaction(create=True) as tx:
        if tx.snapshot.boards:
            raise BadInput(
                f"{store.path} has boards already: build the demo into a new store "
                "(e.g. --store /tmp/demo.json)"
            )
        ops = _put(
            tx,
            "boards",
            {
                "name": "Operations",
                "parent": None,
                "kpi_limit": 7,
                "description": "Plant operations: delivery, quality and safety, reviewed weekly.",
            },
            "ana",
            _at(created, 8, 0),
        )
        line = _put(
            tx,
            "boards",
            {
                "name": "Line 2 Assembly",
                "parent": ops["id"],
                "kpi_limit": 6,
                "description": "Final assembly of the X200 housings; daily huddle at 06:45.",
            },
            "ben",
            _at(created, 8, 20),
        )
        dept = _put(
            tx,
            "boards",
            {
                "name": DEPARTMENT,
                "parent": ops["id"],
                "kpi_limit": 5,
                "description": "Both assembly lines; weekly review with the plant manager.",
            },
            "ana",
            _at(created, 8, 10),
        )
        line3 = _put(
            tx,
            "boards",
            {
                "name": OTHER_TEAM,
                "parent": dept["id"],
                "kpi_limit": 5,
                "description": "Assembly of the X100 covers; huddle at 07:00.",
            },
            "emil",
            _at(created, 8, 30),
        )
        tx.update("boards", line["id"], {"parent": dept["id"]})
        boards = {"Operations": ops["id"], "Line 2 Assembly": line["id"], DEPARTMENT: dept["id"],
                  OTHER_TEAM: line3["id"]}  # fmt: skip

        kpi_ids: dict[str, int] = {}
        counters: list[tuple[int, str]] = []
        for n, spec in enumerate([*_kpis(today), *_tier_kpis()]):
            added = (
                created + timedelta(days=1)
                if spec["name"] != "Near misses reported"
                else (today - timedelta(days=5))
            )
            at = _at(added, 9, n)
            targets: list[dict[str, Any]] = []
            for t in spec["targets"]:
                if isinstance(t, tuple):
                    value, since = t
                    t_at = _at(date.fromisoformat(since), 7, 30)
                    targets.append(
                        {"value": value, "from": since, "who": spec["owner"], "at": t_at}
                    )
                else:
                    targets.append({"value": t, "who": spec["owner"], "at": at})
            counter = spec.get("counter")
            doc = {
                **{k: v for k, v in spec.items() if k not in ("targets", "counter")},
                "board": boards[spec["board"]],
                "targets": targets,
                "counter": None,
                "archived": False,
            }
            if spec["name"] in CATEGORIES:
                doc["category"] = CATEGORIES[spec["name"]]
            kpi_ids[spec["name"]] = _put(tx, "kpis", doc, spec["owner"], at)["id"]
            if counter is not None:
                counters.append((kpi_ids[spec["name"]], counter))
        # A counter-metric may be added after the KPI it guards: link them once both exist.
        for kpi_id, counter in counters:
            tx.update("kpis", kpi_id, {"counter": kpi_ids[counter]})

        # Entries in the order they were recorded, so ids follow time (a later id wins a tie).
        points = _points(rng, today)
        points += _tier_points(rng, today)
        for p in sorted(points, key=lambda p: (p.at, p.kpi)):
            doc = {"kpi": kpi_ids[p.kpi], "date": p.day.isoformat(), "value": p.value}
            if p.plan is not None:
                doc["plan"] = p.plan
            if p.note:
                doc["note"] = p.note
            elif reason := _red_day_reason(tx, kpi_ids[p.kpi], p):
                doc["note"] = reason
            _put(tx, "entries", doc, p.who, p.at)

        for a in _actions(today):
            moves: list[tuple[str, int, str]] = a["moves"]
            history: list[dict[str, Any]] = []
            stage = Stage.PLAN.value
            for new, ago, who in moves:
                h: dict[str, Any] = {
                    "field": "stage",
                    "new": new,
                    "stage": new,
                    "who": who,
                    "at": _at(today - timedelta(days=ago), 10, 15),
                }
                if history:
                    h["old"] = stage
                history.append(h)
                stage = new
            if "reassign" in a:
                old, new_owner, ago = a["reassign"]
                history.append(
                    {
                        "field": "owner",
                        "old": old,
                        "new": new_owner,
                        "stage": "plan",
                        "who": "dara",
                        "at": _at(today - timedelta(days=ago), 11, 0),
                    }
                )
                history.sort(key=lambda h: h["at"])
            first_who, first_at = history[0]["who"], history[0]["at"]
            _put(
                tx,
                "actions",
                {
                    "title": a["title"],
                    "board": boards[a["board"]],
                    "kpi": kpi_ids[a["kpi"]] if a["kpi"] else None,
                    "owner": a["owner"],
                    "due": (today + timedelta(days=a["due"])).isoformat(),
                    "stage": stage,
                    "history": history,
                },
                first_who,
                first_at,
            )

        _tiers(tx, today, boards, kpi_ids)
        tx.touch("built the demo board")


__all__ = ["build"]
