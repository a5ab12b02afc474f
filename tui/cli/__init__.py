"""The `teamboard` command line: record actuals, manage boards, KPIs and actions, and ask
"are we winning or losing?" from any shell, in a blink.

One module per noun (`boards`, `kpis`, `entries`, `estimating`, `actions`, `status`,
`transfer`, `screens`), each declaring its commands and their arguments in `register(sub)` next
to the handlers they feed; `base` holds what they share and `output` the terminal side (colour,
tables, JSON). How values read is `store.present`'s, the same as on the board.

Imports only `store/` and the stdlib at start-up, never Textual (CI checks it). The screens
(`show`, `demo`, `huddle`) import the app lazily, and commands import what only they need
(csv, json, tempfile) inside.

Exit codes: 0 ok, 1 the store cannot be used (missing, broken, read-only, busy after --wait), 2
bad usage or bad input (nothing written), 70 a bug (one line, no traceback), 130 interrupted.
Every value people type is parsed by `store.validate`, the same as in the app's forms.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime

from tui.lean import Guard
from tui.lean import error_line as error_line

from . import (
    access,
    actions,
    boards,
    calendar,
    entries,
    estimating,
    goals,
    kpis,
    migrate,
    screens,
    status,
    transfer,
    tree,
)  # fmt: skip
from .base import WAIT_DEFAULT, WAIT_ENV, Ctx, Parser

EPILOG = """\
examples:
  teamboard init --demo                     a store with sample data, to try things
  teamboard record OEE 78.5 --date yesterday --note "filler jammed twice"
  teamboard --store /srv/team/board.json status --all

dates: YYYY-MM-DD, today, yesterday, -N (N days ago) or +N (N days ahead).
numbers: 78.5, -3, 1e3 (a point for decimals, no thousands separators).
clearing: an empty value clears an optional field, e.g. --owner "".
store: --store PATH, else $TEAMBOARD_STORE, else teamboard.json in your data folder;
  a postgresql://HOST/DATABASE URL there selects PostgreSQL (pip install 'teamboard[pg]').
exit codes: 0 ok, 1 store unusable (missing, broken, read-only, busy after --wait),
2 bad usage or input.
Without a command, teamboard opens the live board (`show`)."""

# The nouns in the order `teamboard --help` lists them.
NOUNS = (
    screens, boards, kpis, entries, estimating, actions, status, calendar, transfer, goals, tree,
    migrate, access,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="teamboard",
        description="A live team KPI board in the terminal: are we winning or losing?",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--store",
        metavar="PATH",
        help="the store file (default: $TEAMBOARD_STORE or your data folder)",
    )
    p.add_argument(
        "--wait",
        metavar="SECONDS",
        help=f"how long a change waits for another writer's lock before giving up "
        f"(default: ${WAIT_ENV} or {WAIT_DEFAULT:.0f})",
    )
    p.set_defaults(func=screens.cmd_show, board=None, wall=False, rotate=None, poll=False)
    sub = p.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    for noun in NOUNS:
        noun.register(sub)
    return p


def main(
    argv: Sequence[str] | None = None, today: date | None = None, now: datetime | None = None
) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    out, err = sys.stdout, sys.stderr
    guard = Guard()

    def body() -> int:
        nonlocal now
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help (0) or a usage error (2)
            return exc.code if isinstance(exc.code, int) else 2
        guard.store = args.store
        if now is None and today is None:
            now = datetime.now()
        ctx = Ctx(args, today or (now.date() if now else date.today()), out, err, now)
        code = int(args.func(ctx))
        out.flush()
        return code

    return guard.run(body, out, err)


__all__ = ["Ctx", "build_parser", "error_line", "main"]
