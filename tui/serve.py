"""The web server behind `teamboard serve`: textual-serve's, with a door and a page of our own.

textual-serve runs one app process per browser tab and pipes it to xterm.js over a websocket.
What it lacks for a TV on a shop floor, this adds:

- a door: with a token, every request (the page, its files, the websocket) must carry it, else
  403; compared in constant time. Without one (loopback), the Host must name this machine, so a
  web page elsewhere cannot reach the board through DNS rebinding; and a websocket from a page of
  another origin is refused either way (a web page may open a websocket anywhere).
- a page (tui/serve_page/) that needs nothing from the internet (the font is textual-serve's
  own copy, served from here) and reconnects by itself, with backoff, after a network blip or a
  restart, where textual-serve's says "Session ended" and waits for a click.
- a cap on the app processes (one per tab, ~45 MB each), and a line per session on stdout.

The app itself is `python -m tui.serve_child`, which the CLI's checks have already vouched for.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import ipaddress
import logging
import os
import shlex
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from socket import socket

from aiohttp import WSMsgType, web
from aiohttp.web_runner import GracefulExit
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int
from yarl import URL

PAGE = Path(__file__).with_name("serve_page")
MAX_SESSIONS = 16  # app processes at once; a TV needs one
SHUTDOWN_S = 3.0
END_S = 3.0  # a tab's app given this long to quit before it is killed
# The one change to textual-serve's client: hand its terminal session to our page script
# (tui/serve_page/teamboard.js), which watches the connection and reads the screen's text.
JS_HOOK = "this.terminal.open(e),"
JS_HOOKED = JS_HOOK + (
    'window.dispatchEvent(new CustomEvent("textual-session",{detail:this})),'
)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token stays in this site's own URLs
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}

STORE_ENV = "TEAMBOARD_SERVE_STORE"  # a database's URL, for each tab's app


@dataclass(frozen=True)
class Served:
    """What each browser tab's app shows, as `teamboard show` would take it."""

    store: Path | str  # a file's path, or a database's URL (given to the apps by environment)
    board: str | None = None
    wall: bool = False
    rotate: float = 0.0
    poll: bool = False
    read_only: str | None = None

    def command(self) -> str:
        """The shell command textual-serve runs per tab (every part quoted); `exec`, so the app
        is the server's own child, which it can end, and which ends with it."""
        from store import pg

        if isinstance(self.store, str) and pg.is_url(self.store):
            # Not on the command line, where `ps` shows every user its password: the tab's app
            # finds it in its environment (textual-serve passes the server's on; only this user
            # can read a process's environment).
            os.environ[STORE_ENV] = self.store
            argv = [sys.executable, "-m", "tui.serve_child", "--store-from-env"]
        else:
            argv = [sys.executable, "-m", "tui.serve_child", "--store", str(self.store)]
        argv += ["--parent", str(os.getpid())]
        if self.board is not None:
            argv += ["--board", self.board]
        if self.wall:
            argv.append("--wall")
        if self.rotate:
            argv += ["--rotate", repr(self.rotate)]
        if self.poll:
            argv.append("--poll")
        if self.read_only is not None:
            argv += ["--read-only", self.read_only]
        return "exec " + shlex.join(argv)


def hooked_client(statics: Path) -> bytes:
    """textual-serve's textual.js with our hook; refuses a version it does not recognise."""
    text = (statics / "js" / "textual.js").read_text(encoding="utf-8")
    if text.count(JS_HOOK) != 1:
        raise RuntimeError(
            "this textual-serve's textual.js is not the one teamboard knows (the pinned version "
            "in pyproject.toml): reinstall teamboard"
        )
    return text.replace(JS_HOOK, JS_HOOKED).encode("utf-8")


def same_token(given: str, token: str) -> bool:
    return hmac.compare_digest(
        given.encode("utf-8", "replace"), token.encode("utf-8", "replace")
    )


class BoardServer(Server):
    """textual-serve's server, with the door, the page and the cap described above."""

    def __init__(
        self, served: Served, token: str | None, say: Callable[[str], None] = print
    ) -> None:
        super().__init__(served.command(), title="teamboard")
        self.served = served
        self.token = token
        self.say = say
        self.sessions: set[web.WebSocketResponse] = set()
        self.services: set[AppService] = set()
        self.page = (PAGE / "index.html").read_text(encoding="utf-8")
        self.client = hooked_client(self.statics_path)

    # --- the door ------------------------------------------------------------------------

    def refusal(self, request: web.Request) -> str | None:
        """Why this request may not in (None: it may)."""
        if self.token is not None:
            given = request.match_info.get("token") or request.query.get("token", "")
            if not same_token(given, self.token):
                what = "a wrong token" if given else "no token"
                return (
                    f"This board needs the token from `teamboard serve`'s URL "
                    f"(…/?token=…); the address had {what}."
                )
        elif not loopback(request.url.host or ""):
            return (
                "This board is served to its own machine only (127.0.0.1). To show it "
                "elsewhere, run `teamboard serve --host 0.0.0.0` and open the URL it prints."
            )
        # A websocket's Origin must be this host (only the host: behind a proxy that adds TLS,
        # the page's port is not ours).
        origin = request.headers.get("Origin")
        if (
            request.path.startswith("/ws")
            and origin is not None
            and (URL(origin).host or "").lower() != (request.url.host or "").lower()
        ):
            return "A websocket from another site's page is refused."
        return None

    @web.middleware
    async def door(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        why = self.refusal(request)
        if why is not None:
            path = "/ws/…" if request.path.startswith("/ws/") else request.path  # no token
            self.say(f"{stamp()} refused {request.remote} {path}: {why}")
            return web.Response(status=403, text=f"teamboard: {why}\n", headers=HEADERS)
        response = await handler(request)
        if not isinstance(response, web.WebSocketResponse):
            for key, value in HEADERS.items():
                response.headers.setdefault(key, value)
        return response

    # --- routes --------------------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.door])
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/health", self.handle_health),
                web.get("/ws", self.handle_websocket),
                web.get("/ws/{token}", self.handle_websocket),
                web.get("/tb/textual.js", self.handle_client),
                web.static("/tb", PAGE, name="page"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def handle_index(self, request: web.Request) -> web.Response:  # type: ignore[override]
        """The page, its files' URLs carrying the token (the door checked it is ours)."""
        query = f"?token={self.token}" if self.token else ""
        page = self.page.replace("{{Q}}", html.escape(query))
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def handle_client(self, request: web.Request) -> web.Response:
        return web.Response(body=self.client, content_type="text/javascript", charset="utf-8")

    async def handle_health(self, request: web.Request) -> web.Response:
        """What the page polls before it reloads: up, and the token still right."""
        return web.json_response({"ok": True, "sessions": len(self.sessions)})

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One app process for this tab, for as long as its websocket lives."""
        if len(self.sessions) >= MAX_SESSIONS:
            self.say(f"{stamp()} refused {request.remote}: {MAX_SESSIONS} sessions open already")
            raise web.HTTPServiceUnavailable(text=f"teamboard: {MAX_SESSIONS} tabs at most\n")
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)
        self.sessions.add(websocket)
        self.say(f"{stamp()} {request.remote} opened a board ({len(self.sessions)} open)")
        async def close() -> None:
            await websocket.close()

        service = AppService(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=close,
            download_manager=self.download_manager,
        )
        self.services.add(service)
        try:
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except (asyncio.CancelledError, ConnectionResetError):
            pass
        finally:
            await end(service)
            self.services.discard(service)
            self.sessions.discard(websocket)
            await websocket.close()
            self.say(f"{stamp()} {request.remote} left ({len(self.sessions)} open)")
        return websocket

    async def _process_messages(self, websocket: web.WebSocketResponse, app: AppService) -> None:
        """textual-serve's, minus its assert: a malformed message is dropped, not a crash."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                kind, *rest = message.json()
                data = rest[0] if rest else None
                if kind == "stdin" and isinstance(data, str):
                    await app.send_bytes(data.encode("utf-8", "replace"))
                elif kind == "resize" and isinstance(data, dict):
                    w, h = int(data["width"]), int(data["height"])
                    await app.set_terminal_size(max(1, min(w, 1000)), max(1, min(h, 500)))
                elif kind == "ping":
                    await websocket.send_json(["pong", data])
                elif kind == "blur":
                    await app.blur()
                elif kind == "focus":
                    await app.focus()
            except (ValueError, TypeError, KeyError):
                continue

    async def on_shutdown(self, app: web.Application) -> None:
        """End every tab's app process (none is left behind) and close its websocket; the
        pages reconnect to whatever serves next."""
        await asyncio.gather(*(end(s) for s in list(self.services)), return_exceptions=True)
        for websocket in list(self.sessions):
            await websocket.close(code=1012, message=b"teamboard restarting")


async def end(service: AppService) -> None:
    """Ask a tab's app to quit; kill it if it has not within END_S seconds."""
    process = service._process  # textual-serve keeps it private; pinned version
    with contextlib.suppress(Exception):
        await service.send_meta({"type": "quit"})
    if process is None or process.returncode is not None:
        return
    try:
        await asyncio.wait_for(process.wait(), END_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


def loopback(host: str) -> bool:
    """Is `host` (an address or a name, from a Host header) one only this machine reaches?"""
    name = host.strip("[]").lower()
    if name in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def stamp() -> str:
    return time.strftime("%H:%M:%S")


def serve(sock: socket, served: Served, token: str | None, log: Callable[[str], None]) -> int:
    """Serve on the bound socket until SIGINT or SIGTERM; 0 when stopped that way."""
    logging.basicConfig(level=logging.WARNING, format="teamboard serve: %(message)s")
    server = BoardServer(served, token, log)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def stop() -> None:
        raise GracefulExit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        web.run_app(
            server._make_app(),
            sock=sock,
            handle_signals=False,
            loop=loop,
            print=None,
            shutdown_timeout=SHUTDOWN_S,
            access_log=None,
        )
    finally:
        with contextlib.suppress(Exception):
            loop.close()
    log(f"{stamp()} teamboard serve stopped")
    return 0
