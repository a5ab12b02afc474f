"""`teamboard minutes`: the last huddle by default, by date, by board, as Markdown or JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY

from store import Store, ops
from store.huddle import AgendaItem, HuddleLog, ItemKind
from store.model import Action
from tui.cli import main

NINE = datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0).astimezone()


def run(path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--store", str(path), *argv], today=TODAY)
    out, err = capsys.readouterr()
    return code, out, err


def hold(store: Store, board: str, day_offset: int = 0, note: str = "sensor broken") -> int:
    """Keep the minutes of a small huddle held `day_offset` days from TODAY at 09:00."""
    snap = store.read()
    b = snap.board_named(board)
    start = NINE + timedelta(days=day_offset)
    items = [AgendaItem(ItemKind.RED, "First-pass yield", 5, status="red"),
             AgendaItem(ItemKind.STALE, "Changeover time", 7, status="stale")]
    log = HuddleLog(b.id, b.name, "dara", start, 15, items, attendees=["dara", "ben"])
    log.show(0, start)
    log.action_added(Action(12, "Quarantine the lot", b.id, kpi=5, owner="chen",
                            due=TODAY + timedelta(days=7)))
    log.show(1, start + timedelta(seconds=75))
    log.noted(7, "Changeover time", note)
    minutes = log.minutes(start + timedelta(seconds=200), start.date())
    return ops.save_huddle(store, minutes)


def test_no_huddle_yet_says_how_to_hold_one(
    demo_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(demo_store.path, capsys, "minutes")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "no huddle minutes yet" in err
    assert "teamboard --store" in err and " huddle" in err


def test_last_is_the_default_and_markdown(
    demo_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    hold(demo_store, "Line 2 Assembly", -1, note="older")
    hold(demo_store, "Line 2 Assembly", 0, note="tablet arrives Monday")
    code, out, _ = run(demo_store.path, capsys, "minutes")
    assert code == 0
    assert out.startswith("# Huddle · Line 2 Assembly · Fri 20 Nov 2026\n")
    assert "- Facilitator: dara" in out and "- Attendees (2): dara, ben" in out
    assert "- Time: 09:00–09:03, 3:20 of 15 min" in out
    assert "| 1 | First-pass yield | red | 1:15 | action added |" in out
    assert "| 2 | Changeover time | stale | 2:05 | noted |" in out
    assert "- #12 Quarantine the lot: added (owner chen, due 2026-11-27)" in out
    assert "tablet arrives Monday" in out and "older" not in out
    assert run(demo_store.path, capsys, "minutes", "--last")[1] == out


def test_json_by_date_and_board(demo_store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    hold(demo_store, "Line 2 Assembly", -1)
    hold(demo_store, "Operations", -1)
    hold(demo_store, "Line 2 Assembly", 0)
    code, out, _ = run(demo_store.path, capsys, "minutes", "--date", "yesterday", "--format",
                       "json")
    assert code == 0
    got: list[dict[str, Any]] = json.loads(out)["huddles"]
    assert [h["board"] for h in got] == ["Line 2 Assembly", "Operations"]
    assert all(h["date"] == "2026-11-19" for h in got)
    code, out, _ = run(demo_store.path, capsys, "minutes", "--board", "operations", "--format",
                       "json")
    (only,) = json.loads(out)["huddles"]
    assert only["board"] == "Operations" and only["who"] and only["id"] == 2
    assert set(only) >= {"date", "facilitator", "attendees", "started", "ended", "duration_s",
                         "items", "actions", "notes", "skips"}


def test_no_match_and_bad_input(demo_store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    hold(demo_store, "Line 2 Assembly")
    code, _, err = run(demo_store.path, capsys, "minutes", "--date", "2026-11-01")
    assert code == 1 and "no huddle minutes on 2026-11-01" in err and "--last" in err
    code, _, err = run(demo_store.path, capsys, "minutes", "--board", "Operations")
    assert code == 1 and "no huddle minutes of Operations" in err
    code, _, err = run(demo_store.path, capsys, "minutes", "--board", "Nope")
    assert code == 2 and "no board named 'Nope'" in err
    code, _, err = run(demo_store.path, capsys, "minutes", "--date", "someday")
    assert code == 2 and err.count("\n") == 1
    code, _, err = run(demo_store.path, capsys, "minutes", "--last", "--date", "today")
    assert code == 2 and "not allowed with argument" in err
    code, _, err = run(demo_store.path, capsys, "minutes", "--format", "pdf")
    assert code == 2


def test_missing_store_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(tmp_path / "none.json", capsys, "minutes")
    assert code == 1 and err.count("\n") == 1


def test_an_escape_in_a_note_is_shown_not_obeyed(
    demo_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    hold(demo_store, "Line 2 Assembly", note="red \x1b[2J because")
    code, out, _ = run(demo_store.path, capsys, "minutes")
    assert code == 0 and "\x1b" not in out and "red ␛[2J because" in out


def test_the_installed_script(demo_store: Store) -> None:
    hold(demo_store, "Line 2 Assembly")
    exe = Path(sys.executable).with_name("teamboard")
    done = subprocess.run(
        [str(exe), "--store", str(demo_store.path), "minutes", "--format", "json"],
        capture_output=True, text=True, check=False, timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["huddles"][0]["facilitator"] == "dara"
