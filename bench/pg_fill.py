"""Fill a PostgreSQL teamboard store with an organisation, fast: the boards in tiers, 8 KPIs each
with a target, one entry per KPI and day, and some actions, written by SQL (generate_series on
the server for the entries), not one record at a time.

Used by bench/bench_pg.py and tests/pg/test_bench_pg.py (which checks teamboard reads it). The
store must exist (`teamboard --store URL init`); the connection must be a superuser's: the fill
turns triggers off for its transaction (`session_replication_role = replica`: no notify, no who
trigger, no deferred key checks) and sets who and when itself, as a migration would.

Tiers (ids in this order): 1 company, then plants, departments and teams. At 1,000 boards:
1 company → 5 plants → 50 departments → 944 teams; a team's department is `team % departments`,
so department 1 has the most teams (19 at 1,000 boards): with it, a 20-board roll-up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

KPI_NAMES = ("Safety", "Quality", "Delivery", "Cost", "Output", "Scrap", "OEE", "Absence")
DOWN = {"Safety", "Cost", "Scrap", "Absence"}  # lower is better
TARGET = 100.0
WHO = "bench"


@dataclass(frozen=True)
class Org:
    """What `fill` made: board ids by tier, and the sizes."""

    company: int
    plants: list[int]
    departments: list[int]
    teams: list[int]
    parent: dict[int, int | None]
    kpis_per_board: int
    days: int
    first_day: date
    last_day: date  # the newest entries' day (the day before `today`)

    @property
    def boards(self) -> int:
        return 1 + len(self.plants) + len(self.departments) + len(self.teams)

    @property
    def entries(self) -> int:
        return self.boards * self.kpis_per_board * self.days

    def name(self, board: int) -> str:
        if board == self.company:
            return "Company"
        for label, ids in (("Plant", self.plants), ("Dept", self.departments),
                           ("Team", self.teams)):  # fmt: skip
            if board in ids:
                return f"{label} {ids.index(board) + 1}"
        raise KeyError(board)

    def children(self, board: int) -> list[int]:
        return [b for b, p in self.parent.items() if p == board]

    def kpi_id(self, board: int, k: int) -> int:
        """The id of board's k-th KPI (0-based; its name is KPI_NAMES[k])."""
        return (board - 1) * self.kpis_per_board + k + 1

    def value(self, board: int, k: int, day_index: int) -> float:
        """The value the fill gives board's k-th KPI on its day_index-th day (0 = first_day):
        the same formula as the SQL below, so a test can check what teamboard reads."""
        kid = self.kpi_id(board, k)
        return float(90 + (kid * 7 + day_index * 13) % 21)


def plan(boards: int, kpis: int = 8, days: int = 365, today: date | None = None) -> Org:
    """The tiers for `boards` boards (at least 4): 1 company, boards//200 plants, boards//20
    departments (at least 1 each), the rest teams."""
    if boards < 4:
        raise ValueError("at least 4 boards (a company, a plant, a department, a team)")
    if not 1 <= kpis <= len(KPI_NAMES):
        raise ValueError(f"1 to {len(KPI_NAMES)} KPIs per board")
    today = today or date.today()
    n_plants = max(1, boards // 200)
    n_depts = max(1, boards // 20)
    n_teams = boards - 1 - n_plants - n_depts
    plants = list(range(2, 2 + n_plants))
    depts = list(range(plants[-1] + 1, plants[-1] + 1 + n_depts))
    teams = list(range(depts[-1] + 1, depts[-1] + 1 + n_teams))
    parent: dict[int, int | None] = {1: None}
    parent.update({p: 1 for p in plants})
    parent.update({d: plants[i % n_plants] for i, d in enumerate(depts)})
    parent.update({t: depts[i % n_depts] for i, t in enumerate(teams)})
    last = today - timedelta(days=1)
    return Org(1, plants, depts, teams, parent, kpis, days, last - timedelta(days=days - 1), last)


def fill(conn: Any, org: Org) -> dict[str, int]:
    """Write `org` into the (empty) store on `conn` (a psycopg connection, superuser), in one
    transaction; then VACUUM ANALYZE (so plans and index-only scans see the real volumes).
    Leaves the connection in autocommit. Returns the row counts."""
    k = org.kpis_per_board
    conn.commit()
    conn.autocommit = True  # VACUUM runs outside a transaction
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        at = f"{org.first_day.isoformat()}T06:00:00Z"
        with conn.cursor() as cur:
            with cur.copy(
                "COPY boards (id, name, description, parent, kpi_limit, extra, who, at) FROM STDIN"
            ) as cp:
                for b, p in sorted(org.parent.items()):
                    cp.write_row((b, org.name(b), "", p, k, "{}", WHO, at))
            with cur.copy(
                "COPY kpis (id, board, name, direction, unit, amber, frequency, owner, goal, kind, "
                "description, archived, extra, who, at) FROM STDIN"
            ) as cp:
                for b in sorted(org.parent):
                    for i in range(k):
                        name = KPI_NAMES[i]
                        down = name in DOWN
                        cp.write_row((org.kpi_id(b, i), b, name, "down" if down else "up", "",
                                      110.0 if down else 90.0, "daily", "", "",
                                      "leading" if i % 2 else "lagging", "", False, "{}",
                                      WHO, at))  # fmt: skip
        n_kpis = org.boards * k
        conn.execute(
            "INSERT INTO targets (kpi, value, since, who, at) "
            "SELECT id, %s, NULL, %s, %s FROM kpis ORDER BY id",
            (TARGET, WHO, at),
        )
        # One entry per KPI and day, in (kpi, date) order so ids follow the index's order.
        conn.execute(
            "INSERT INTO entries (id, kpi, date, value, note, extra, who, at) "
            "SELECT (k - 1) * %(days)s + d + 1, k, %(first)s::date + d, "
            "90 + (k * 7 + d * 13) %% 21, '', '{}', %(who)s, "
            "(%(first)s::date + d + 1)::timestamp + interval '6 hours 30 minutes' "
            "FROM generate_series(1, %(kpis)s) k, generate_series(0, %(days)s - 1) d "
            "ORDER BY k, d",
            {"days": org.days, "first": org.first_day, "who": WHO, "kpis": n_kpis},
        )
        # Two actions per team board: one open on its first KPI, one done.
        conn.execute(
            "INSERT INTO actions (id, title, board, kpi, owner, due, stage, extra, who, at) "
            "SELECT row_number() OVER (ORDER BY b, s), "
            "CASE WHEN s = 0 THEN 'Fix the first red' ELSE 'Standard work updated' END, "
            "b, (b - 1) * %(k)s + 1, '', %(last)s::date + 7, "
            "CASE WHEN s = 0 THEN 'do' ELSE 'done' END, '{}', %(who)s, %(at)s "
            "FROM unnest(%(teams)s::bigint[]) b, generate_series(0, 1) s",
            {"k": k, "last": org.last_day, "who": WHO, "at": at, "teams": org.teams},
        )
        conn.execute(
            "INSERT INTO action_history (action, field, old, new, stage, who, at) "
            "SELECT id, 'stage', NULL, '\"plan\"', 'plan', %s, %s FROM actions ORDER BY id",
            (WHO, at),
        )
        # Ids the fill gave itself: a table whose ids come from a sequence (entries, from
        # schema 2) continues after them.
        for t in ("boards", "kpis", "entries", "actions"):
            conn.execute(
                "SELECT setval(s, (SELECT coalesce(max(id), 0) + 1 FROM " + t + "), false) "
                "FROM pg_get_serial_sequence(%s, 'id') s WHERE s IS NOT NULL",
                (t,),
            )
        conn.execute(
            "UPDATE meta SET last_who = %s, last_at = %s, last_what = %s",
            (WHO, at, f"bench fill: {org.boards} boards"),
        )
    counts = {
        t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
        for t in ("boards", "kpis", "targets", "entries", "actions")
    }
    assert counts["entries"] == n_kpis * org.days, counts
    conn.execute("VACUUM ANALYZE")
    # Pages become all-visible only once no transaction anywhere in the cluster is older than
    # the fill (an autovacuum worker's snapshot, another session's): until then index-only
    # scans fetch every row from the heap. Vacuum again until they are, as autovacuum would
    # have by now (a few tries: a second pass was enough in every run seen).
    for _ in range(20):
        conn.execute("VACUUM entries")
        row = conn.execute(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'entries'"
        ).fetchone()
        if row is None or row[0] == row[1]:
            break
        time.sleep(0.25)
    return counts
