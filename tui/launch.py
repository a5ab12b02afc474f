"""The `teamboard` console script: a plain `teamboard record ...` starts lean, everything else
goes to the full command line (`tui.cli.main`).

A record over SSH is mostly start-up. This module imports nothing but `sys` until it knows the
command line is a `record` it reads exactly as argparse would (the options spelled out, one
value each, nothing argparse would take for an option where a value goes); then
`tui.lean.record` runs it without argparse and the other commands' modules. Anything else,
`--help`, an abbreviation, `--store=PATH`, a repeated option, a missing argument or a
PostgreSQL store, goes to `tui.cli` untouched, which answers (and words its errors) as it
always has.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # `typing` costs a record's start-up milliseconds
if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime


_GLOBAL = {"--store": "store", "--wait": "wait"}  # before the command, as argparse takes them
_RECORD = {"--board": "board", "--date": "date", "--plan": "plan", "--note": "note"}


def plain_record(argv: Sequence[str]) -> dict[str, str] | None:
    """The arguments of a `record` command line, keyed `store`, `wait`, `kpi`, `value`,
    `board`, `date`, `plan`, `note` (those given); None when it is anything else, or anything
    this reading might take differently from argparse."""
    got: dict[str, str] = {}
    negative = None

    def value(token: str) -> bool:
        """Does argparse take `token` as a value (not as an option)?"""
        nonlocal negative
        if not token.startswith("-"):
            return True
        if negative is None:
            import re

            from tui.argvalues import NEGATIVE_NUMBER

            negative = re.compile(NEGATIVE_NUMBER, re.ASCII | re.IGNORECASE)
        return negative.match(token) is not None

    i, n = 0, len(argv)
    while i < n and argv[i] in _GLOBAL:
        key = _GLOBAL[argv[i]]
        if key in got or i + 1 >= n or not value(argv[i + 1]):
            return None
        got[key] = argv[i + 1]
        i += 2
    if i >= n or argv[i] != "record":
        return None
    i += 1
    positional = ("kpi", "value")
    p = 0
    while i < n:
        token = argv[i]
        if not value(token):
            option = _RECORD.get(token)
            if option is None or option in got or i + 1 >= n or not value(argv[i + 1]):
                return None
            got[option] = argv[i + 1]
            i += 2
        else:
            if p == len(positional):
                return None
            got[positional[p]] = token
            p += 1
            i += 1
    return got if p == len(positional) else None


def main(argv: Sequence[str] | None = None, now: datetime | None = None) -> int:
    """Run one command; returns the exit code (the console script exits with it). `now`
    freezes the clock (the tests)."""
    args = plain_record(sys.argv[1:] if argv is None else argv)
    if args is not None:
        code = lean_record(args, now)
        if code is not None:
            return code
        from tui.lean import record

        code = record(args, now)
        if code is not None:
            return code
    from tui.cli import main as full

    return full(argv, now=now)


def lean_record(args: dict[str, str], now: datetime | None = None) -> int | None:
    """The record by `store.quick`, the lean core, when it vouches for writing what the full
    path would; None when the full path must take it (nothing was written then). An error of
    the lock or the write is worded as the full path words it (`tui.lean.Guard`)."""
    from store.quick import record

    try:
        return record(args, now)
    except Exception as exc:
        caught: BaseException = exc
    except KeyboardInterrupt as exc:
        caught = exc
    from tui.lean import Guard

    guard = Guard()
    guard.store = args.get("store")

    def body() -> int:
        raise caught

    return guard.run(body, sys.stdout, sys.stderr)


__all__ = ["lean_record", "main", "plain_record"]
