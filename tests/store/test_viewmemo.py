"""The views remembered per KPI (store/viewmemo.py) are exactly the views computed afresh, after
every kind of write, on the file and on PostgreSQL (a follower's reads, which reuse unchanged
objects), and they are reused only for the very same objects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY

from store import Store, ops, viewmemo
from store.explain import explain
from store.model import Direction, Entry, Frequency, Stage
from store.plans import plan
from store.snapshot import Snapshot

Write = Callable[[Store], Any]
DAY = TODAY
PAST = DAY - timedelta(days=3)
NOWS = [None, datetime.combine(TODAY, time(9, 0)).astimezone(), datetime.combine(
    TODAY - timedelta(days=1), time(23, 0)).astimezone()]  # fmt: skip


def build(store: Store) -> None:
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_board(store, "Cell", parent="Line")
    ops.add_kpi(store, "Output", "Line", 100.0)
    ops.add_kpi(store, "Scrap", "Line", 2.0, direction=Direction.DOWN, amber=3.0,
                counter="Output")  # fmt: skip
    ops.add_kpi(store, "Weekly", "Cell", 10.0, frequency=Frequency.WEEKLY)
    for i in range(12):
        d = DAY - timedelta(days=12 - i)
        ops.record(store, "Output", 90.0 + i, d, DAY, board="Line")
        ops.record(store, "Scrap", 1.0 + i % 4, d, DAY, board="Line")
        ops.record(store, "Weekly", 9.0 + i % 3, d, DAY, board="Cell")


WRITES: list[tuple[str, Write]] = [
    ("a value today", lambda s: ops.record(s, "Output", 120.0, DAY, DAY, board="Line")),
    ("a red value", lambda s: ops.record(s, "Output", 50.0, DAY, DAY, board="Line")),
    ("a superseded past value", lambda s: ops.record(s, "Scrap", 9.0, PAST, DAY, board="Line")),
    ("a plan", lambda s: ops.record(s, "Weekly", 8.0, DAY, DAY, board="Cell", plan=7.0)),
    ("a note", lambda s: ops.add_note(s, "Output", "checked", board="Line")),
    ("an action", lambda s: ops.add_action(s, "Fix it", board="Line", kpi="Output")),
    ("the action done", lambda s: ops.move_action(s, 1, Stage.DONE)),
    ("a target from today", lambda s: ops.set_target(s, "Output", 40.0, DAY, board="Line")),
    ("an estimate", lambda s: plan(s, "Weekly", 12.0, DAY, board="Cell")),
    ("an explanation", lambda s: explain(s, "Scrap", "a bad batch", DAY, board="Line")),
    ("a KPI edited", lambda s: ops.edit_kpi(s, "Scrap", board="Line", amber=5.0)),
    ("a KPI archived", lambda s: ops.archive_kpi(s, "Weekly", board="Cell")),
    ("a KPI restored", lambda s: ops.archive_kpi(s, "Weekly", board="Cell", restore=True)),
    ("a KPI added", lambda s: ops.add_kpi(s, "New", "Cell", 5.0)),
    ("a board renamed", lambda s: ops.edit_board(s, "Line", new_name="Line 1")),
]


def views(snap: Snapshot, day: date) -> list[Any]:
    return [snap.views(b, day, now) for b in (None, *snap.boards) for now in NOWS]


def check(read: Callable[[Snapshot | None], Snapshot], store: Store) -> None:
    """After every write: the views (memo on, warmed by the last read) equal the views
    computed with nothing remembered, on several days and clocks."""
    last = read(None)
    for day in (DAY, DAY + timedelta(days=2)):
        views(last, day)
    hits = 0
    for what, write in WRITES:
        write(store)
        last = read(last)
        for day in (DAY, DAY + timedelta(days=2)):
            before = viewmemo.stats["hits"]
            remembered = views(last, day)
            hits += viewmemo.stats["hits"] - before
            viewmemo.clear()
            fresh = views(last, day)
            assert remembered == fresh, what
    assert hits > 0  # unchanged KPIs' views were reused, not only computed


def test_file_store_views_are_the_fresh_views_after_every_write(tmp_path: Path) -> None:
    store = Store(tmp_path / "team.json")
    build(store)
    check(lambda prev: store.read(prev), store)


def test_postgresql_follower_views_are_the_fresh_views_after_every_write(pg_url: str) -> None:
    from store.pg import open_store
    from store.scope import Scope

    store = open_store(pg_url)
    build(store)
    scope = Scope.of([1])  # Line, and Cell below it
    check(lambda prev: store.read(prev, scope=scope), store)


def test_only_the_very_same_objects_are_reused(tmp_path: Path) -> None:
    """An equal but other entry (-0.0 for 0.0, or a copy), another KPI object: computed again."""
    store = Store(tmp_path / "team.json")
    build(store)
    ops.record(store, "Output", 0.0, DAY, DAY, board="Line")
    snap = store.read()
    first = snap.views(None, DAY)
    k = snap.kpis[1]
    copies = {1: [replace(e) for e in snap.entries[1]]}
    for entries, kpis in ((copies, snap.kpis), (snap.entries, {**snap.kpis, 1: replace(k)})):
        before = viewmemo.stats["misses"]
        again = replace(snap, entries={**snap.entries, **entries} if entries is copies
                        else snap.entries, kpis=kpis).views(None, DAY)  # fmt: skip
        assert viewmemo.stats["misses"] == before + 1  # Output's, alone
        assert again == first
    latest = snap.entries[1][-1]
    neg: dict[int, list[Entry]] = {**snap.entries, 1: [*snap.entries[1][:-1],
                                                       replace(latest, value=-0.0)]}  # fmt: skip
    got = replace(snap, entries=neg).views(None, DAY)
    assert str(got[0].history[-1].value) == "-0.0"


@pytest.fixture(autouse=True)
def _clean() -> None:
    viewmemo.clear()
