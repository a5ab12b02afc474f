"""Scoped reads (`Store.read(scope=...)`, store/scope.py): a database loads only the boards
shown, and what they show is what a full read shows. The store: the demo, a day of writes
through every noun (test_cross_engine's script), an action taken over onto the board above, a
counter-metric on another board, and a year-old entry (so recent periods leave some out)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY
from test_cross_engine import SCRIPT

from store import calendar, health, rules, tiers
from store.db import Store
from store.errors import NotFound
from store.pg import open_store
from store.scope import VIEW_PERIODS, Scope
from store.snapshot import Snapshot
from tui.cli import main
from tui.huddle_screen import CHART_PERIODS
from tui.tier_lines import tier_view

NOW = datetime(2026, 11, 20, 15, 30).astimezone()
MORE: tuple[tuple[str, ...], ...] = (
    ("action", "add", "Fix the feeder", "--kpi", "Daily output", "--owner", "ana"),
    ("action", "escalate", "10", "--why", "needs the plant"),
    ("action", "take", "10"),
    ("kpi", "add", "Overtime", "--board", "Line 4", "--target", "5", "--direction", "down"),
    ("record", "Overtime", "9", "--date", "2025-11-01", "--note", "a year ago"),
    ("record", "Overtime", "3"),
)  # fmt: skip


def cli(store: str, capsys: pytest.CaptureFixture[str], *argv: str) -> None:
    code = main(["--store", store, *argv], today=TODAY)
    assert code == 0, (argv, capsys.readouterr().err)


@pytest.fixture(scope="module")
def org(pg_cluster: object) -> Store:
    """The store, made once for the module (every test here only reads it)."""
    import psycopg
    from pg_cluster import Cluster

    assert isinstance(pg_cluster, Cluster)
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS tb_scope")
        conn.execute("CREATE DATABASE tb_scope")
    url = pg_cluster.url("tb_scope")
    for argv in (("init", "--demo"), *SCRIPT, *MORE):
        assert main(["--store", url, *argv], today=TODAY) == 0, argv
    with psycopg.connect(url) as conn:  # the CLI keeps a counter on its board; SQL need not
        conn.execute("UPDATE kpis SET counter = (SELECT id FROM kpis WHERE name = "
                     "'First-pass yield') WHERE name = 'Overtime'")  # fmt: skip
        # Forty days of Uptime before the script's: more periods than a scoped read keeps.
        conn.execute(
            "INSERT INTO entries (id, kpi, date, value) SELECT (SELECT max(id) FROM entries) + n, "
            "(SELECT id FROM kpis WHERE name = 'Uptime'), DATE '2026-11-19' - n, 80 + n % 7 "
            "FROM generate_series(1, 40) AS n"
        )
    return open_store(url)


def trim(obj: Any) -> Any:
    """Views with each KPI's history cut to the periods a scoped read keeps (what tiles, the
    huddle's chart and the health read: store/scope.py)."""
    if isinstance(obj, rules.KpiView):
        return dataclasses.replace(obj, history=obj.history[-VIEW_PERIODS:])
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return tuple(trim(getattr(obj, f.name)) for f in dataclasses.fields(obj))
    if isinstance(obj, (list, tuple)):
        return tuple(trim(x) for x in obj)
    if isinstance(obj, dict):
        return {k: trim(v) for k, v in obj.items()}
    return obj


def shown(snap: Snapshot, board: int) -> Any:
    """What a board screen shows of `board`: its views, roll-up tiles, escalations, review."""
    views = snap.views(board, TODAY, NOW)
    return (views, snap.actions_of(board), tier_view(snap, board, TODAY, NOW),
            tiers.board_views(snap, TODAY, NOW).get(board),
            [tiers.summarize(snap, c.id, TODAY, NOW) for c in snap.children(board)])  # fmt: skip


def test_view_periods_cover_what_the_views_read() -> None:
    assert max(rules.SPARK_PERIODS, CHART_PERIODS, health.RED_WINDOW_DAYS + 2, 5) <= VIEW_PERIODS


def test_a_boards_scoped_read_shows_what_a_full_read_shows(org: Store) -> None:
    full = org.read()
    assert any(len(lst) > VIEW_PERIODS for lst in full.entries.values())  # something is left out
    for board in full.boards:
        part = org.read(scope=Scope.of({board}))
        assert part.boards == full.boards
        assert trim(shown(part, board)) == trim(shown(full, board)), full.boards[board].name
        # Its own KPIs with every entry: the detail, the huddle's notes, the calendar.
        deep = org.read(scope=Scope.of({board}, own_history=True))
        assert shown(deep, board)[0] == shown(full, board)[0]
        for k in full.kpis_of(board):
            assert deep.entries.get(k.id) == full.entries.get(k.id)


def test_a_scoped_read_loads_less(org: Store) -> None:
    full = org.read()
    team = full.board_named("Line 4").id
    part = org.read(scope=Scope.of({team}))
    assert part.kpis.keys() < full.kpis.keys()
    assert part.entry_count < full.entry_count
    assert {k.board for k in part.kpis.values()} != set(full.boards)
    # The counter-metric on another board came along, with its recent entries.
    overtime = full.kpi_named("Overtime")
    assert overtime.counter in part.kpis and part.entries.get(overtime.counter)
    # A long history keeps its latest periods; with the KPI in `full`, every entry.
    long = max(full.kpis_of(team), key=lambda k: len(full.entries.get(k.id, [])))
    days = sorted({e.day for e in full.entries[long.id]})
    assert len(days) > VIEW_PERIODS
    assert min(e.day for e in part.entries[long.id]) == days[-VIEW_PERIODS]
    detail = org.read(scope=Scope.of({team}, full={long.id}))
    assert detail.entries[long.id] == full.entries[long.id]


def test_the_tree_reads_every_board_with_recent_entries(org: Store) -> None:
    full = org.read()
    part = org.read(scope=Scope.of(None))
    assert part.kpis == full.kpis and part.actions == full.actions
    assert part.entry_count < full.entry_count
    assert trim(tiers.tree(part, None, TODAY, NOW)) == trim(tiers.tree(full, None, TODAY, NOW))


def test_a_scoped_read_since_a_day_holds_the_calendars_months(org: Store) -> None:
    full = org.read()
    board = full.board_named("Line 2 Assembly")
    first = date(2026, 9, 1)  # a week before it too: a week may reach into the month
    part = org.read(scope=Scope.of({board.id}, since=first - timedelta(days=7)))

    def cal(snap: Snapshot) -> Any:
        return calendar.build(board.name, snap.kpis_of(board.id), snap.entries, first, TODAY)

    assert cal(part) == cal(full)


def test_boards_by_name_and_an_unknown_name(org: Store) -> None:
    full = org.read()
    by_name = org.read(scope=Scope.of({"line 2 ASSEMBLY"}))
    board = full.board_named("Line 2 Assembly").id
    assert trim(shown(by_name, board)) == trim(shown(full, board))
    nothing = org.read(scope=Scope.of({"Line 9"}))
    assert nothing.boards == full.boards and not nothing.kpis
    with pytest.raises(NotFound) as want:
        full.board_named("Line 9")
    with pytest.raises(NotFound) as got:
        nothing.board_named("Line 9")
    assert str(got.value) == str(want.value)


def test_covers_says_when_the_app_must_read_again(org: Store) -> None:
    full = org.read()
    plant = full.default_board().id
    team = full.board_named("Line 4").id
    k = full.kpis_of(team)[0].id
    assert Scope().covers(Scope.of({team}, full={k}), full)
    assert Scope.of({plant}).covers(Scope.of({team}), full)  # a board below
    assert not Scope.of({team}).covers(Scope.of({plant}), full)
    assert not Scope.of({team}).covers(Scope.of({team}, full={k}), full)
    assert Scope.of({team}, own_history=True).covers(Scope.of({team}, full={k}), full)
    assert not Scope.of({team}).covers(Scope.of(None), full)
    assert Scope.of(None).covers(Scope.of({team}), full)
    assert not Scope.of({team}).covers(Scope.of({team}, since=TODAY), full)
    assert not Scope.of({team}, periods=10).covers(Scope.of({team}), full)


def test_the_file_store_ignores_the_scope(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "team.json")
    cli(path, capsys, "init", "--demo")
    store = Store(path)
    assert store.read(scope=Scope.of({1})) == store.read()
