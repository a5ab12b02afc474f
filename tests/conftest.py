"""Shared fixtures: a store path in a temp folder, and the demo store built on a frozen day."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from textual.pilot import Pilot

from store import Store
from store.demo import build

TODAY = date(2026, 11, 20)  # a Friday; everything that depends on "today" uses this


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "team.json"


@pytest.fixture
def demo_store(store_path: Path) -> Store:
    store = Store(store_path)
    build(store, TODAY)
    return store


# --- real processes, possibly as another user -------------------------------------------------

NOBODY = 65534  # uid and gid of "nobody"

# The interpreter lives under /root, which only root may enter: a child imports what it needs
# first, then becomes the other user (os.setres*id), so later imports cannot fail.
PRELUDE = """\
import json, os, sys, time
from datetime import date
import orjson
from store import Store, ops
from store.errors import StoreError
"""


def drop_to(uid: int, gid: int, groups: list[int]) -> str:
    return (
        f"os.setgroups({groups!r}); os.setresgid({gid}, {gid}, {gid}); "
        f"os.setresuid({uid}, {uid}, {uid})\n"
    )


def child_code(body: str, user: tuple[int, int, list[int]] | None = None) -> str:
    """A script for `python -c`: the prelude, then (as root) the switch to `user`, then `body`."""
    return PRELUDE + (drop_to(*user) if user else "") + body


def run_child(
    body: str, user: tuple[int, int, list[int]] | None = None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", child_code(body, user)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder under /tmp that another user can reach (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="teamboard-test-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for p in [path, *path.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(path)


async def until(
    pilot: Pilot[int], cond: Callable[[], object], timeout: float = 5.0, what: str = ""
) -> None:
    """Let the app run until `cond()` holds; fail with `what` after `timeout` seconds.

    Pilot tests wait on the condition they need, never on a sleep that hopes.
    """
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or cond}")
        await pilot.pause(0.05)
