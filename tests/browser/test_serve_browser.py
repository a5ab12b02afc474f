"""`teamboard serve` end to end, in a real headless Chromium (Debian's) driven by Playwright.

Each test starts the real command as its own process on a demo store and opens the page as a
TV would. The page's text is read from its terminal (`window.teamboard.text()`, the rows the
screen shows); every wait is on that text or the page's state, with a deadline, never a sleep.

They skip, saying why, only when Chromium or Playwright cannot be had; with
TEAMBOARD_BROWSER_TESTS=required (as `.ci/run` sets) they fail instead.
"""

from __future__ import annotations

import http.client
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from conftest import fingerprint, wait_for

from store import Store
from store.demo import TEAM_BOARD, build

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

TEAMBOARD = Path(sys.executable).with_name("teamboard")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
KPI = "On-time delivery"  # on the demo's first board
SHOWN_S = 45.0  # the first picture: Chromium and an app process starting on a loaded machine
BACK_S = 60.0  # a lost connection noticed (15 s of silence at most), backoff, a new session
TOKEN = "tv-token-0123456789abcdef"


def _unavailable(why: str) -> None:
    if os.environ.get("TEAMBOARD_BROWSER_TESTS") == "required":
        pytest.fail(f"browser tests required, but {why}")
    print(f"\nskipping the browser tests: {why}")
    pytest.skip(why)


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    return found or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright's Python package is missing (pip install -e '.[browser]')")
    chromium = chromium_path()
    if chromium is None:
        _unavailable("Debian's chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=FLAGS)
        yield b
        b.close()


class Server:
    """`teamboard serve` in a process of its own; its stdout is kept (and drained) as lines."""

    def __init__(self, store: Path, *args: str) -> None:
        self.store, self.args = store, list(args)
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self.url = ""

    def start(self, port: int = 0) -> Server:
        argv = [str(TEAMBOARD), "--store", str(self.store), "serve", "--port", str(port)]
        self.proc = subprocess.Popen(
            [*argv, *self.args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()
        while True:
            try:
                line = self.lines.get(timeout=60)
            except queue.Empty:
                raise AssertionError(f"no URL from teamboard serve: {self.log}") from None
            if found := re.search(r"http://\S+", line):
                self.url = found.group(0)
                return self

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.log.append(line)
            self.lines.put(line)

    @property
    def port(self) -> int:
        return int(urlsplit(self.url).port or 0)

    def base(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/"

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"teamboard serve ignored SIGTERM: {self.log}") from None
        self.proc = None
        assert code == 0, self.log


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "team.json"
    build(Store(path), date.today())  # the served app runs on the real clock
    return path


def apps_of(store: Path) -> list[int]:
    """The pids of the tabs' app processes serving `store` (none may outlive the server)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"tui.serve_child" in argv and str(store).encode() in argv:
            found.append(int(proc.name))
    return found


@pytest.fixture
def servers(store: Path) -> Iterator[list[Server]]:
    """The servers a test starts; each stopped as Ctrl+C would, with no app left behind."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()
    wait_for("the tabs' apps to end with the server", lambda: not apps_of(store), deadline=15)


def serve(servers: list[Server], store: Path, *args: str) -> Server:
    server = Server(store, *args).start()
    servers.append(server)
    return server


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    yield context.new_page()
    context.close()


def text(page: Page) -> str:
    return str(page.evaluate("() => window.teamboard ? window.teamboard.text() : ''"))


def wait_text(page: Page, wanted: str, seconds: float) -> None:
    """Wait until the page's screen shows `wanted`; fail with what it showed instead."""
    try:
        page.wait_for_function(
            "(t) => window.teamboard !== undefined && window.teamboard.text().includes(t)",
            arg=wanted, timeout=seconds * 1000,
        )  # fmt: skip
    except Exception as exc:
        shown = text(page)
        raise AssertionError(f"{wanted!r} not on the page after {seconds} s:\n{shown}") from exc


def open_board(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200
    wait_text(page, "Actions", SHOWN_S)


def record(store: Path, kpi: str, value: str) -> None:
    done = subprocess.run(
        [str(TEAMBOARD), "--store", str(store), "record", kpi, value],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def handshake(port: int, path: str, origin: str | None = None) -> int:
    """The status a websocket handshake to `path` gets (101: let in)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }  # fmt: skip
    if origin is not None:
        headers["Origin"] = origin
    conn.request("GET", path, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


# --- the tests -------------------------------------------------------------------------------


def test_the_board_shows_and_every_request_stays_on_the_server(
    page: Page, store: Path, servers: list[Server], tmp_path: Path
) -> None:
    server = serve(servers, store)
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("websocket", lambda ws: requests.append(ws.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    open_board(page, server.url)
    wait_text(page, KPI, 5)
    page.screenshot(path=str(tmp_path / "served.png"))
    origin = f"127.0.0.1:{server.port}"
    assert requests, "no request seen"
    strays = [u for u in requests if urlsplit(u).netloc != origin]
    assert strays == [], strays  # no web font, no CDN: a shop floor may have no internet
    assert any("/ws" in u for u in requests) and any(".ttf" in u for u in requests)
    assert errors == []  # nothing blocked by the page's Content-Security-Policy either


def test_a_write_from_the_command_line_shows_within_a_second(
    page: Page, store: Path, servers: list[Server]
) -> None:
    server = serve(servers, store)
    open_board(page, server.url)
    wait_text(page, KPI, 5)
    assert "97.5" not in text(page)
    record(store, KPI, "97.5")
    wait_text(page, "97.5", 1.0)


def test_the_page_comes_back_by_itself_after_the_server_restarts(
    page: Page, store: Path, servers: list[Server]
) -> None:
    server = serve(servers, store)
    open_board(page, server.url)
    port = server.port
    assert apps_of(store)
    server.stop()
    wait_for("the tab's app to end with the server", lambda: not apps_of(store), deadline=15)
    page.wait_for_function("() => document.body.classList.contains('-lost')", timeout=30_000)
    record(store, KPI, "91.25")  # written while the board was away: the new session shows it
    servers.append(server.start(port))
    wait_text(page, "91.25", BACK_S)
    assert page.evaluate("() => document.body.classList.contains('-lost')") is False
    assert page.evaluate("() => window.teamboard.session.socket.readyState") == 1


def test_a_server_killed_outright_leaves_no_app_behind(
    page: Page, store: Path, servers: list[Server]
) -> None:
    """SIGKILL gives the server no time to end its tabs' apps: they end themselves."""
    server = serve(servers, store)
    open_board(page, server.url)
    assert apps_of(store)
    assert server.proc is not None
    server.proc.kill()
    server.proc.wait()
    server.proc = None
    wait_for("the tab's app to end with its server", lambda: not apps_of(store), deadline=15)


def test_a_silent_connection_counts_as_lost_and_comes_back(
    page: Page, store: Path, servers: list[Server]
) -> None:
    """A network blip: nothing closes, nothing arrives. The page notices and reconnects."""
    server = serve(servers, store)
    open_board(page, server.url)
    page.context.set_offline(True)
    page.wait_for_function("() => document.body.classList.contains('-lost')", timeout=40_000)
    assert "reconnecting" in page.inner_text("#tb-status").lower()
    record(store, KPI, "92.75")
    page.context.set_offline(False)
    wait_text(page, "92.75", BACK_S)


def test_beyond_loopback_a_wrong_or_missing_token_is_refused(
    page: Page, store: Path, servers: list[Server]
) -> None:
    server = serve(servers, store, "--host", "0.0.0.0", "--token", TOKEN)
    base = server.base()
    for url in (base, f"{base}?token=wrong-token-0123456789", f"{base}?token={TOKEN}x"):
        response = page.goto(url)
        assert response is not None and response.status == 403, url
        assert "token" in page.inner_text("body")
    for path in ("/ws", "/ws/wrong-token-0123456789", "/health", "/tb/teamboard.js"):
        status = handshake(server.port, path)
        assert status == 403, (path, status)
    assert handshake(server.port, f"/ws/{TOKEN}", origin="http://evil.example") == 403
    assert handshake(server.port, f"/ws/{TOKEN}") == 101
    open_board(page, f"{base}?token={TOKEN}")
    assert any("refused" in line for line in server.log)


def test_a_token_is_made_up_and_printed_when_none_is_given(
    page: Page, store: Path, servers: list[Server]
) -> None:
    server = serve(servers, store, "--host", "0.0.0.0")
    token = re.search(r"\?token=([\w.~-]+)", server.url)
    assert token is not None and len(token.group(1)) >= 16, server.url
    response = page.goto(server.base())
    assert response is not None and response.status == 403
    open_board(page, f"{server.base()}?token={token.group(1)}")


def test_on_loopback_a_page_reached_by_another_name_is_refused(
    page: Page, store: Path, servers: list[Server]
) -> None:
    """DNS rebinding: a web site's name pointed at 127.0.0.1 must not reach the board."""
    server = serve(servers, store)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/", headers={"Host": f"evil.example:{server.port}"})
    assert conn.getresponse().status == 403
    conn.close()
    assert handshake(server.port, "/ws", origin="http://evil.example") == 403
    open_board(page, server.base("localhost"))


def test_read_only_refuses_a_write_key_and_writes_nothing(
    page: Page, store: Path, servers: list[Server]
) -> None:
    server = serve(servers, store)
    open_board(page, server.url)
    before = fingerprint(store)
    page.focus(".xterm-helper-textarea")
    page.keyboard.press("r")
    wait_text(page, "read-only: served read-only", 10)
    assert "Date (YYYY-MM-DD" not in text(page)  # no form opened
    assert fingerprint(store) == before


def test_allow_edits_lets_the_browser_record(
    page: Page, store: Path, servers: list[Server]
) -> None:
    server = serve(servers, store, "--allow-edits")
    open_board(page, server.url)
    page.focus(".xterm-helper-textarea")
    page.keyboard.press("r")
    wait_text(page, "Date (YYYY-MM-DD", 10)
    page.keyboard.type("88.8")
    page.keyboard.press("Enter")
    wait_text(page, "88.8 ", 10)

    def recorded() -> bool:
        snap = Store(store).read()
        return any(e.value == 88.8 for entries in snap.entries.values() for e in entries)

    wait_for("88.8 in the store", recorded, deadline=10)


def test_wall_and_board_are_those_of_the_terminal(
    page: Page, store: Path, servers: list[Server]
) -> None:
    server = serve(servers, store, "--wall", "--board", TEAM_BOARD.lower(), "--rotate", "2")
    open_board(page, server.url)
    # The demo's tree: Operations, Assembly, Line 2 Assembly, Line 3 Assembly.
    wait_text(page, f"{TEAM_BOARD}  (board 3 of 4)", 5)
    assert "palette" not in text(page)  # the wall has no footer
    wait_text(page, "(board 4 of 4)", 10)  # and it rotates
