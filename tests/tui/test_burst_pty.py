"""A burst of keys through a real terminal: teamboard in tmux, a title, Tab, an owner and Enter
written to its pty in one go (as a read over SSH delivers them). Skipped without tmux."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import wait_for

from store import Store
from store.demo import build

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], capture_output=True, text=True, check=False, timeout=30
    ).stdout


def test_a_burst_through_a_pty_lands_in_the_right_fields(tmp_path: Path) -> None:
    from datetime import date

    path = tmp_path / "team.json"
    build(Store(path), date.today())  # the app runs on the real clock here
    session = f"teamboard-burst-{tmp_path.name}"
    cmd = (
        " ".join(
            shlex.quote(p)
            for p in [
                sys.executable,
                "-m",
                "tui.cli",
                "--store",
                str(path),
                "show",
                "Line 2 Assembly",
            ]
        )
        + "; sleep 60"
    )  # the screen stays to be read if it fails
    root = Path(__file__).resolve().parents[2]
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", str(root), cmd)
    try:

        def screen() -> str:
            return tmux("capture-pane", "-p", "-t", session)

        try:
            wait_for("the board in tmux", lambda: "First-pass yield" in screen())
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen:\n{screen()}") from None
        tmux("send-keys", "-t", session, "a")
        wait_for("the action form", lambda: "What will we do?" in screen())
        title = "Add a second de-icing pad"
        # One send-keys: tmux writes the whole burst to the pty at once.
        tmux("send-keys", "-t", session, title, "Tab", "dana", "Enter")

        def saved() -> bool:
            return any(
                a.title.startswith("Add a second") for a in Store(path).read().actions.values()
            )

        wait_for("the action saved", saved)
        action = next(a for a in Store(path).read().actions.values() if a.title.startswith("Add"))
        assert (action.title, action.owner) == (title, "dana")
    finally:
        tmux("kill-session", "-t", session)
