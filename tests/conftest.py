"""Shared fixtures: a store path in a temp folder, and the demo store built on a frozen day."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeGuard, TypeVar

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Label

from store import Store
from store.demo import build
from tui.app import TeamboardApp
from widgets.kpi_tile import KpiTile

S = TypeVar("S", bound=Screen[Any])

TODAY = date(2026, 11, 20)  # a Friday; everything that depends on "today" uses this


@pytest.fixture(autouse=True, scope="session")
def _proofs_of_our_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`record`'s proofs of checked entries (store.checked) in a folder of the test run's own,
    never the user's cache (children inherit it)."""
    key = "TEAMBOARD_CACHE"
    before = os.environ.get(key)
    os.environ[key] = str(tmp_path_factory.mktemp("proofs"))
    yield
    if before is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = before


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "team.json"


def seeded(path: Path) -> Store:
    """A store with one board, Line, and one KPI, Output (target 100)."""
    from store import ops

    store = Store(path)
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "Output", None, 100.0)
    return store


def fingerprint(path: Path) -> tuple[bytes, int, int, int, int, int]:
    """All that must not change when nothing may be written: the bytes, the inode, the time of
    the last change, the mode, the owner and the group (of the name itself: lstat)."""
    st = os.lstat(path)
    return path.read_bytes(), st.st_ino, st.st_mtime_ns, st.st_mode, st.st_uid, st.st_gid


@pytest.fixture
def demo_store(store_path: Path) -> Store:
    store = Store(store_path)
    build(store, TODAY)
    return store


# --- pictures: what the snapshot tests share --------------------------------------------------

SETTLE_S = 30  # a picture settles in about a second; a loaded 2-core machine takes more
LAST_CHANGE = {"who": "ana", "at": f"{TODAY.isoformat()}T07:40:00Z",
               "what": "recorded Customer complaints = 1"}  # fmt: skip


def freeze(path: Path, last_change: dict[str, str] = LAST_CHANGE) -> Path:
    """Fix the one field a store takes from the real clock and user (its last change), so a
    picture of it is the same on every run."""
    import orjson

    raw = orjson.loads(path.read_bytes())
    raw["meta"]["1"]["last_change"] = last_change
    path.write_bytes(orjson.dumps(raw))
    return path


@pytest.fixture
def frozen_demo(demo_store: Store) -> Path:
    """The demo store for pictures: built for TODAY, its last change fixed."""
    return freeze(demo_store.path)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Stored times are UTC and shown in local time: pin the local zone for pictures
    (`pytestmark = pytest.mark.usefixtures("utc")`)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def still(pilot: Pilot[Any], deadline: float) -> None:
    """Wait until two pictures 0.1 s apart are the same, or fail at `deadline` (monotonic).

    Some widgets finish after the data arrives: a DataTable sizes its columns on the next idle,
    and tables re-fill when their width is first known. A picture taken mid-way differs.
    """
    await pilot.wait_for_scheduled_animations()
    # Repaint every widget once. Without it the action table's header is sometimes left painted
    # with the widths it had before its rows were measured (narrow, misaligned with the rows)
    # until something repaints the table: a race in DataTable's idle-time sizing. The pictures
    # show what the board looks like after any repaint.
    for widget in pilot.app.screen.walk_children():
        widget.refresh()
    await pilot.pause()
    before = pilot.app.export_screenshot()
    while True:
        await pilot.pause(0.1)
        now = pilot.app.export_screenshot()
        if now == before:
            return
        assert time.monotonic() < deadline, "the screen kept changing"
        before = now


# --- the command line in this process -----------------------------------------------------


class CliRun:
    """`teamboard` (`tui.cli.main`) on one store with a frozen day; a call returns (exit code,
    stdout, stderr)."""

    def __init__(self, path: Path, capsys: pytest.CaptureFixture[str], today: date = TODAY):
        self.path = path
        self.capsys = capsys
        self.today = today

    def __call__(self, *argv: str, today: date | None = None) -> tuple[int, str, str]:
        from tui.cli import main

        self.capsys.readouterr()
        code = main(["--store", str(self.path), *argv], today=today or self.today)
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str, today: date | None = None) -> str:
        code, out, err = self(*argv, today=today)
        assert code == 0, err
        assert err == ""
        return out

    def json(self, *argv: str) -> Any:
        return json.loads(self.ok(*argv, "--json"))

    def bad(self, *argv: str) -> str:
        """Refused as bad input: exit 2, one line on stderr, nothing on stdout or in the file."""
        before = fingerprint(self.path)
        code, out, err = self(*argv)
        assert code == 2, (code, out, err)
        assert out == "" and err.count("\n") == 1 and err.startswith("teamboard: "), err
        assert "Traceback" not in err
        assert fingerprint(self.path) == before
        return err


# --- real processes, possibly as another user -------------------------------------------------

NOBODY = 65534  # uid and gid of "nobody"

# The interpreter lives under /root, which only root may enter: a child imports what it needs
# first, then becomes the other user (os.setres*id), so later imports cannot fail.
PRELUDE = """\
import json, os, sys, time
from datetime import date, datetime
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


def wait_for(what: str, ready: Callable[[], bool], deadline: float = 45.0) -> None:
    """Poll a condition of other processes until it holds; fail with `what` after `deadline` s."""
    end = time.monotonic() + deadline
    while not ready():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline:.0f} s waiting for {what}")
        time.sleep(0.005)


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


# --- the app under the Pilot -------------------------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    """anyio (a dependency of Textual) brings the pytest plugin that runs the Pilot tests."""
    return "asyncio"


NOON = datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0)


def clock() -> datetime:
    return NOON.astimezone()


def make_app(path: Path, **kw: object) -> TeamboardApp:
    return TeamboardApp(path, clock=clock, **kw)  # type: ignore[arg-type]


def tiles(app: TeamboardApp) -> list[KpiTile]:
    return list(app.screen.query(KpiTile))


def tile_text(tile: KpiTile) -> str:
    """Everything a tile's labels say, in order, as plain text."""
    return " | ".join(str(label.render()) for label in tile.query(Label))


def tile_named(app: TeamboardApp, name: str) -> KpiTile:
    for tile in tiles(app):
        if tile.view is not None and tile.view.kpi.name == name:
            return tile
    raise AssertionError(f"no tile for {name!r} on {app.board_title()}")


async def loaded(pilot: Pilot[int], app: TeamboardApp, count: int | None = None) -> None:
    """Wait for the first load and for the tiles of the current board."""
    await until(pilot, lambda: app.reloads >= 1, what="the first load")
    snap, board = app.snapshot, app.board_id
    assert snap is not None and board is not None
    want = len(snap.views(board, TODAY)) if count is None else count
    await until(pilot, lambda: len(tiles(app)) == want and all(t.children for t in tiles(app)),
                what=f"{want} tiles")
    await pilot.pause()


def screen_open(screen: Screen[Any], kind: type[S]) -> TypeGuard[S]:
    """`screen` is a `kind` that has composed its widgets and run its `on_mount`.

    `app.screen` names a pushed screen before that; a test that queried one of its widgets at
    once failed now and then under load (seen on CI: no `#save` on FormScreen).
    """
    return isinstance(screen, kind) and screen.is_mounted


# --- PostgreSQL (issue 14): one throwaway cluster per session, one fresh database per test ---


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """A throwaway PostgreSQL (tests/pg_cluster.py); skips, saying why, only without binaries."""
    from pg_cluster import NoServer, cluster

    try:
        with cluster() as c:
            yield c
    except NoServer as exc:
        print(f"\nPostgreSQL tests skipped: {exc}")
        pytest.skip(str(exc))


_pg_dbs = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(pg_cluster: object) -> str:
    """A DSN to a new, empty database on the session's cluster (no schema yet)."""
    import psycopg
    from pg_cluster import Cluster

    assert isinstance(pg_cluster, Cluster)
    name = f"tb{os.getpid()}_{next(_pg_dbs)}"
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_cluster.url(name)
