"""The 1,000-board bench's data generator (bench/pg_fill.py) makes a store teamboard reads as it
should, so bench/bench_pg.py cannot silently measure an empty or malformed store. Tiny sizes;
no timing."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest

from store import ops
from store.model import Status
from store.pg import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pg_fill import KPI_NAMES, fill, plan

TODAY = date(2026, 11, 20)


def test_tiers_at_the_bench_size() -> None:
    org = plan(1000, today=TODAY)
    assert (len(org.plants), len(org.departments), len(org.teams)) == (5, 50, 944)
    assert org.entries == 2_920_000
    dept = org.departments[0]
    assert len(org.children(dept)) == 19  # with the department: the 20-board roll-up
    assert all(org.parent[p] == org.company for p in org.plants)


@pytest.mark.parametrize("boards", [4, 30])
def test_filled_store_reads_back(pg_url: str, boards: int) -> None:
    store = open_store(pg_url)
    ops.init(store)
    org = plan(boards, kpis=8, days=12, today=TODAY)
    with psycopg.connect(pg_url) as conn:
        counts = fill(conn, org)
    assert counts["boards"] == boards and counts["kpis"] == boards * 8
    assert counts["entries"] == boards * 8 * 12 == org.entries
    with psycopg.connect(pg_url) as conn:  # vacuumed: the plans are those of a settled store
        pages = conn.execute(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'entries'"
        ).fetchone()
    assert pages is not None and pages[0] == pages[1] > 0

    snap = store.read()
    assert len(snap.boards) == boards
    assert sum(len(v) for v in snap.entries.values()) == org.entries
    team = org.teams[-1]
    assert snap.boards[team].parent == org.parent[team]
    assert snap.boards[org.parent[team] or 0].name == org.name(org.parent[team] or 0)
    output = snap.kpis[org.kpi_id(team, KPI_NAMES.index("Output"))]
    assert (output.board, output.name) == (team, "Output")
    latest = snap.entries[output.id][-1]
    assert latest.day == org.last_day == date(2026, 11, 19)
    assert latest.value == org.value(team, KPI_NAMES.index("Output"), org.days - 1)
    views = {v.kpi.name: v for v in snap.views(team, TODAY, None)}
    assert set(views) == set(KPI_NAMES)
    assert views["Output"].history[-1].value == latest.value
    assert [a.title for a in snap.actions_of(team)] == ["Fix the first red"]
    assert len(snap.actions_of(team, open_only=False)) == 2

    # teamboard's own record path writes into it, after the fill's rows
    done = ops.record(store, "Output", 1.0, TODAY, TODAY, board=org.name(team))
    assert done.entry.id == org.entries + 1
    assert done.view.status == Status.RED
