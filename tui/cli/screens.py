"""`init`, and the commands that open a screen: `show` (the default), `demo` and `huddle`.

The Textual app loads only here, inside `run_app`, so no other command pays for it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from store import ops, validate
from store.errors import BadInput, StoreError

from . import engines
from .base import WAIT_MAX, Ctx, Sub, as_of_opt, command
from .serve import register as register_serve


def _refuse_existing(path: Path) -> None:
    import stat

    if path.is_dir():
        raise StoreError(f"{path} is a folder: name the store file, e.g. {path / 'teamboard.json'}")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise StoreError(
            f"{path} is not a regular file (a device, pipe or socket): name a file for the store"
        )
    if path.read_bytes().strip():
        raise StoreError(
            f"{path} exists already; teamboard will not write over it. Name another file with "
            "--store PATH, or move this one away first"
        )


def cmd_init(ctx: Ctx) -> int:
    if not engines.is_file(ctx):
        return engines.init(ctx)
    path = ctx.store.path
    _refuse_existing(path)
    if ctx.args.demo:
        from store.demo import build

        build(ctx.store, ctx.today)
        ctx.print(f"created a demo store at {path}")
        ctx.print(f"see it with: teamboard {ctx.store_flag()}status --all   (or `show`)")
    else:
        ops.init(ctx.store)
        ctx.print(f"created an empty store at {path}")
        ctx.print(f"next: teamboard {ctx.store_flag()}board add NAME")
    return 0


def run_app(path: Path | str, board: str | None, **options: Any) -> int:
    """Run the app; a crash (Textual prints its traceback) exits 1, never 0."""
    from tui.app import TeamboardApp  # Textual loads only for the screens

    app = TeamboardApp(path, board, **options)
    app.run()
    code = app.return_code or 0
    if code:
        sys.stderr.write(
            f"teamboard: the board stopped on an error (exit {code}); what was saved is kept\n"
        )
    return int(code)


def _screen_board(ctx: Ctx) -> str | None:
    """Check the store opens and the board exists before the screen starts: one clear line.
    Only the boards are read (`read_boards`): the app reads the store itself at once."""
    snap = ctx.store.read_boards()
    board: str | None = ctx.args.board
    return snap.board_named(board).name if board else None


def cmd_show(ctx: Ctx) -> int:
    a = ctx.args
    rotate = validate.number(a.rotate, "--rotate") if a.rotate is not None else 0.0
    if not 0 <= rotate <= WAIT_MAX:
        raise BadInput("--rotate takes seconds from 0 (no rotation) to 86400 (a day)")
    board = _screen_board(ctx)
    return run_app(
        engines.app_store(ctx), board, wall=a.wall, rotate=rotate, poll=a.poll, **_past(ctx)
    )


def _past(ctx: Ctx) -> dict[str, Any]:
    """`as_of=DAY` for the app when --as-of was given (a read-only board of that day)."""
    day = ctx.as_of()
    return {} if day is None else {"as_of": day}


def cmd_huddle(ctx: Ctx) -> int:
    minutes = validate.whole(ctx.args.minutes, "--minutes", 1, 240)
    board = _screen_board(ctx)
    return run_app(engines.app_store(ctx), board, huddle=True, minutes=minutes, **_past(ctx))


def cmd_demo(ctx: Ctx) -> int:
    from store.demo import TEAM_BOARD, build

    if ctx.store_given and ctx.store.path.exists():
        path, board = ctx.store.path, None  # someone's store: show it as it is
    else:
        if ctx.store_given:
            path = ctx.store.path
        else:
            import tempfile

            path = Path(tempfile.mkdtemp(prefix="teamboard-demo-")) / "teamboard.json"
        build(ctx.open(path), ctx.today)
        board = TEAM_BOARD  # the demo's story (reds, a gate, a counter-metric) is on the team
    ctx.note(f"teamboard: demo store at {path}")
    return run_app(path, board, wall=ctx.args.wall)


def register(sub: Sub) -> None:
    c = command(sub, "init", "create an empty store (or --demo: one with sample data)", cmd_init)
    c.add_argument(
        "--demo", action="store_true", help="fill the new store with a demo department and team"
    )

    c = command(sub, "show", "open the live board (the default command)", cmd_show)
    c.add_argument(
        "board",
        nargs="?",
        metavar="BOARD",
        help="the board to show (default: the first top-level one)",
    )
    c.add_argument(
        "--wall", action="store_true", help="wall-monitor mode: big tiles, no input needed"
    )
    c.add_argument("--rotate", metavar="SECONDS", help="cycle through the boards every SECONDS")
    c.add_argument(
        "--poll", action="store_true", help="poll the file instead of inotify (network filesystems)"
    )
    as_of_opt(c)

    c = command(sub, "demo", "open the live board on a demo store in a temporary folder", cmd_demo)
    c.add_argument("--wall", action="store_true", help="wall-monitor mode")

    c = command(
        sub, "huddle", "run the daily huddle: red KPIs first, then actions, with a timer",
        cmd_huddle,
    )  # fmt: skip
    c.add_argument(
        "board",
        nargs="?",
        metavar="BOARD",
        help="the board to review (default: the first top-level one)",
    )
    c.add_argument(
        "--minutes", default="15", metavar="N", help="the time box in minutes (default 15)"
    )
    as_of_opt(c, "hold it on the board as it stood at the end of DATE (read-only: no minutes kept)")

    register_serve(sub)  # `teamboard serve`: the board in a browser (tui/cli/serve.py)
