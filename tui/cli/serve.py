"""`teamboard serve`: the live board in a browser, for a TV on the wall.

Everything a person can get wrong is checked here, before anything starts, each in one line:
the port, the host (bound here, so "in use" and "not an address of this machine" are caught
first), the token, the board. The web server (aiohttp, textual-serve) loads only after that,
inside the handler, so no other command pays for it.

Bound to loopback (the default), the board is for this machine. Bound to any other address it
needs a token in the URL (given, from $TEAMBOARD_SERVE_TOKEN, or made up and printed), or every
request, the page and its websocket alike, is refused.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from store import validate
from store.errors import BadInput, StoreError

from .base import WAIT_MAX, Ctx, Sub, command

if TYPE_CHECKING:
    import socket  # at run time only inside `serve`: every other command starts faster

DEFAULT_PORT = 8000
TOKEN_ENV = "TEAMBOARD_SERVE_TOKEN"
TOKEN_RE = re.compile(r"[A-Za-z0-9._~-]{16,128}")  # what a URL carries without escaping
READ_ONLY = "served read-only"


@dataclass(frozen=True)
class Bound:
    """A listening socket and what a person types to reach it."""

    sock: socket.socket
    host: str  # as it goes in a URL (an IPv6 address in brackets)
    port: int
    loopback: bool


def bind(host: str, port: int) -> Bound:
    """Bind and listen now, so a bad host or a busy port is one line before anything starts."""
    import ipaddress
    import socket
    if not host or "\0" in host:
        raise BadInput("--host needs an address or a name, e.g. 127.0.0.1, 0.0.0.0 or ::")
    try:
        found = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError):
        raise BadInput(
            f"--host {validate.printable(host)!r} is not an address or a name this machine "
            "knows: give one of its addresses, 127.0.0.1 (this machine only) or 0.0.0.0 (all)"
        ) from None
    family, kind, proto, _, address = found[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise _bind_error(exc, host, port) from None
    ip = str(address[0])
    bound_port = int(sock.getsockname()[1])
    shown = f"[{ip}]" if family == socket.AF_INET6 else ip
    return Bound(sock, shown, bound_port, ipaddress.ip_address(ip).is_loopback)


def _bind_error(exc: OSError, host: str, port: int) -> StoreError:
    import errno
    if exc.errno == errno.EADDRINUSE:
        return StoreError(
            f"port {port} on {host} is in use by another program: pick another with --port "
            "(or --port 0 for any free one)"
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return StoreError(f"port {port} needs more rights than yours: use --port 1024 or above")
    if exc.errno == errno.EADDRNOTAVAIL:
        return BadInput(
            f"--host {validate.printable(host)!r} is not an address of this machine: give one "
            "of its own, 127.0.0.1 (this machine only) or 0.0.0.0 (all)"
        )
    return StoreError(f"cannot listen on {host} port {port}: {exc.strerror or exc}")


def token_of(given: str | None) -> str | None:
    """The token from --token or $TEAMBOARD_SERVE_TOKEN (kept out of `ps` that way), checked."""
    source = "--token"
    if given is None:
        given, source = os.environ.get(TOKEN_ENV) or None, f"${TOKEN_ENV}"
    if given is None:
        return None
    if not TOKEN_RE.fullmatch(given):
        raise BadInput(
            f"{source} must be 16 to 128 letters, digits or . _ ~ - (it goes in a URL): "
            "leave it out and teamboard makes one up"
        )
    return given


def url(bound: Bound, token: str | None) -> str:
    import socket

    host = bound.host
    if host in ("0.0.0.0", "[::]"):  # every address: name the machine, as a TV would reach it
        host = socket.gethostname()
    return f"http://{host}:{bound.port}/" + (f"?token={token}" if token else "")


def cmd_serve(ctx: Ctx) -> int:
    from store.scope import Scope

    from .engines import app_store

    a = ctx.args
    port = validate.whole(a.port, "--port", 0, 65535)
    rotate = validate.number(a.rotate, "--rotate") if a.rotate is not None else 0.0
    if not 0 <= rotate <= WAIT_MAX:
        raise BadInput("--rotate takes seconds from 0 (no rotation) to 86400 (a day)")
    token = token_of(a.token)
    # The store opens, and the board exists, before anything listens (a database: its boards).
    snap = ctx.store.read(scope=Scope.of(()))
    board = snap.board_named(a.board).name if a.board else None
    bound = bind(a.host, port)
    if token is None and not bound.loopback:
        import secrets

        token = secrets.token_urlsafe(18)
    mode = "with edits allowed" if a.allow_edits else "read-only"
    reach = "this machine only" if bound.loopback else "anyone with the token"
    ctx.print(f"teamboard: serving {ctx.store} {mode} to {reach} at")
    ctx.print(f"  {url(bound, token)}")
    ctx.print("open it in a browser (fontsize=N in its query scales the text); Ctrl+C stops")
    ctx.out.flush()

    from tui.serve import Served, serve  # aiohttp and textual-serve load only here

    served = Served(
        store=app_store(ctx),
        board=board,
        wall=a.wall,
        rotate=rotate,
        poll=a.poll,
        read_only=None if a.allow_edits else READ_ONLY,
    )
    def say(line: str) -> None:
        ctx.print(line)
        ctx.out.flush()  # each event as it happens, also into a pipe or a journal

    return serve(bound.sock, served, token, log=say)


def register(sub: Sub) -> None:
    c = command(
        sub, "serve",
        "put the live board in a browser, for a TV (read-only unless --allow-edits)",
        cmd_serve,
    )  # fmt: skip
    c.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: all, "
        "which needs a token)",
    )
    c.add_argument(
        "--port", default=str(DEFAULT_PORT), metavar="P",
        help=f"the port (default {DEFAULT_PORT}; 0: any free one)",
    )  # fmt: skip
    c.add_argument("--board", metavar="BOARD", help="the board to show (default: the first)")
    c.add_argument("--wall", action="store_true", help="wall-monitor mode: big tiles, no footer")
    c.add_argument("--rotate", metavar="SECONDS", help="cycle through the boards every SECONDS")
    c.add_argument(
        "--poll", action="store_true", help="poll the file instead of inotify (network filesystems)"
    )
    c.add_argument(
        "--allow-edits",
        action="store_true",
        help="let the browser record values and move actions (default: read-only)",
    )
    c.add_argument(
        "--token",
        metavar="T",
        help=f"the token the URL must carry (default: ${TOKEN_ENV}, else one made up when "
        "the host is not loopback); 16+ letters, digits or . _ ~ -",
    )
