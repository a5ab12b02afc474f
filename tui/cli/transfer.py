"""Data in and out: `import` (CSV actuals, all or nothing), `export` (CSV or the whole store as
JSON), `restore` (a new store from a JSON export) and `log` (who changed what, and when).

Each command imports its store module (csv, backup, audit) only when it runs.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING

from store.errors import BadInput
from store.present import local_stamp, with_unit

from .base import Ctx, Sub, command, quote
from .output import one_line, safe

if TYPE_CHECKING:
    from store.csvio import CreatedKpi

IMPORT_MAX = 64 * 1024 * 1024  # bytes: a CSV larger than this is a mistake, not a month of data
RESTORE_MAX = 2**30  # bytes: a JSON export of a million entries is about 200 MB


def _read_csv(name: str) -> str:
    """The CSV as text: UTF-8 (a BOM is fine), at most IMPORT_MAX bytes; one line otherwise."""
    blob = _read_input(name, "a CSV file", IMPORT_MAX)
    try:
        return blob.decode("utf-8-sig")
    except UnicodeDecodeError:
        shown = "stdin" if name == "-" else repr(name)
        raise BadInput(f"{shown} is not UTF-8 text: save the CSV as UTF-8") from None


def _read_input(name: str, what: str, limit: int) -> bytes:
    """A file the user named (or stdin for `-`), at most `limit` bytes; one line otherwise."""
    try:
        if name == "-":
            stream = getattr(sys.stdin, "buffer", None)
            blob = stream.read(limit + 1) if stream else sys.stdin.read().encode()
        else:
            if "\0" in name:
                raise BadInput(f"{name!r} is not a file name (it contains a NUL character)")
            with open(name, "rb") as f:
                blob = f.read(limit + 1)
    except FileNotFoundError:
        raise BadInput(f"no file {name!r}") from None
    except IsADirectoryError:
        raise BadInput(f"{name!r} is a folder, not {what}") from None
    except PermissionError:
        raise BadInput(f"cannot read {name!r}: permission denied") from None
    except UnicodeEncodeError:
        raise BadInput("stdin is not UTF-8 text: save the file as UTF-8") from None
    if len(blob) > limit:
        raise BadInput(f"{name!r} is larger than {limit // 2**20} MB: split it into smaller files")
    return blob


def cmd_import(ctx: Ctx) -> int:
    from store import csvio

    a = ctx.args
    source = "stdin" if a.file == "-" else a.file
    text = _read_csv(a.file)
    report = csvio.import_csv(
        ctx.store, text, ctx.today, create=a.create, source=source, force=a.force
    )
    ctx.print(f"imported {report.entries} entr{'y' if report.entries == 1 else 'ies'}")
    if report.skipped:
        n = len(report.skipped)
        first = ", ".join(str(r) for r in report.skipped[: csvio.SHOWN_ROWS])
        more = ", …" if n > csvio.SHOWN_ROWS else ""
        ctx.print(
            f"  skipped {n} row{'s' if n != 1 else ''} repeating values already in the store "
            f"(rows {first}{more}); to record them again anyway, add --force"
        )
    for name in report.boards_created:
        ctx.print(f"  created board {one_line(name)}")
    for made in report.created:
        for line in _created_lines(ctx, made):
            ctx.print(line)
    return 0


_DEFAULT_WORDS = {
    "direction": ("--direction up|down", "higher is better"),
    "unit": ("--unit UNIT", "no unit"),
    "amber": ("--amber A", "no amber band"),
    "frequency": ("--frequency daily|weekly|monthly", "daily"),
    "owner": ("--owner LOGIN", "no owner"),
    "kind": ("--kind leading|lagging", "lagging"),
}


def _created_lines(ctx: Ctx, made: CreatedKpi) -> list[str]:
    """A KPI the import made: its settings, the defaults chosen, and the commands that fix
    them (the target from the first imported day, so the imported data is judged by it)."""
    name, board = quote(made.name), quote(made.board)
    unit = str(made.settings.get("unit") or "")
    how = "the mean of its values" if "target" in made.defaults else "from the file"
    lines = [
        f"  created KPI {one_line(made.name)} on {one_line(made.board)} with target "
        f"{one_line(with_unit(made.target, unit))} ({how}), values "
        f"{made.first.isoformat()} to {made.last.isoformat()}"
    ]
    chosen = [_DEFAULT_WORDS[c][1] for c in made.defaults if c in _DEFAULT_WORDS]
    if chosen:
        lines.append(f"    defaults chosen: {', '.join(chosen)}")
    if "target" in made.defaults:
        lines.append(
            f"    fix: teamboard {ctx.store_flag()}target {name} VALUE "
            f"--from {made.first.isoformat()} --board {board}"
        )
    options = [_DEFAULT_WORDS[c][0] for c in made.defaults if c in _DEFAULT_WORDS]
    if options:
        lines.append(
            f"    fix: teamboard {ctx.store_flag()}kpi edit {name} --board {board} "
            + " ".join(options)
        )
    return lines


def cmd_restore(ctx: Ctx) -> int:
    from store import backup

    a = ctx.args
    source = "stdin" if a.file == "-" else a.file
    blob = _read_input(a.file, "a JSON export", RESTORE_MAX)
    counts = backup.restore(ctx.store, blob, source)
    names = {"kpis": ("KPI", "KPIs"), "entries": ("entry", "entries")}
    kinds = [
        f"{n} {names.get(kind, (kind[:-1], kind))[n != 1]}"
        for kind, n in counts.items()
        if n or kind not in ("goals", "reviews", "estimates", "explanations")  # when there are any
    ]
    ctx.print(f"restored {', '.join(kinds[:-1])} and {kinds[-1]} into {ctx.store}")
    return 0


def cmd_log(ctx: Ctx) -> int:
    from store import audit

    a = ctx.args
    snap = ctx.snapshot()
    board = snap.board_named(a.board).id if a.board else None
    kpi = snap.kpi_named(a.kpi, a.board).id if a.kpi else None
    since = ctx.day(a.since, "--since", future_ok=True) if a.since else None
    lines = audit.select(audit.lines(snap), snap, board, kpi, since)
    if a.json:
        ctx.json({"changes": [dataclasses.asdict(line) for line in lines]})
        return 0
    if not lines:
        ctx.note("nothing changed" + (" since then" if since else "") + " in what you asked for")
        return 0
    for line in lines:
        who = one_line(line.who or "?")
        ctx.print(f"{one_line(local_stamp(line.at))}  {who:<10} {one_line(line.what)}")
    return 0


def cmd_export(ctx: Ctx) -> int:
    from store import csvio

    snap = ctx.snapshot()
    if ctx.args.format == "json":
        from store import backup
        from store.db import utcnow

        ctx.json(backup.export_doc(snap, utcnow()))
        return 0
    if ctx.out.isatty():
        import io

        buf = io.StringIO()
        csvio.export_csv(snap, buf)
        ctx.out.write(safe(buf.getvalue()))  # for eyes: escapes shown, not obeyed
    else:
        csvio.export_csv(snap, ctx.out)  # for files and pipes: the data exactly
    return 0


def register(sub: Sub) -> None:
    c = command(
        sub, "import", "import actuals from CSV (board,kpi,date,value[,plan,note]); all or nothing",
        cmd_import,
    )  # fmt: skip
    c.add_argument("file", metavar="FILE", help="the CSV file, or - for stdin")
    c.add_argument(
        "--create",
        action="store_true",
        help="create missing boards and KPIs; optional columns unit, direction, target, amber, "
        "frequency, owner, kind set them up (default target: the mean)",
    )
    c.add_argument(
        "--force",
        action="store_true",
        help="record rows that repeat values already in the store (default: skip them)",
    )

    c = command(
        sub, "restore", "create a store from a JSON export (never over an existing store)",
        cmd_restore,
    )  # fmt: skip
    c.add_argument("file", metavar="FILE", help="the export (teamboard export --format json), or -")

    c = command(sub, "log", "the change log: who changed what and when, newest first", cmd_log)
    c.add_argument("--board", metavar="B", help="only this board (and the boards under it)")
    c.add_argument("--kpi", metavar="K", help="only this KPI")
    c.add_argument("--since", metavar="DATE", help="only changes on or after DATE")
    c.add_argument("--json", action="store_true", help="as JSON")

    c = command(sub, "export", "print every entry as CSV, or the whole store as JSON", cmd_export)
    c.add_argument(
        "--format",
        choices=("csv", "json"),
        default="csv",
        help="csv (entries) or json (everything)",
    )
