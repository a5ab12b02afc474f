"""The `teamboard` command line: record actuals, manage boards, KPIs and actions, and ask
"are we winning or losing?" from any shell, in a blink.

Imports only `store/` and the stdlib at start-up. The screens (`show`, `demo`, `huddle`) import
the Textual app lazily, and commands import what only they need (csv, json, tempfile) inside.

Exit codes: 0 ok, 1 the store cannot be used (missing, broken, read-only, busy after --wait), 2
bad usage or bad input (nothing written), 70 a bug (one line, no traceback), 130 interrupted.
Every value people type is parsed by `store.validate`, the same as in the app's forms.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO, TypeVar

from store import ops, validate
from store.db import Store, default_path
from store.errors import BadInput, StoreError
from store.model import Action, Board, Direction, Entry, Frequency, Kind, Stage, Status
from store.rules import Flag, KpiView, entry_status, series
from store.snapshot import Snapshot

from . import clifmt as fmt
from .clifmt import Painter, cell

EPILOG = """\
examples:
  teamboard init --demo                     a store with sample data, to try things
  teamboard record OEE 78.5 --date yesterday --note "filler jammed twice"
  teamboard --store /srv/team/board.json status --all

dates: YYYY-MM-DD, today, yesterday, -N (N days ago) or +N (N days ahead).
numbers: 78.5, -3, 1e3 (a point for decimals, no thousands separators).
store: --store PATH, else $TEAMBOARD_STORE, else teamboard.json in your data folder.
exit codes: 0 ok, 1 store unusable (missing, broken, read-only, busy after --wait),
2 bad usage or input.
Without a command, teamboard opens the live board (`show`)."""

WAIT_ENV = "TEAMBOARD_WAIT"
WAIT_DEFAULT = 120.0
WAIT_MAX = 86400.0
IMPORT_MAX = 64 * 1024 * 1024  # bytes: a CSV larger than this is a mistake, not a month of data
RESTORE_MAX = 2**30  # bytes: a JSON export of a million entries is about 200 MB
# What people type to find a board or KPI (checked for UTF-8 and NFC-normalised, as names are).
_REFS = {"kpi": "KPI name", "board": "board name", "parent": "--parent", "counter": "--counter"}

E = TypeVar("E", Direction, Frequency, Kind, Stage)


class Ctx:
    """What every command gets: its arguments, the store, today, and where and how to print."""

    def __init__(self, args: argparse.Namespace, today: date, out: TextIO, err: TextIO) -> None:
        self.args = args
        self.today = today
        self.out = out
        self.err = err
        self.paint = Painter(fmt.use_colour(out))
        for key, what in _REFS.items():
            value = getattr(args, key, None)
            if isinstance(value, str):
                setattr(args, key, validate.ref(value, what))
        self.store_given = args.store is not None
        if self.store_given and "\0" in args.store:
            raise BadInput("--store PATH contains a NUL character: name a file")
        self.lock_timeout = _wait(args.wait)
        self.store = self.open(Path(args.store) if self.store_given else default_path())

    def open(self, path: Path) -> Store:
        """A store that tells the user, on stderr, whose write it waits for."""
        return Store(path, on_wait=self.waiting, lock_timeout=self.lock_timeout)

    def waiting(self, line: str) -> None:
        self.err.write(f"teamboard: {validate.printable(line)}\n")
        self.err.flush()

    def print(self, text: str = "") -> None:
        fmt.write(self.out, text)

    def json(self, obj: object) -> None:
        fmt.write(self.out, fmt.dumps(obj))

    def note(self, text: str) -> None:
        """A remark for people, on stderr, so stdout stays clean for scripts."""
        fmt.write(self.err, text)

    def day(self, text: str | None, what: str = "date", future_ok: bool = False) -> date:
        if text is None:
            return self.today
        return validate.day(text, self.today, what, future_ok=future_ok)

    def snapshot(self) -> Snapshot:
        return self.store.read()

    def store_flag(self) -> str:
        """`--store PATH ` when the user gave one, for the hints we print."""
        if not self.store_given:
            return ""
        import shlex

        return f"--store {shlex.quote(str(self.store.path))} "


Command = Callable[[Ctx], int]


# --- small parsers ----------------------------------------------------------------------------


def _wait(option: str | None) -> float:
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


def _number(text: str | None, what: str) -> float | None:
    return None if text is None else validate.number(text, what)


def _choice(kind: type[E], text: str | None, what: str) -> E | None:
    return None if text is None else validate.choice(kind, text, what)


def _owner(text: str | None) -> str | None:
    return None if text is None else validate.owner(text)


def _text(text: str | None, what: str) -> str | None:
    return None if text is None else validate.text(text, what)


def _unit(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None if text is None else ""
    return validate.name(text, "unit", scripts=False)  # µm, m³, °C: symbols mix freely


def _action_id(text: str) -> int:
    return validate.action_id(text)


def _quote(name: str) -> str:
    import shlex

    return shlex.quote(fmt.one_line(name))


# --- init, demo, screens ----------------------------------------------------------------------


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


def _run_app(path: Path, board: str | None, **options: Any) -> int:
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
    """Check the store opens and the board exists before the screen starts: one clear line."""
    snap = ctx.snapshot()
    board: str | None = ctx.args.board
    return snap.board_named(board).name if board else None


def cmd_show(ctx: Ctx) -> int:
    a = ctx.args
    rotate = validate.number(a.rotate, "--rotate") if a.rotate is not None else 0.0
    if not 0 <= rotate <= WAIT_MAX:
        raise BadInput("--rotate takes seconds from 0 (no rotation) to 86400 (a day)")
    board = _screen_board(ctx)
    return _run_app(ctx.store.path, board, wall=a.wall, rotate=rotate, poll=a.poll)


def cmd_huddle(ctx: Ctx) -> int:
    minutes = validate.whole(ctx.args.minutes, "--minutes", 1, 240)
    board = _screen_board(ctx)
    return _run_app(ctx.store.path, board, huddle=True, minutes=minutes)


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
    return _run_app(path, board, wall=ctx.args.wall)


# --- boards -----------------------------------------------------------------------------------


def cmd_board_add(ctx: Ctx) -> int:
    a = ctx.args
    name = validate.name(a.name, "board name")
    limit = validate.kpi_limit(a.kpi_limit) if a.kpi_limit is not None else 7
    b = ops.add_board(
        ctx.store,
        name,
        a.parent,
        description=_text(a.description, "description") or "",
        kpi_limit=limit,
    )
    ctx.print(f"added board {fmt.one_line(b.name)} (up to {b.kpi_limit} KPIs)")
    return 0


def _board_tree(snap: Snapshot) -> list[tuple[Board, int]]:
    """Every board with its depth, parents before children, each level by id.

    Iterative: a tree thousands of tiers deep (made by hand) must not hit the recursion limit.
    """
    children: dict[int, list[Board]] = {}
    for b in snap.boards.values():
        if b.parent is not None:
            children.setdefault(b.parent, []).append(b)
    out: list[tuple[Board, int]] = []
    seen: set[int] = set()
    roots = [b for b in snap.boards.values() if b.parent is None or b.parent not in snap.boards]
    # Roots first, then anything a hand-edited loop left unreached.
    everything = sorted(snap.boards.values(), key=lambda b: b.id)
    for start in [*sorted(roots, key=lambda b: b.id), *everything]:
        stack = [(start, 0)]
        while stack:
            b, depth = stack.pop()
            if b.id in seen:  # a hand-edited loop must not hang us
                continue
            seen.add(b.id)
            out.append((b, depth))
            below = sorted(children.get(b.id, ()), key=lambda c: c.id, reverse=True)
            stack.extend((c, depth + 1) for c in below)
    return out


def cmd_board_list(ctx: Ctx) -> int:
    snap = ctx.snapshot()
    tree = _board_tree(snap)
    if ctx.args.json:
        ctx.json(
            {
                "boards": [
                    {
                        "id": b.id,
                        "name": b.name,
                        "parent": snap.boards[b.parent].name if b.parent in snap.boards else None,
                        "description": b.description,
                        "kpi_limit": b.kpi_limit,
                        "kpis": len(snap.kpis_of(b.id)),
                        "open_actions": len(snap.actions_of(b.id)),
                    }
                    for b, _ in tree
                ]
            }
        )
        return 0
    if not tree:
        ctx.print(f"no boards yet: add one with teamboard {ctx.store_flag()}board add NAME")
        return 0
    rows = []
    for b, depth in tree:
        n = len(snap.kpis_of(b.id))
        rows.append(
            [
                cell("  " * depth + fmt.one_line(b.name)),
                cell(f"{n}/{b.kpi_limit} KPIs"),
                cell(f"{len(snap.actions_of(b.id))} open actions"),
                cell(fmt.one_line(b.description)),
            ]
        )
    for line in fmt.table(rows, indent=""):
        ctx.print(line)
    return 0


def cmd_board_edit(ctx: Ctx) -> int:
    a = ctx.args
    b = ops.edit_board(
        ctx.store,
        a.board,
        new_name=validate.name(a.name, "board name") if a.name is not None else None,
        description=_text(a.description, "description"),
        parent=a.parent.strip() if a.parent is not None else None,
        kpi_limit=validate.kpi_limit(a.kpi_limit) if a.kpi_limit is not None else None,
    )
    ctx.print(f"updated board {fmt.one_line(b.name)}")
    return 0


# --- KPIs -------------------------------------------------------------------------------------


def cmd_kpi_add(ctx: Ctx) -> int:
    a = ctx.args
    k = ops.add_kpi(
        ctx.store,
        validate.name(a.name, "KPI name"),
        a.board,
        validate.number(a.target, "target"),
        direction=_choice(Direction, a.direction, "--direction") or Direction.UP,
        unit=_unit(a.unit) or "",
        amber=_number(a.amber, "amber"),
        frequency=_choice(Frequency, a.frequency, "--frequency") or Frequency.DAILY,
        owner=_owner(a.owner) or "",
        goal=_text(a.goal, "goal") or "",
        kind=_choice(Kind, a.kind, "--kind") or Kind.LAGGING,
        counter=a.counter,
        description=_text(a.description, "description") or "",
        force=a.force,
    )
    better = "higher" if k.direction is Direction.UP else "lower"
    ctx.print(
        f"added KPI {fmt.one_line(k.name)} (target {fmt.with_unit(k.target, k.unit)}, "
        f"{better} is better, {k.frequency.value})"
    )
    return 0


def cmd_kpi_list(ctx: Ctx) -> int:
    a = ctx.args
    snap = ctx.snapshot()
    board_id = snap.board_named(a.board).id if a.board else None
    kpis = sorted(snap.kpis_of(board_id, archived=a.archived), key=lambda k: (k.board, k.id))
    if a.json:
        ctx.json({"kpis": [fmt.kpi_json(k, snap) for k in kpis]})
        return 0
    if not kpis:
        ctx.print("no KPIs" + (" (archived ones hidden: add --archived)" if not a.archived else ""))
        return 0
    rows = []
    for k in kpis:
        arrow = "↑" if k.direction is Direction.UP else "↓"
        rows.append(
            [
                cell(fmt.one_line(snap.boards[k.board].name) if k.board in snap.boards else "?"),
                cell(fmt.one_line(k.name)),
                cell(f"target {fmt.with_unit(k.target, k.unit)}"),
                cell(f"amber {fmt.num(k.amber)}" if k.amber is not None else ""),
                cell(f"{arrow} {k.direction.value}"),
                cell(k.frequency.value),
                cell(k.kind.value),
                cell(fmt.one_line(k.owner) or "no owner"),
                cell("archived" if k.archived else ""),
            ]
        )
    for line in fmt.table(rows, indent=""):
        ctx.print(line)
    return 0


def cmd_kpi_edit(ctx: Ctx) -> int:
    a = ctx.args
    amber: float | str | None = None
    if a.amber is not None:
        amber = "" if not a.amber.strip() else validate.number(a.amber, "amber")
    k = ops.edit_kpi(
        ctx.store,
        a.kpi,
        a.board,
        name=validate.name(a.name, "KPI name") if a.name is not None else None,
        unit=_unit(a.unit),
        direction=_choice(Direction, a.direction, "--direction"),
        amber=amber,
        frequency=_choice(Frequency, a.frequency, "--frequency"),
        owner=_owner(a.owner),
        goal=_text(a.goal, "goal"),
        kind=_choice(Kind, a.kind, "--kind"),
        counter=a.counter.strip() if a.counter is not None else None,
        description=_text(a.description, "description"),
    )
    ctx.print(f"updated KPI {fmt.one_line(k.name)}")
    return 0


def cmd_kpi_archive(ctx: Ctx) -> int:
    a = ctx.args
    k = ops.archive_kpi(ctx.store, a.kpi, a.board, restore=a.restore)
    if a.restore:
        ctx.print(f"restored KPI {fmt.one_line(k.name)}")
    else:
        ctx.print(
            f"archived KPI {fmt.one_line(k.name)}; its history is kept "
            f"(undo: teamboard {ctx.store_flag()}kpi archive {_quote(k.name)} --restore)"
        )
    return 0


def cmd_target(ctx: Ctx) -> int:
    a = ctx.args
    value = validate.number(a.value, "target")
    since = ctx.day(a.since, "--from", future_ok=True)
    k = ops.set_target(ctx.store, a.kpi, value, since, a.board)
    ctx.print(
        f"target of {fmt.one_line(k.name)} is {fmt.with_unit(value, k.unit)} "
        f"from {since.isoformat()} on"
    )
    return 0


# --- entries ----------------------------------------------------------------------------------


def record_line(view: KpiView, entry: Entry, superseded: Entry | None, paint: Painter) -> str:
    """The KPI's status after a record, in one line."""
    k = view.kpi
    latest = view.latest
    parts = [fmt.status_word(view.status, paint) + "  "]
    head = fmt.one_line(k.name)
    if latest is not None:
        head += f" {fmt.with_unit(latest.value, k.unit)}"
        var = fmt.variance_text(view)
        head += f" ({fmt.benchmark_text(view)}{', ' + var if var else ''})"
    trend = fmt.TREND_TEXT[view.trend]
    if trend:
        head += f" {trend}"
    parts.append(head)
    for flag in view.flags:
        if flag is Flag.RED_NO_ACTION:
            parts.append(
                paint("red without an action", "alarm")
                + f": add one with teamboard action add TITLE --kpi {_quote(k.name)}"
            )
        elif flag is Flag.COUNTER_RED:
            parts.append(f"counter-metric {fmt.one_line(view.counter_name or '?')} is red")
        elif flag is Flag.STALE and view.stale_since is not None:
            parts.append(f"stale since {view.stale_since.isoformat()}")
    if latest is not None and latest.id != entry.id:
        parts.append(
            f"recorded {fmt.with_unit(entry.value, k.unit)} for {entry.day.isoformat()}; "
            f"the latest is {latest.day.isoformat()}"
        )
    if superseded is not None:
        by = f" by {fmt.one_line(superseded.who)}" if superseded.who else ""
        parts.append(
            f"replaces {fmt.with_unit(superseded.value, k.unit)} for "
            f"{superseded.day.isoformat()}{by} (kept in history)"
        )
    return parts[0] + " · ".join(parts[1:])


def cmd_record(ctx: Ctx) -> int:
    a = ctx.args
    value = validate.number(a.value, "value")
    day = ctx.day(a.date)
    plan = _number(a.plan, "plan")
    note = validate.text(a.note, "note") if a.note is not None else ""
    done = ops.record(ctx.store, a.kpi, value, day, ctx.today, a.board, plan=plan, note=note)
    ctx.print(record_line(done.view, done.entry, done.superseded, ctx.paint))
    return 0


def cmd_note(ctx: Ctx) -> int:
    a = ctx.args
    note = validate.text(a.text, "note")
    if not note:
        raise BadInput("the note is empty: write something")
    e = ops.add_note(ctx.store, a.kpi, note, a.board)
    ctx.print(f"noted on the entry for {e.day.isoformat()}")
    return 0


def cmd_history(ctx: Ctx) -> int:
    a = ctx.args
    snap = ctx.snapshot()
    k = snap.kpi_named(a.kpi, a.board, archived=True)
    entries = sorted(snap.entries.get(k.id, []), key=lambda e: (e.day, e.id))
    kept = {e.id for e in series(k.frequency, entries)}
    board = snap.boards[k.board].name if k.board in snap.boards else ""
    if a.json:
        ctx.json(
            {
                "board": board,
                "kpi": k.name,
                "unit": k.unit,
                "direction": k.direction.value,
                "frequency": k.frequency.value,
                "archived": k.archived,
                "entries": [
                    {
                        "id": e.id,
                        "date": e.day.isoformat(),
                        "value": e.value,
                        "plan": e.plan,
                        "target": k.target_on(e.day),
                        "status": entry_status(k, e).value,
                        "note": e.note,
                        "who": e.who,
                        "at": e.at,
                        "superseded": e.id not in kept,
                    }
                    for e in entries
                ],
            }
        )
        return 0
    n_sup = len(entries) - len(kept)
    ctx.print(
        f"{fmt.one_line(k.name)} · board {fmt.one_line(board)} · target "
        f"{fmt.with_unit(k.target, k.unit)}{' · archived' if k.archived else ''} · "
        f"{len(entries)} entries" + (f", {n_sup} superseded" if n_sup else "")
    )
    if not entries:
        ctx.print(
            f"  nothing recorded yet: teamboard {ctx.store_flag()}record {_quote(k.name)} VALUE"
        )
        return 0
    paint = ctx.paint
    rows = []
    for e in entries:
        st = entry_status(k, e)
        sup = e.id not in kept
        rows.append(
            [
                cell(e.day.isoformat()),
                cell(fmt.with_unit(e.value, k.unit)),
                cell(f"plan {fmt.num(e.plan)}" if e.plan is not None else ""),
                cell("superseded", paint, "dim")
                if sup
                else cell(f"{fmt.STATUS_GLYPH[st]} {fmt.STATUS_WORD[st]}", paint, st),
                cell(fmt.one_line(e.who) or "?"),
                cell(fmt.local_time(e.at)),
                cell(fmt.one_line(e.note)),
            ]
        )
    for line in fmt.table(rows):
        ctx.print(line)
    return 0


# --- actions ----------------------------------------------------------------------------------


def action_rows(
    actions: Sequence[Action], snap: Snapshot, today: date, paint: Painter, with_board: bool
) -> list[list[tuple[str, str]]]:
    rows = []
    for a in actions:
        kpi = snap.kpis.get(a.kpi) if a.kpi is not None else None
        row = [
            cell(f"#{a.id}"),
            cell(a.stage.value, paint, "bold" if a.stage is not Stage.DONE else "dim"),
            cell(fmt.one_line(a.owner) or "nobody"),
            cell(f"due {a.due.isoformat()}" if a.due else "no due date"),
            cell("OVERDUE", paint, "alarm") if a.overdue(today) else cell(""),
            cell(fmt.one_line(a.title)),
            cell(f"→ {fmt.one_line(kpi.name)}" if kpi else ""),
        ]
        if with_board:
            board = snap.boards.get(a.board)
            row.append(cell(f"[{fmt.one_line(board.name)}]" if board else ""))
        rows.append(row)
    return rows


def cmd_action_add(ctx: Ctx) -> int:
    a = ctx.args
    act = ops.add_action(
        ctx.store,
        validate.title(a.title, "action title"),
        board=a.board,
        kpi=a.kpi,
        owner=_owner(a.owner) or "",
        due=ctx.day(a.due, "--due", future_ok=True) if a.due is not None else None,
    )
    ctx.print(f"#{act.id}")
    return 0


def cmd_action_list(ctx: Ctx) -> int:
    a = ctx.args
    snap = ctx.snapshot()
    board_id = snap.board_named(a.board).id if a.board else None
    acts = snap.actions_of(board_id, open_only=not a.all)
    if a.json:
        ctx.json({"actions": [fmt.action_json(x, snap, ctx.today) for x in acts]})
        return 0
    if not acts:
        ctx.print("no open actions" if not a.all else "no actions")
        return 0
    for line in fmt.table(action_rows(acts, snap, ctx.today, ctx.paint, board_id is None), ""):
        ctx.print(line)
    return 0


def cmd_action_move(ctx: Ctx) -> int:
    a = ctx.args
    stage = None if a.stage.strip().lower() == "next" else validate.choice(Stage, a.stage, "stage")
    act = ops.move_action(ctx.store, _action_id(a.id), stage)
    ctx.print(f"#{act.id} is in {act.stage.value} now")
    return 0


def cmd_action_done(ctx: Ctx) -> int:
    act = ops.move_action(ctx.store, _action_id(ctx.args.id), Stage.DONE)
    ctx.print(f"#{act.id} is done")
    return 0


def cmd_action_edit(ctx: Ctx) -> int:
    a = ctx.args
    clear_due = a.due is not None and a.due.strip().lower() in ("", "none")
    due = None if a.due is None or clear_due else ctx.day(a.due, "--due", future_ok=True)
    act = ops.edit_action(
        ctx.store,
        _action_id(a.id),
        title=validate.title(a.title, "action title") if a.title is not None else None,
        owner=_owner(a.owner),
        due=due,
        kpi=a.kpi,
        clear_due=clear_due,
    )
    ctx.print(f"updated #{act.id}")
    return 0


# --- status -----------------------------------------------------------------------------------


def _counts(views: Sequence[KpiView], paint: Painter) -> str:
    order = (Status.GREEN, Status.AMBER, Status.RED, Status.STALE)
    n = {s: sum(1 for v in views if v.status is s) for s in Status}
    parts = [
        paint(f"{n[s]} {fmt.STATUS_WORD[s]}", s) if n[s] else f"0 {fmt.STATUS_WORD[s]}"
        for s in order
    ]
    if n[Status.NO_DATA]:
        parts.append(f"{n[Status.NO_DATA]} no data")
    return ", ".join(parts)


def kpi_rows(views: Sequence[KpiView], paint: Painter) -> list[list[tuple[str, str]]]:
    rows = []
    for v in views:
        latest = v.latest
        word = f"{fmt.STATUS_GLYPH[v.status]} {fmt.STATUS_WORD[v.status]}"
        flags = "; ".join(fmt.flag_texts(v))
        rows.append(
            [
                cell(word, paint, v.status),
                cell(fmt.one_line(v.kpi.name)),
                cell(fmt.with_unit(latest.value, v.kpi.unit) if latest else "—"),
                cell(fmt.benchmark_text(v)),
                cell(fmt.variance_text(v)),
                cell(fmt.TREND_TEXT[v.trend]),
                cell(flags, paint, "alarm" if flags and v.status is Status.RED else None),
            ]
        )
    return rows


def cmd_status(ctx: Ctx) -> int:
    a = ctx.args
    snap = ctx.snapshot()
    if a.all:
        boards = [b for b, _ in _board_tree(snap)]
    else:
        boards = [snap.board_named(a.board) if a.board else snap.default_board()]
    today = ctx.today
    if a.json:
        kpis = []
        actions = []
        for b in boards:
            kpis += [fmt.kpi_view_json(v) for v in snap.views(b.id, today)]
            actions += [fmt.action_json(x, snap, today) for x in snap.actions_of(b.id)]
        ctx.json(
            {
                "today": today.isoformat(),
                "boards": [b.name for b in boards],
                "kpis": kpis,
                "actions": actions,
            }
        )
        return 0
    paint = ctx.paint
    for i, b in enumerate(boards):
        if i:
            ctx.print()
        views = snap.views(b.id, today)
        ctx.print(
            f"{paint(fmt.one_line(b.name), 'bold')} · {today.isoformat()} · "
            f"{len(views)} KPI{'s' if len(views) != 1 else ''}: {_counts(views, paint)}"
        )
        if views:
            for line in fmt.table(kpi_rows(views, paint)):
                ctx.print(line)
        else:
            ctx.print(
                f"  no KPIs yet: teamboard {ctx.store_flag()}kpi add NAME "
                f"--board {_quote(b.name)} --target T"
            )
        acts = snap.actions_of(b.id)
        if acts:
            ctx.print(f"  open actions ({len(acts)}):")
            for line in fmt.table(action_rows(acts, snap, today, paint, False), "    "):
                ctx.print(line)
        else:
            ctx.print("  no open actions")
    return 0


# --- huddle minutes ---------------------------------------------------------------------------


def cmd_minutes(ctx: Ctx) -> int:
    from store import huddle

    a = ctx.args
    snap = ctx.snapshot()
    board = snap.board_named(a.board) if a.board else None
    day = ctx.day(a.date) if a.date else None
    found = huddle.pick(snap.huddles, board.id if board else None, day)
    if not found:
        where = f" of {fmt.one_line(board.name)}" if board else ""
        when = f" on {day.isoformat()}" if day else ""
        how = f"teamboard {ctx.store_flag()}huddle" + (f" {_quote(board.name)}" if board else "")
        if snap.huddles and (board or day):
            raise StoreError(
                f"no huddle minutes{where}{when}; see the last ones with "
                f"teamboard {ctx.store_flag()}minutes --last"
            )
        raise StoreError(f"no huddle minutes{where} yet: hold a huddle with {how}")
    chosen = found if day else found[-1:]  # --last is the default
    if a.format == "json":
        ctx.json({"huddles": chosen})
    else:
        ctx.print(fmt.safe("\n".join(huddle.markdown(h) for h in chosen)))
    return 0


# --- import and export ------------------------------------------------------------------------


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
    report = csvio.import_csv(ctx.store, text, ctx.today, create=a.create, source=source)
    ctx.print(f"imported {report.entries} entr{'y' if report.entries == 1 else 'ies'}")
    for name in report.boards_created:
        ctx.print(f"  created board {fmt.one_line(name)}")
    for board, name, target in report.kpis_created:
        ctx.print(
            f"  created KPI {fmt.one_line(name)} on {fmt.one_line(board)} with target "
            f"{fmt.num(target)} (the mean of its values): set the real one with "
            f"teamboard {ctx.store_flag()}target {_quote(name)} VALUE --board {_quote(board)}"
        )
    return 0


def cmd_restore(ctx: Ctx) -> int:
    from store import backup

    a = ctx.args
    source = "stdin" if a.file == "-" else a.file
    blob = _read_input(a.file, "a JSON export", RESTORE_MAX)
    counts = backup.restore(ctx.store, blob, source)
    names = {"kpis": ("KPI", "KPIs"), "entries": ("entry", "entries")}
    kinds = [
        f"{n} {names.get(kind, (kind[:-1], kind))[n != 1]}" for kind, n in counts.items()
    ]
    ctx.print(f"restored {', '.join(kinds[:-1])} and {kinds[-1]} into {ctx.store.path}")
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
        who = fmt.one_line(line.who or "?")
        ctx.print(f"{fmt.local_time(line.at)}  {who:<10} {fmt.one_line(line.what)}")
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
        ctx.out.write(fmt.safe(buf.getvalue()))  # for eyes: escapes shown, not obeyed
    else:
        csvio.export_csv(snap, ctx.out)  # for files and pipes: the data exactly
    return 0


# --- the parser -------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line: `teamboard: <message> (see ... --help)`, and
    every negative number (`-1e3`, `-.5`, `-inf`) read as a value, never as an option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(
            r"^-(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?%?|inf|infinity|nan)$", re.ASCII | re.I
        )

    def error(self, message: str) -> Any:  # argparse's NoReturn
        self.exit(2, f"teamboard: {validate.printable(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
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
    p.set_defaults(func=cmd_show, board=None, wall=False, rotate=None, poll=False)
    sub = p.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help: str, func: Command, parent: Any = sub) -> argparse.ArgumentParser:
        c: argparse.ArgumentParser = parent.add_parser(name, help=help, description=help)
        c.set_defaults(func=func)
        return c

    def group(name: str, help: str) -> Any:
        g = sub.add_parser(name, help=help, description=help)
        subs = g.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
        g.set_defaults(func=lambda ctx: _usage(g, subs))
        return subs

    def json_flag(c: argparse.ArgumentParser) -> None:
        c.add_argument("--json", action="store_true", help="print JSON instead of text")

    def board_opt(
        c: argparse.ArgumentParser,
        what: str = "the board of the KPI, when its name is on several boards",
    ) -> None:
        c.add_argument("--board", metavar="BOARD", help=what)

    c = command("init", "create an empty store (or --demo: one with sample data)", cmd_init)
    c.add_argument(
        "--demo", action="store_true", help="fill the new store with a demo department and team"
    )

    c = command("show", "open the live board (the default command)", cmd_show)
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

    c = command("demo", "open the live board on a demo store in a temporary folder", cmd_demo)
    c.add_argument("--wall", action="store_true", help="wall-monitor mode")

    c = command(
        "huddle", "run the daily huddle: red KPIs first, then actions, with a timer", cmd_huddle
    )
    c.add_argument(
        "board",
        nargs="?",
        metavar="BOARD",
        help="the board to review (default: the first top-level one)",
    )
    c.add_argument(
        "--minutes", default="15", metavar="N", help="the time box in minutes (default 15)"
    )

    c = command("minutes", "print the minutes of a huddle (the last one by default)", cmd_minutes)
    when = c.add_mutually_exclusive_group()
    when.add_argument("--last", action="store_true", help="the last huddle (the default)")
    when.add_argument("--date", metavar="DATE", help="every huddle held on DATE")
    c.add_argument("--board", metavar="BOARD", help="only this board's huddles")
    c.add_argument(
        "--format", choices=("md", "json"), default="md", help="md (Markdown, default) or json"
    )

    boards = group("board", "add, list and edit boards")
    c = command("add", "add a board", cmd_board_add, boards)
    c.add_argument("name", metavar="NAME", help="the board's name")
    c.add_argument(
        "--parent", metavar="BOARD", help="the board above it (its KPIs feed that one's)"
    )
    c.add_argument("--description", metavar="TEXT", help="what the board is for")
    c.add_argument("--kpi-limit", metavar="N", help="most KPIs the board may track (default 7)")
    c = command("list", "list the boards as a tree", cmd_board_list, boards)
    json_flag(c)
    c = command(
        "edit",
        "rename a board or change its description, parent or KPI limit",
        cmd_board_edit,
        boards,
    )
    c.add_argument("board", metavar="BOARD", help="the board to change")
    c.add_argument("--name", metavar="NAME", help="a new name")
    c.add_argument("--description", metavar="TEXT", help="a new description")
    c.add_argument("--parent", metavar="BOARD", help='a new parent board ("" for none)')
    c.add_argument("--kpi-limit", metavar="N", help="a new KPI limit")

    kpis = group("kpi", "add, list, edit and archive KPIs")
    c = command("add", "add a KPI to a board", cmd_kpi_add, kpis)
    c.add_argument("name", metavar="NAME", help="the KPI's name, e.g. OEE")
    c.add_argument("--board", metavar="BOARD", required=True, help="the board to add it to")
    c.add_argument("--target", metavar="T", required=True, help="the target value")
    _kpi_options(c)
    c.add_argument("--force", action="store_true", help="add it even beyond the board's KPI limit")
    c = command("list", "list KPIs (every board's, or BOARD's)", cmd_kpi_list, kpis)
    c.add_argument("board", nargs="?", metavar="BOARD", help="only this board's KPIs")
    c.add_argument("--archived", action="store_true", help="include archived KPIs")
    json_flag(c)
    c = command(
        "edit", "change a KPI's settings (the target has its own command)", cmd_kpi_edit, kpis
    )
    c.add_argument("kpi", metavar="KPI", help="the KPI's name (any case)")
    board_opt(c)
    c.add_argument("--name", metavar="NAME", help="a new name")
    _kpi_options(c, editing=True)
    c = command(
        "archive",
        "archive a KPI (off the board, history kept) or --restore it",
        cmd_kpi_archive,
        kpis,
    )
    c.add_argument("kpi", metavar="KPI", help="the KPI's name")
    board_opt(c)
    c.add_argument("--restore", action="store_true", help="bring an archived KPI back")

    c = command(
        "target", "set a KPI's target from a date on (earlier periods keep theirs)", cmd_target
    )
    c.add_argument("kpi", metavar="KPI", help="the KPI's name")
    c.add_argument("value", metavar="VALUE", help="the new target")
    c.add_argument(
        "--from", dest="since", metavar="DATE", help="the first day it applies (default today)"
    )
    board_opt(c)

    c = command("record", "record an actual and print the KPI's status", cmd_record)
    c.add_argument("kpi", metavar="KPI", help="the KPI's name (any case)")
    c.add_argument("value", metavar="VALUE", help="the actual, e.g. 78.5")
    board_opt(c)
    c.add_argument("--date", metavar="DATE", help="the period it is for (default today)")
    c.add_argument(
        "--plan",
        metavar="P",
        help="the planned value for this period (compared instead of the target)",
    )
    c.add_argument("--note", metavar="TEXT", help="what happened, for the huddle")

    c = command("note", "add a note to a KPI's latest entry", cmd_note)
    c.add_argument("kpi", metavar="KPI", help="the KPI's name")
    c.add_argument("text", metavar="TEXT", help="the note")
    board_opt(c)

    c = command("history", "every entry of a KPI, superseded ones included", cmd_history)
    c.add_argument("kpi", metavar="KPI", help="the KPI's name (archived ones too)")
    board_opt(c)
    json_flag(c)

    acts = group("action", "add, list, move and edit actions (countermeasures)")
    c = command("add", "add an action; prints its id", cmd_action_add, acts)
    c.add_argument("title", metavar="TITLE", help="what will be done")
    board_opt(c, "its board (default: the KPI's, else the first top-level board)")
    c.add_argument("--kpi", metavar="KPI", help="the KPI it serves")
    c.add_argument("--owner", metavar="LOGIN", help="who does it")
    c.add_argument("--due", metavar="DATE", help="when it is due (future dates welcome)")
    c = command("list", "list open actions (every board's, or BOARD's)", cmd_action_list, acts)
    c.add_argument("board", nargs="?", metavar="BOARD", help="only this board's actions")
    c.add_argument("--all", action="store_true", help="include done actions")
    json_flag(c)
    c = command("move", "move an action to a PDCA stage", cmd_action_move, acts)
    c.add_argument("id", metavar="ID", help="the action's id, 12 or #12")
    c.add_argument("stage", metavar="STAGE", help="plan, do, check, act, done, or next")
    c = command("done", "mark an action done", cmd_action_done, acts)
    c.add_argument("id", metavar="ID", help="the action's id, 12 or #12")
    c = command("edit", "change an action's title, owner, due date or KPI", cmd_action_edit, acts)
    c.add_argument("id", metavar="ID", help="the action's id, 12 or #12")
    c.add_argument("--title", metavar="TITLE", help="a new title")
    c.add_argument("--owner", metavar="LOGIN", help='a new owner ("" for nobody)')
    c.add_argument("--due", metavar="DATE", help='a new due date ("none" to clear)')
    c.add_argument("--kpi", metavar="KPI", help="the KPI it serves (on the action's board)")

    c = command("status", "are we winning or losing? KPIs and open actions as text", cmd_status)
    c.add_argument(
        "board", nargs="?", metavar="BOARD", help="the board (default: the first top-level one)"
    )
    c.add_argument("--all", action="store_true", help="every board")
    json_flag(c)

    c = command(
        "import",
        "import actuals from CSV (board,kpi,date,value[,plan,note]); all or nothing",
        cmd_import,
    )
    c.add_argument("file", metavar="FILE", help="the CSV file, or - for stdin")
    c.add_argument(
        "--create", action="store_true", help="create missing boards and KPIs (target: the mean)"
    )

    c = command(
        "restore", "create a store from a JSON export (never over an existing store)", cmd_restore
    )
    c.add_argument("file", metavar="FILE", help="the export (teamboard export --format json), or -")

    c = command("log", "the change log: who changed what and when, newest first", cmd_log)
    c.add_argument("--board", metavar="B", help="only this board (and the boards under it)")
    c.add_argument("--kpi", metavar="K", help="only this KPI")
    c.add_argument("--since", metavar="DATE", help="only changes on or after DATE")
    c.add_argument("--json", action="store_true", help="as JSON")

    c = command("export", "print every entry as CSV, or the whole store as JSON", cmd_export)
    c.add_argument(
        "--format",
        choices=("csv", "json"),
        default="csv",
        help="csv (entries) or json (everything)",
    )
    return p


def _kpi_options(c: argparse.ArgumentParser, editing: bool = False) -> None:
    clear = ' ("" to clear)' if editing else ""
    c.add_argument(
        "--direction", metavar="up|down", help="up: higher is better (default); down: lower"
    )
    c.add_argument("--unit", metavar="U", help=f"the unit, e.g. %% or min{clear}")
    c.add_argument(
        "--amber", metavar="A", help=f"amber between A and the target, red beyond{clear}"
    )
    c.add_argument(
        "--frequency",
        metavar="daily|weekly|monthly",
        help="how often it is recorded (default daily)",
    )
    c.add_argument("--owner", metavar="LOGIN", help=f"who looks after it{clear}")
    c.add_argument("--goal", metavar="TEXT", help="the goal it serves")
    c.add_argument(
        "--kind", metavar="leading|lagging", help="leading (predicts) or lagging (results; default)"
    )
    c.add_argument("--counter", metavar="KPI", help=f"its counter-metric on the same board{clear}")
    c.add_argument("--description", metavar="TEXT", help="how it is measured")


def _usage(parser: argparse.ArgumentParser, subs: Any) -> int:
    """`teamboard kpi` alone: one line naming the commands it has."""
    raise BadInput(
        f"{parser.prog.removeprefix('teamboard ')} needs a command: {', '.join(subs.choices)} "
        f"(see {parser.prog} --help)"
    )


def main(argv: Sequence[str] | None = None, today: date | None = None) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    out, err = sys.stdout, sys.stderr
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help (0) or a usage error (2)
            return exc.code if isinstance(exc.code, int) else 2
        ctx = Ctx(args, today or date.today(), out, err)
        code = int(args.func(ctx))
        out.flush()
        return code
    except StoreError as exc:
        for line in getattr(exc, "details", ()):
            err.write(f"teamboard: {validate.printable(line)}\n")
        err.write(f"teamboard: {validate.printable(str(exc))}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        err.write("\nteamboard: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`teamboard export | head`): stop quietly, and keep Python from
        # complaining when it flushes stdout at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, out.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except OSError as exc:
        err.write(f"teamboard: {validate.printable(str(exc))}\n")
        return 1
    except Exception as exc:  # a bug: still one line, and an exit code scripts can tell apart
        if isinstance(exc, UnicodeEncodeError) and exc.encoding.replace("-", "").lower() != "utf8":
            err.write(
                f"teamboard: this terminal takes {exc.encoding} and cannot show the answer: "
                "use a UTF-8 locale (e.g. LANG=C.UTF-8)\n"
            )
            return 1
        if os.environ.get("TEAMBOARD_DEBUG"):
            raise
        detail = validate.printable(str(exc))[:200]
        err.write(
            f"teamboard: internal error ({type(exc).__name__}: {detail}); this is a bug, please "
            "report it with the command you ran (TEAMBOARD_DEBUG=1 shows the traceback)\n"
        )
        return 70


if __name__ == "__main__":
    sys.exit(main())
