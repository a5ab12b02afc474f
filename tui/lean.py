"""What `teamboard record`'s lean start (`tui.launch`) and the full command line (`tui.cli`)
share, in a module that imports the store and nothing else: the status line after a record, the
terminal's colour, how an error reads and which exit code it gets, and `record` itself.

A record over SSH is mostly start-up, and `tui.cli` costs argparse and every noun's module; a
plain `record` needs none of them. Both fronts run the same functions here, in the same order,
so they print the same bytes, exit with the same code and write the same store.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from store import ops, pg, validate
from store.db import ENV, Store, default_path
from store.errors import BadInput, Fix, StoreError, either
from store.model import Status
from store.present import (
    benchmark_label,
    flag_text,
    status_text,
    trend_text,
    variance_text,
    with_unit,
)
from store.rules import Flag
from tui.argvalues import NEGATIVE_NUMBER as NEGATIVE_NUMBER  # argparse's negative numbers

if TYPE_CHECKING:
    from typing import TextIO

    from store.model import Entry
    from store.rules import KpiView

WAIT_ENV = "TEAMBOARD_WAIT"
WAIT_DEFAULT = 120.0
WAIT_MAX = 86400.0

# SGR codes; used only when `use_colour` says so.
_SGR = {
    Status.GREEN: "32",
    Status.AMBER: "33",
    Status.RED: "31",
    Status.STALE: "35",
    Status.NO_DATA: "2",
    "bold": "1",
    "dim": "2",
    "alarm": "1;31",
}


def use_colour(stream: TextIO) -> bool:
    """ANSI colour only for a terminal, and never when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Painter:
    """Wraps text in SGR codes when colour is on; a no-op otherwise."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, style: str | Status) -> str:
        if not self.colour or not text:
            return text
        return f"\x1b[{_SGR[style]}m{text}\x1b[0m"


def status_word(status: Status, paint: Painter) -> str:
    """`✔ green`, in green on a terminal."""
    return paint(status_text(status), status)


def one_line(value: str) -> str:
    """A stored string made harmless for a terminal (`validate.printable`), with line breaks
    and tabs folded so a table row stays one row."""
    return (
        validate.printable(value).replace("\r\n", "\n").replace("\n", " ↵ ").replace("\t", " ")
    )


def write(stream: TextIO, text: str) -> None:
    """`text` and a line break (unless it ends with one already)."""
    stream.write(text if text.endswith("\n") else text + "\n")


def quote(text: str) -> str:
    """A name as the shell takes it back, on one line: `'Line 3'`."""
    import shlex

    return shlex.quote(one_line(text))


def store_flag(path: str | None) -> str:
    """`--store PATH ` for a hint that must reach the same store; empty for the default one."""
    return "" if path is None else f"--store {quote(path)} "


def wait_seconds(option: str | None) -> float:
    """How long a write waits for the lock: --wait, else $TEAMBOARD_WAIT, else 120 s."""
    what = "--wait"
    if option is None:
        option, what = os.environ.get(WAIT_ENV), WAIT_ENV
    if option is None or not option.strip():
        return WAIT_DEFAULT
    seconds = validate.number(option, what)
    if not 0 <= seconds <= WAIT_MAX:
        raise BadInput(
            f"{what} takes a number of seconds from 0 to {WAIT_MAX:.0f} (a day), not {option!r}"
        )
    return seconds


def error_line(exc: StoreError, store: str) -> str:
    """The error in one line, its remedy worded as the flag or the command to type.

    `store` is the `--store PATH ` the hints need to reach the same store (or empty).
    """
    fix = getattr(exc, "fix", None)
    if fix is None:
        return str(exc)
    about = quote(exc.subject) if exc.subject else "BOARD"
    remedy = {
        Fix.NAME_BOARD: "add --board BOARD",
        Fix.SEE_BOARDS: f"see `teamboard {store}board list`",
        Fix.ADD_BOARD: f"add one with `teamboard {store}board add NAME`",
        Fix.SEE_KPIS: f"see `teamboard {store}kpi list`",
        Fix.SEE_ACTIONS: f"see `teamboard {store}action list`",
        Fix.OVER_LIMIT: "archive one first, raise the limit with "
        f"`teamboard {store}board edit {about} --kpi-limit N`, or add --force",
        Fix.SAY_WHAT: "give " + either([f"--{f.replace('_', '-')}" for f in exc.fields]),
        Fix.SEE_GOALS: f"see `teamboard {store}goal list`",
        Fix.GOAL_LIMIT: "let one KPI serve another goal (`kpi edit KPI --goal G`), "
        "or add --force",
    }[fix]
    return f"{exc.problem}; {remedy}"


def record_line(
    view: KpiView, entry: Entry, superseded: Entry | None, paint: Painter, today: date
) -> str:
    """The KPI's status after a record, in one line."""
    k = view.kpi
    latest = view.latest
    head = k.name
    if latest is not None:
        var = variance_text(view)
        head += f" {with_unit(latest.value, k.unit)} ({benchmark_label(view)}"
        head += f", {var})" if var else ")"
    trend = trend_text(view.trend)
    parts = [one_line(f"{head} {trend}" if trend else head)]
    for flag in view.flags:
        if flag is Flag.RED_NO_ACTION:
            parts.append(
                paint("red without an action", "alarm")
                + f": add one with teamboard action add TITLE --kpi {quote(k.name)}"
            )
        else:
            parts.append(one_line(flag_text(view, flag, today)))
    if latest is not None and latest.id != entry.id:
        parts.append(
            f"recorded {one_line(with_unit(entry.value, k.unit))} for {entry.day.isoformat()}; "
            f"the latest is {latest.day.isoformat()}"
        )
    if superseded is not None:
        by = f" by {one_line(superseded.who)}" if superseded.who else ""
        parts.append(
            f"replaces {one_line(with_unit(superseded.value, k.unit))} for "
            f"{superseded.day.isoformat()}{by} (kept in history)"
        )
    return status_word(view.status, paint) + "  " + " · ".join(parts)


class Guard:
    """Runs one command the way every `teamboard` command ends: an error in one line, never a
    traceback, and an exit code scripts can tell apart. `store` is the --store the user gave
    (for the hints), set once the arguments are read."""

    def __init__(self) -> None:
        self.store: str | None = None

    def run(self, body: Callable[[], int], out: TextIO, err: TextIO) -> int:
        try:
            return body()
        except StoreError as exc:
            for line in getattr(exc, "details", ()):
                err.write(f"teamboard: {validate.printable(line)}\n")
            err.write(
                f"teamboard: {validate.printable(error_line(exc, store_flag(self.store)))}\n"
            )
            return exc.exit_code
        except KeyboardInterrupt:
            err.write("\nteamboard: interrupted\n")
            return 130
        except BrokenPipeError:
            # The reader went away (`teamboard export | head`): stop quietly, and keep Python
            # from complaining when it flushes stdout at exit.
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, out.fileno())
            except (OSError, ValueError):
                pass
            return 141
        except OSError as exc:
            err.write(f"teamboard: {validate.printable(str(exc))}\n")
            return 1
        except Exception as exc:  # a bug: still one line, and an exit code scripts can tell
            if (
                isinstance(exc, UnicodeEncodeError)
                and exc.encoding.replace("-", "").lower() != "utf8"
            ):
                err.write(
                    f"teamboard: this terminal takes {exc.encoding} and cannot show the answer: "
                    "use a UTF-8 locale (e.g. LANG=C.UTF-8)\n"
                )
                return 1
            if os.environ.get("TEAMBOARD_DEBUG"):
                raise
            detail = validate.printable(str(exc))[:200]
            err.write(
                f"teamboard: internal error ({type(exc).__name__}: {detail}); this is a bug, "
                "please report it with the command you ran (TEAMBOARD_DEBUG=1 shows the "
                "traceback)\n"
            )
            return 70


def record(args: dict[str, str], now: datetime | None = None) -> int | None:
    """`teamboard [--store PATH] [--wait S] record KPI VALUE [--board B] [--date D] [--plan P]
    [--note TEXT]`, `args` keyed by those names (`tui.launch.plain_record`): what
    `tui.cli.entries.cmd_record` does with its `Ctx`, the same checks in the same order.

    None for a PostgreSQL store, before anything is done: the full command line takes it."""
    store_given = "store" in args
    if pg.is_url(args["store"] if store_given else os.environ.get(ENV)):
        return None
    out, err = sys.stdout, sys.stderr
    guard = Guard()
    guard.store = args.get("store")

    def waiting(line: str) -> None:
        err.write(f"teamboard: {validate.printable(line)}\n")
        err.flush()

    def body() -> int:
        moment = now if now is not None else datetime.now()
        today = moment.date()
        paint = Painter(use_colour(out))
        kpi = validate.ref(args["kpi"], "KPI name")
        board = args.get("board")
        if board is not None:
            board = validate.ref(board, "board name")
        if store_given and "\0" in args["store"]:
            raise BadInput("--store PATH contains a NUL character: name a file")
        lock_timeout = wait_seconds(args.get("wait"))
        store = Store(args["store"] if store_given else default_path(), waiting, lock_timeout)
        value = validate.number(args["value"], "value")
        text = args.get("date")
        day = today if text is None else validate.day(text, today, "date", future_ok=False)
        plan = validate.number(args["plan"], "plan") if "plan" in args else None
        note = validate.text(args["note"], "note") if "note" in args else ""
        done = ops.record(store, kpi, value, day, today, board, plan=plan, note=note, now=moment)
        write(out, record_line(done.view, done.entry, done.superseded, paint, today))
        out.flush()
        return 0

    return guard.run(body, out, err)


__all__ = [
    "WAIT_DEFAULT",
    "WAIT_ENV",
    "WAIT_MAX",
    "Guard",
    "Painter",
    "error_line",
    "one_line",
    "quote",
    "record",
    "record_line",
    "status_word",
    "store_flag",
    "use_colour",
    "wait_seconds",
    "write",
]
