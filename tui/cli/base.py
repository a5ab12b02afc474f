"""What every command module shares: the context a handler gets, the parsers of the values
people type, and the helpers that declare a command's arguments.

A noun module (`boards.py`, `kpis.py`, ...) defines `register(sub)`, which declares its commands
with `command` (or `group`, for `teamboard board ...`) and their arguments, next to the
handlers they feed. A handler takes a `Ctx` and returns the exit code.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TextIO, TypeVar

from store import pg, validate
from store.db import ENV, Store, default_path
from store.errors import BadInput
from store.model import Direction, Frequency, Kind, Stage
from store.scope import Scope
from store.snapshot import Snapshot
from tui.lean import NEGATIVE_NUMBER, wait_seconds
from tui.lean import WAIT_DEFAULT as WAIT_DEFAULT
from tui.lean import WAIT_ENV as WAIT_ENV
from tui.lean import WAIT_MAX as WAIT_MAX
from tui.lean import quote as quote
from tui.lean import store_flag as store_flag

from . import output
from .output import Painter

# What people type to find a board or KPI (checked for UTF-8 and NFC-normalised, as names are).
_REFS = {"kpi": "KPI name", "board": "board name", "parent": "--parent", "counter": "--counter"}
CLEAR = ""  # the one way to clear an optional field: an empty value (`--owner ""`)

E = TypeVar("E", Direction, Frequency, Kind, Stage)


class Ctx:
    """What every command gets: its arguments, the store, today, and where and how to print."""

    def __init__(
        self,
        args: argparse.Namespace,
        today: date,
        out: TextIO,
        err: TextIO,
        now: datetime | None = None,
    ) -> None:
        self.args = args
        self.today = today
        # The instant lateness counts to: the real clock, or the end of a frozen `today`.
        self.now = now if now is not None else datetime.combine(today, datetime.max.time())
        self.out = out
        self.err = err
        self.paint = Painter(output.use_colour(out))
        for key, what in _REFS.items():
            value = getattr(args, key, None)
            if isinstance(value, str):
                setattr(args, key, validate.ref(value, what))
        self.store_given = args.store is not None
        if self.store_given and "\0" in args.store:
            raise BadInput("--store PATH contains a NUL character: name a file")
        self.lock_timeout = _wait(args.wait)
        named = args.store if self.store_given else os.environ.get(ENV)
        if pg.is_url(named):  # PostgreSQL (issue 14): the driver loads only now
            assert named is not None
            self.store = pg.open_store(named, self.waiting, self.lock_timeout)
        else:
            self.store = self.open(Path(args.store) if self.store_given else default_path())

    def open(self, path: Path) -> Store:
        """A store that tells the user, on stderr, whose write it waits for."""
        return Store(path, on_wait=self.waiting, lock_timeout=self.lock_timeout)

    def waiting(self, line: str) -> None:
        self.err.write(f"teamboard: {validate.printable(line)}\n")
        self.err.flush()

    def print(self, text: str = "") -> None:
        output.write(self.out, text)

    def json(self, obj: object) -> None:
        output.write(self.out, output.dumps(obj))

    def note(self, text: str) -> None:
        """A remark for people, on stderr, so stdout stays clean for scripts."""
        output.write(self.err, text)

    def day(self, text: str | None, what: str = "date", future_ok: bool = False) -> date:
        if text is None:
            return self.today
        return validate.day(text, self.today, what, future_ok=future_ok)

    def snapshot(self, scope: Scope | None = None) -> Snapshot:
        """The store now; with `scope` (the boards a command shows), a database reads only
        those (store/scope.py); a file reads itself whole either way."""
        return self.store.read() if scope is None else self.store.read(scope=scope)

    def as_of(self) -> date | None:
        """`--as-of DATE`: the past day to show the board as it stood at its end (None: live)."""
        text = getattr(self.args, "as_of", None)
        if text is None:
            return None
        day = validate.day(text, self.today, "--as-of", future_ok=True)
        if day > self.today:
            raise BadInput(
                f"--as-of {day.isoformat()} is after today: name a past day (the board as it "
                "stood at its end), or leave it out for the live board"
            )
        return day

    def moment(
        self, boards: bool = True, scope: Scope | None = None
    ) -> tuple[Snapshot, date, datetime, date | None]:
        """The store to show, the day and instant to evaluate it for, and the as-of day: the
        live store now (`scope`: only what it needs), or (with --as-of) as it stood at the end
        of that day (read whole: the past is rebuilt from every change)."""
        from store.asof import as_of
        from store.fresh import end_of

        day = self.as_of()
        snap = self.snapshot(scope if day is None else None)
        if day is None:
            return snap, self.today, self.now, None
        past = as_of(snap, day)
        if boards and not past.boards and snap.boards:
            first = min(b.at for b in snap.boards.values() if b.at) if snap.boards else ""
            since = f" (the first board was added {first[:10]})" if first else ""
            raise BadInput(
                f"nothing was on a board by the end of {day.isoformat()}{since}: "
                "pick a later --as-of day"
            )
        return past, day, min(end_of(day), self.now), day

    def store_flag(self) -> str:
        """`--store PATH ` when the user gave one, for the hints we print."""
        shown = str(self.store) if self.store.engine != "file" else str(self.store.path)
        return store_flag(shown if self.store_given else None)


Command = Callable[[Ctx], int]


# --- the values people type -------------------------------------------------------------------


_wait = wait_seconds  # --wait, else $TEAMBOARD_WAIT, else 120 s (shared with `tui.lean`)


def cleared(text: str | None) -> bool:
    """An option given as `""` (or blank): clear the field."""
    return text is not None and text.strip() == CLEAR


def number(text: str | None, what: str) -> float | None:
    return None if text is None else validate.number(text, what)


def choice(kind: type[E], text: str | None, what: str) -> E | None:
    return None if text is None else validate.choice(kind, text, what)


def owner(text: str | None) -> str | None:
    return None if text is None else validate.owner(text)


def text(value: str | None, what: str) -> str | None:
    return None if value is None else validate.text(value, what)


def due(value: str | None) -> time | str | None:
    """`--due HH:MM`: when a period's value is due (local time); `""` clears it."""
    if value is None or cleared(value):
        return None if value is None else CLEAR
    text = value.strip()
    if re.fullmatch(r"\d{1,2}:\d{2}", text):
        h, m = (int(x) for x in text.split(":"))
        if h < 24 and m < 60:
            return time(h, m)
    raise BadInput(
        f"--due {validate.printable(value)[:20]!r} is not a time: use HH:MM, e.g. --due 07:00 "
        "(local time on the day after a daily period)"
    )


def unit(value: str | None) -> str | None:
    if value is None or cleared(value):
        return None if value is None else CLEAR
    return validate.name(value, "unit", scripts=False)  # µm, m³, °C: symbols mix freely


# --- declaring commands -----------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line: `teamboard: <message> (see ... --help)`, and
    every negative number (`-1e3`, `-.5`, `-inf`) read as a value, never as an option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(NEGATIVE_NUMBER, re.ASCII | re.I)

    def error(self, message: str) -> Any:  # argparse's NoReturn
        self.exit(2, f"teamboard: {validate.printable(message)} (see {self.prog} --help)\n")


Sub = Any  # argparse's _SubParsersAction, which typeshed keeps private


def command(sub: Sub, name: str, help: str, func: Command) -> argparse.ArgumentParser:
    """A command (`record`) or a group's command (`board add`) that runs `func`."""
    c: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    c.set_defaults(func=func)
    return c


def group(sub: Sub, name: str, help: str) -> Sub:
    """A noun with commands of its own (`teamboard board ...`); alone, it says which."""
    g = sub.add_parser(name, help=help, description=help)
    subs = g.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)

    def usage(ctx: Ctx) -> int:
        raise BadInput(
            f"{g.prog.removeprefix('teamboard ')} needs a command: {', '.join(subs.choices)} "
            f"(see {g.prog} --help)"
        )

    g.set_defaults(func=usage)
    return subs


def as_of_opt(c: argparse.ArgumentParser, what: str = "") -> None:
    c.add_argument(
        "--as-of",
        metavar="DATE",
        help=what or "the board as it stood at the end of DATE, from what was recorded by then "
        "(read-only)",
    )


def json_flag(c: argparse.ArgumentParser) -> None:
    c.add_argument("--json", action="store_true", help="print JSON instead of text")


def board_opt(c: argparse.ArgumentParser, what: str = "") -> None:
    what = what or "the board of the KPI, when its name is on several boards"
    c.add_argument("--board", metavar="BOARD", help=what)


def kpi_arg(c: argparse.ArgumentParser, what: str = "the KPI's name") -> None:
    c.add_argument("kpi", metavar="KPI", help=what)
