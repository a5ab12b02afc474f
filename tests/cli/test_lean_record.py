"""The lean `teamboard record` (`tui.launch` → `tui.lean`) answers exactly as the full command
line (`tui.cli.main`): the same stdout, stderr and exit code, and the same store afterwards
(bar the times of the write), for good command lines and bad ones; and what it does not read
itself it hands to the full command line untouched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
from conftest import NOBODY, PRELUDE, TODAY, drop_to

from store import Store
from store.demo import build
from tui import launch

NOW = datetime.combine(TODAY, time(12, 0))

Run = tuple[int, str, str, Any]  # exit code, stdout, stderr, the store afterwards (or None)

# (argv after `--store PATH`, does the lean start run it itself?)
CASES: list[tuple[list[str], bool]] = [
    (["record", "Units per hour", "118"], True),
    (["record", "units PER hour", "131.5", "--note", "new tooling"], True),
    (["record", "Scrap cost", "380", "--date", "yesterday", "--plan", "400"], True),
    (["record", "Daily output", "--date", "-3", "905"], True),  # an option between the two
    (["record", "--board", "Line 2 Assembly", "Changeover time", "27"], True),
    (["record", "Units per hour", "1e3", "--date", str(TODAY)], True),
    (["record", "Units per hour", "120", "--note", "line one\nline two"], True),
    (["--wait", "5", "record", "Kaizen ideas", "4"], True),
    (["--wait", "", "record", "Kaizen ideas", "4"], True),
    # bad input, refused by the lean start in the full command line's words
    (["record", "Unknown KPI", "3"], True),
    (["record", "Units per hour", "abc"], True),
    (["record", "Units per hour", "nan"], True),
    (["record", "Units per hour", "1e999"], True),
    (["record", "Units per hour", "inf"], True),
    (["record", "Units per hour", ""], True),
    (["record", "", "3"], True),
    (["record", "Units per hour", "3", "--date", "2026-13-01"], True),
    (["record", "Units per hour", "3", "--date", "tomorrow"], True),
    (["record", "Units per hour", "3", "--date", "+2"], True),
    (["record", "Units per hour", "3", "--plan", "x"], True),
    (["record", "Units per hour", "3", "--board", "No such board"], True),
    (["record", "Units per hour", "3", "--note", "\x1b[31mred"], True),
    (["--wait", "abc", "record", "Units per hour", "3"], True),
    (["--wait", "-1", "record", "Units per hour", "3"], True),
    (["--wait", "999999", "record", "Units per hour", "3"], True),
    # anything else goes to the full command line
    (["record", "Units per hour", "-3"], True),
    (["record", "Units per hour", "-1e3", "--plan", "-.5"], True),
    (["record", "Units per hour", "-inf"], True),
    (["record", "Units per hour", "3", "--note", "-x"], False),
    (["record", "Units per hour", "3", "--note", "-x y"], False),
    (["record", "-", "3"], False),
    (["record", "Units per hour", "3", "--colour"], False),
    (["record", "Units per hour", "3", "--dat", "yesterday"], False),
    (["record", "Units per hour", "3", "--date=yesterday"], False),
    (["record", "Units per hour", "3", "--date"], False),
    (["record", "Units per hour", "3", "--note", "a", "--note", "b"], False),
    (["record", "Units per hour", "3", "4"], False),
    (["record", "Units per hour"], False),
    (["record"], False),
    (["record", "--help"], False),
    (["record", "-h"], False),
    (["--help"], False),
    (["record", "--", "Units per hour", "3"], False),
    (["status"], False),
    (["kpi", "list"], False),
]


def _normal(doc: Any) -> Any:
    """The store with the times of the write left out (each run writes at its own second)."""
    if isinstance(doc, dict):
        return {k: (None if k == "at" else _normal(v)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_normal(v) for v in doc]
    return doc


def _run(
    front: Callable[..., int], argv: Sequence[str], path: Path, capsys: pytest.CaptureFixture[str]
) -> Run:
    capsys.readouterr()
    code = front(["--store", str(path), *argv], now=NOW)
    out, err = capsys.readouterr()
    after = _normal(json.loads(path.read_bytes())) if path.exists() else None
    return code, out, err, after


@pytest.fixture
def original(tmp_path: Path) -> Path:
    """The demo store, brought to this schema (a store to migrate takes the general path)."""
    path = tmp_path / "original.json"
    build(Store(path), TODAY)
    return path


def _both(
    original: Path | None,
    path: Path,
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Run, Run, int]:
    """(the lean start's answer, the full command line's, how often the first handed over)."""
    import tui.cli

    full = tui.cli.main
    handed: list[object] = []

    def spy(*a: Any, **k: Any) -> int:
        handed.append(a)
        return full(*a, **k)

    runs = []
    for front in (launch.main, full):
        if original is not None:
            shutil.copyfile(original, path)
        with monkeypatch.context() as m:
            m.setattr(tui.cli, "main", spy)
            runs.append(_run(front, argv, path, capsys))
    return runs[0], runs[1], len(handed)


@pytest.mark.parametrize(("argv", "lean"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_the_lean_record_answers_as_the_full_command_line(
    argv: list[str],
    lean: bool,
    original: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEAMBOARD_WAIT", raising=False)
    path = tmp_path / "team.json"
    got, want, handed = _both(original, path, argv, capsys, monkeypatch)
    assert got == want
    assert handed == (0 if lean else 1)
    assert launch.plain_record(["--store", str(path), *argv]) is not None or not lean
    if lean and want[0] == 0:  # a record was written, both times
        assert want[3] != _normal(json.loads(original.read_bytes()))


def test_a_missing_store_is_refused_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "none" / "team.json"
    got, want, handed = _both(None, path, ["record", "Output", "3"], capsys, monkeypatch)
    assert got == want and handed == 0
    assert want[0] == 1 and "init" in want[2] and not path.exists()


def test_the_default_store_and_wait_come_from_the_environment(
    original: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No --store: $TEAMBOARD_STORE; no --wait: $TEAMBOARD_WAIT (a bad one said as such)."""
    path = tmp_path / "env.json"
    monkeypatch.setenv("TEAMBOARD_STORE", str(path))
    answers = []
    for wait in ("7", "soon"):
        monkeypatch.setenv("TEAMBOARD_WAIT", wait)
        runs = []
        for front in (launch.main, __import__("tui.cli").cli.main):
            shutil.copyfile(original, path)
            capsys.readouterr()
            code = front(["record", "Units per hour", "101"], now=NOW)
            out, err = capsys.readouterr()
            runs.append((code, out, err, _normal(json.loads(path.read_bytes()))))
        assert runs[0] == runs[1]
        answers.append(runs[0][0])
    assert answers == [0, 2]


def test_a_read_only_store_is_refused_alike(shared_dir: Path, original: Path) -> None:
    """As another user, who may read the team's store but not write it: the same refusal."""
    path = shared_dir / "team.json"
    shutil.copyfile(original, path)
    path.chmod(0o644)
    before = path.read_bytes()
    # The interpreter lives where only root may go: load what both fronts import (by running
    # them as root on a scratch copy), then drop to nobody.
    scratch = shared_dir / "scratch.json"
    shutil.copyfile(original, scratch)
    first = (
        "import io, contextlib, tui.cli\n"
        "from tui import launch\n"
        "for front in (launch.main, tui.cli.main):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        f"        front(['--store', {str(scratch)!r}, 'record', 'Units per hour', '3'])\n"
    )
    body = (
        "got = []\n"
        "for front in (launch.main, tui.cli.main):\n"
        "    out, err = io.StringIO(), io.StringIO()\n"
        "    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n"
        f"        code = front(['--store', {str(path)!r}, 'record', 'Units per hour', '3'])\n"
        "    got.append([code, out.getvalue(), err.getvalue()])\n"
        "print(json.dumps(got))\n"
    )
    code = PRELUDE + first + drop_to(NOBODY, NOBODY, []) + body
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    lean, full = json.loads(done.stdout)
    assert lean == full, (lean, full)
    assert full[0] == 1 and "read-only" in full[2]
    assert path.read_bytes() == before


def test_the_lean_record_imports_no_more_than_it_needs(original: Path, tmp_path: Path) -> None:
    """A plain record never loads argparse, the other commands, TinyDB (a current store takes
    the fast path), nor anything `teamboard record` must never import."""
    path = tmp_path / "team.json"
    shutil.copyfile(original, path)
    code = (
        "import sys\n"
        "from tui.launch import main\n"
        f"code = main(['--store', {str(path)!r}, 'record', 'Units per hour', '3'])\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'widgets', 'rich',\n"
        "       'argparse', 'tinydb', 'tempfile', 'random')\n"
        "       or m.startswith('tui.cli') or m in ('tui.app', 'csv', 'store.csvio',\n"
        "       'store.demo', 'platformdirs', 'store.calendar', 'calendar', 'store.tiers',\n"
        "       'store.health', 'statistics', 'store.goals', 'store.asof', 'store.plans',\n"
        "       'store.explain', 'socket', 'aiohttp', 'textual_serve', 'psycopg')]\n"
        "print(code, bad)"
    )
    env = {k: v for k, v in os.environ.items() if k != "TEAMBOARD_STORE"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.splitlines()[-1] == "0 []", done.stderr  # after the status line


def test_the_console_script_starts_lean() -> None:
    """pyproject's script is `tui.launch:main`, which imports nothing of the store or the
    command line until it has read the arguments."""
    import tomllib

    root = Path(__file__).resolve().parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["teamboard"] == "tui.launch:main"
    done = subprocess.run(
        [sys.executable, "-c", "import sys, tui.launch; print(sorted(m for m in sys.modules "
         "if m.split('.')[0] in ('store', 'tui', 'argparse', 'orjson')))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "['tui', 'tui.launch']"
