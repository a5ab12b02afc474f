"""`teamboard migrate --to`: a team's file moves into PostgreSQL with every document, who wrote it
and when (superseded entries, targets, action histories, huddles, the change log, estimates,
explanations), and comes back out the same."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY

from store import Store, ops
from store.demo import build
from store.huddle import AgendaItem, HuddleLog, ItemKind
from store.pg import open_store
from store.pg.migrate import documents
from tui.cli import main


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv), today=TODAY)
    out, err = capsys.readouterr()
    return code, out, err


def rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every table's documents in id order (the store's keys and meta aside)."""
    raw = documents(store)
    return {
        t: sorted(docs.values(), key=lambda d: d["id"]) for t, docs in raw.items() if t != "meta"
    }


@pytest.fixture
def team(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The demo's file, plus a huddle, an estimate, an explanation and an edit."""
    path = tmp_path / "team.json"
    store = Store(path)
    build(store, TODAY)
    b = store.read().board_named("Line 2 Assembly")
    start = datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0).astimezone()
    log = HuddleLog(b.id, b.name, "dara", start, 15,
                    [AgendaItem(ItemKind.RED, "First-pass yield", 5, status="red")],
                    attendees=["dara", "ben"])  # fmt: skip
    log.show(0, start)
    ops.save_huddle(store, log.minutes(start, start.date()))
    s = ("--store", str(path))
    for argv in (
        ("plan", "Daily output", "900", "--date", "+1", "--by", "ben"),
        ("explain", "First-pass yield", "connector lot B"),
        ("kpi", "edit", "Daily output", "--owner", "ben"),
        ("target", "Daily output", "880", "--from", "2026-11-01"),
        ("record", "Daily output", "870"),
        ("record", "Daily output", "880"),  # supersedes the one before
    ):
        code, _, err = cli(capsys, *s, *argv)
        assert code == 0, (argv, err)
    return path


def test_a_file_moves_into_postgresql_whole_and_back(
    team: Path, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "--store", str(team), "migrate", "--to", pg_url)
    assert code == 0, err
    assert "migrated" in out and "1 huddles" in out and "1 estimates" in out
    source, moved = rows(Store(team)), rows(open_store(pg_url))
    for table in ("entries", "changes", "huddles", "estimates", "explanations", "actions"):
        assert source[table], table  # the test has something to lose in each
    assert moved == source
    assert {e["who"] for e in moved["entries"]} > {"ben", "chen"}  # who and when kept
    exports = [
        json.loads(cli(capsys, "--store", s, "export", "--format", "json")[1])
        for s in (str(team), pg_url)
    ]
    for doc in exports:
        del doc["exported_at"]
    assert exports[0] == exports[1]
    back = tmp_path / "back.json"
    code, _, err = cli(capsys, "--store", pg_url, "migrate", "--to", str(back))
    assert code == 0, err
    assert rows(Store(back)) == source
    log = [cli(capsys, "--store", s, "log")[1] for s in (str(team), pg_url)]
    assert log[0] == log[1] and "ben" in log[0]


def test_migrate_never_writes_over_a_store(
    team: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "--store", str(team), "migrate", "--to", pg_url)[0] == 0
    before = rows(open_store(pg_url))
    code, out, err = cli(capsys, "--store", str(team), "migrate", "--to", pg_url)
    assert code == 1 and out == ""
    assert "already" in err and len(err.strip().splitlines()) == 1
    assert rows(open_store(pg_url)) == before
    code, _, err = cli(capsys, "--store", str(team), "migrate", "--to", str(team))
    assert code == 2 and "itself" in err
