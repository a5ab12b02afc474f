"""`teamboard serve` on PostgreSQL: each tab's app opens the database (its URL passed in the
environment, never on a command line `ps` shows), read-only unless --allow-edits; the server
itself starts, says what it serves (no password), and serves the page."""

from __future__ import annotations

import http.client
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import TODAY, clock, loaded, until

from store import ops
from store.errors import StoreReadOnly
from store.pg import open_store
from store.pg.engine import PgStore
from tui import serve_child
from tui.cli.serve import READ_ONLY
from tui.serve import STORE_ENV, Served

pytestmark = pytest.mark.anyio
TEAMBOARD = Path(sys.executable).with_name("teamboard")


def seeded(url: str) -> None:
    s = open_store(url)
    ops.init(s)
    ops.add_board(s, "Line 3")
    ops.add_kpi(s, "OEE", board="Line 3", target=85.0)


def tab_argv(served: Served) -> list[str]:
    """The arguments textual-serve's shell gives each tab's app (after `python -m ...`)."""
    argv = shlex.split(served.command().removeprefix("exec "))
    assert argv[1:3] == ["-m", "tui.serve_child"]
    rest = argv[3:]
    at = rest.index("--parent")
    return rest[:at] + rest[at + 2 :]  # this test process is no server to end with


@pytest.mark.parametrize("edits", [False, True])
async def test_a_tab_opens_the_database(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, edits: bool
) -> None:
    seeded(pg_url)
    monkeypatch.setenv(STORE_ENV, "")  # restored afterwards: `command()` sets it
    served = Served(store=pg_url, board="Line 3", read_only=None if edits else READ_ONLY)
    argv = tab_argv(served)
    assert pg_url not in served.command() and "--store-from-env" in argv
    app = serve_child.app_of(argv)
    app.clock = clock
    assert isinstance(app.store, PgStore) and app.store.url == pg_url
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 1)
        if edits:
            assert app.read_only is None
            ops.record(app.store, "OEE", 80.0, TODAY, TODAY)
        else:
            assert app.read_only == READ_ONLY
            with pytest.raises(StoreReadOnly, match="served read-only"):
                ops.record(app.store, "OEE", 80.0, TODAY, TODAY)
            await pilot.press("r")  # the record key refuses before any form opens

            def refused() -> bool:
                return any("read-only" in str(n.message) for n in app._notifications)

            await until(pilot, refused, what="the refusal")
    assert bool(open_store(pg_url).read().entries) is edits


def test_the_server_starts_on_a_database(pg_url: str) -> None:
    seeded(pg_url)
    secret = re.sub(r"postgresql://postgres@", "postgresql://postgres:hush@", pg_url)
    proc = subprocess.Popen(
        [str(TEAMBOARD), "--store", secret, "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        head = [proc.stdout.readline() for _ in range(2)]
        assert "serving postgresql://postgres:***@" in head[0] and "read-only" in head[0], head
        assert "hush" not in "".join(head)
        url = re.search(r"http://\S+", head[1])
        assert url is not None, head
        conn = http.client.HTTPConnection("127.0.0.1", urlsplit(url.group(0)).port, timeout=30)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
