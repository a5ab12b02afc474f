"""Every operation, the same on both engines: the demo, then a day's worth of writes through
every noun (boards, KPIs, targets, entries, notes, estimates, explanations, actions through PDCA,
escalations and answers, goals, reviews), on a file and on PostgreSQL; every listing and the
whole export must then read the same, bar who wrote (the OS login or the database role) and the
clock time of today's writes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY

from store.db import whoami
from tui.cli import main

SCRIPT: tuple[tuple[str, ...], ...] = (
    ("board", "add", "Line 4", "--parent", "Assembly", "--kpi-limit", "3"),
    ("board", "edit", "Line 3 Assembly", "--description", "X100 covers", "--review-days", "3"),
    ("kpi", "add", "Uptime", "--board", "Line 4", "--target", "90", "--unit", "%",
     "--amber", "85", "--owner", "emil", "--due", "10:00", "--category", "D"),
    ("kpi", "edit", "Daily output", "--owner", "chen", "--description", "units packed"),
    ("kpi", "archive", "Kaizen ideas"),
    ("target", "Uptime", "92", "--from", "2026-12-01"),
    ("record", "Uptime", "80", "--note", "press down"),
    ("record", "Uptime", "84"),
    ("record", "Daily output", "850", "--date", "yesterday", "--plan", "880"),
    ("note", "Uptime", "fixed at 11:00"),
    ("plan", "Uptime", "88", "--date", "+1", "--by", "emil"),
    ("explain", "Uptime", "the press is being rebuilt", "--until", "+3"),
    ("action", "add", "Rebuild the press", "--kpi", "Uptime", "--owner", "emil", "--due", "+5"),
    ("action", "move", "9", "do"),
    ("action", "edit", "9", "--title", "Rebuild the press's hydraulics"),
    ("action", "escalate", "9", "--why", "needs a budget"),
    ("action", "answer", "9", "--note", "budget approved"),
    ("action", "done", "1"),
    ("goal", "add", "Keep the presses running", "--board", "Line 4"),
    ("review", "Line 4", "--note", "press plan looks good"),
)  # fmt: skip
READS: tuple[tuple[str, ...], ...] = (
    ("status", "--all", "--json"),
    ("status", "--json"),  # one board: a database reads it scoped (store/scope.py)
    ("status", "Assembly", "--json"),
    ("status", "Line 4", "--json"),
    ("board", "list", "--json"),
    ("kpi", "list", "--archived", "--json"),
    ("action", "list", "--json"),
    ("history", "Uptime", "--json"),
    ("history", "Daily output", "--json"),
    ("goal", "list", "--json"),
    ("reviews", "--json"),
    ("estimates", "--json"),
    ("log", "--json"),
    ("tree", "--json"),
    ("export", "--format", "json"),
)
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def cli(store: str, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    code = main(["--store", store, *argv], today=TODAY)
    out, err = capsys.readouterr()
    assert code == 0, (argv, err)
    return out


def normal(text: str, writer: str, since: datetime) -> Any:
    """The output with today's clock times and the writer's name made the same on both."""

    def stamp(m: re.Match[str]) -> str:
        at = datetime.fromisoformat(m.group(0).replace("Z", "+00:00"))
        return "NOW" if at >= since else m.group(0)

    data = json.loads(STAMP.sub(stamp, text))
    data = json.loads(json.dumps(data).replace(f'"{writer}"', '"WRITER"'))
    if isinstance(data, dict):
        data.pop("exported_at", None)
    return data


def test_every_operation_reads_the_same_on_both_engines(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    stores = {"file": (str(tmp_path / "team.json"), whoami()), "pg": (pg_url, "postgres")}
    seen: dict[str, list[Any]] = {}
    for engine, (store, writer) in stores.items():
        cli(store, capsys, "init", "--demo")
        for argv in SCRIPT:
            cli(store, capsys, *argv)
        seen[engine] = [normal(cli(store, capsys, *argv), writer, since) for argv in READS]
    for argv, on_file, on_pg in zip(READS, seen["file"], seen["pg"], strict=True):
        if argv[0] == "log":  # newest first: today's writes may share a second in either order
            on_file, on_pg = (sorted(x["changes"], key=json.dumps) for x in (on_file, on_pg))
        assert on_file == on_pg, argv
