"""Bulk import of actuals from CSV, and export of every entry as CSV.

Import is all or nothing: every row is checked inside one transaction, and if any row is
rejected the transaction raises `ImportRejected` (listing every bad row) and writes nothing.

CSV columns: `board,kpi,date,value`, optional `plan,note`. The export's own `who,at` columns
are accepted and ignored (an import records who imported and when), so an export imports back.
With `--create`, optional `unit,direction,target,amber,frequency,owner,kind` set up the KPIs it
makes (the first row that gives one counts; a different one later is an error); where absent,
the report says which defaults were chosen (`CreatedKpi`). A row that repeats the value, plan
and note already current for its KPI and day is skipped and counted (`force` records it again).
An error repeated on many rows is reported once, with the count and the first rows.
Values are written like `78.5` (a point, no thousands separators); dates like `2024-05-10`.

Formulas (OWASP "CSV injection"): a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`,
a tab or a carriage return. On export, every text cell (board, kpi, note, who, at) that starts
with one of those, with an apostrophe, or with or ends in white space gets one leading
apostrophe, which spreadsheets show as "text". On import, a text cell that starts with an
apostrophe loses exactly that one character and is taken literally (not trimmed); other cells
are trimmed. So export -> import gives back the identical text. Numeric cells (value, plan) are
numbers (`repr` of a float) and are never escaped.

The JSON export of the whole store, and restore, live in `store.backup`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO

from . import codec, validate
from .db import Store, Tx
from .errors import BadInput
from .model import Direction, Frequency, Kind
from .snapshot import Snapshot

REQUIRED = ("board", "kpi", "date", "value")
OPTIONAL = ("plan", "note")
IGNORED = ("who", "at")  # written by `export`; an import records its own
EXPORT_COLUMNS = (*REQUIRED, *OPTIONAL, *IGNORED)
# How a KPI that `--create` makes is set up (ignored for KPIs that exist).
KPI_COLUMNS = ("unit", "direction", "target", "amber", "frequency", "owner", "kind")
ACCEPTED = (*EXPORT_COLUMNS, *KPI_COLUMNS)
SHOWN_ROWS = 5  # of a repeated error or of skipped rows, the first ones shown


class ImportRejected(BadInput):
    """Some rows are wrong; nothing was written. `problems` lists (row number, reason)."""

    def __init__(self, source: str, problems: list[tuple[int, str]], total: int) -> None:
        n = len(problems)
        super().__init__(
            f"{source}: {n} of {total} row{'s' if total != 1 else ''} rejected; nothing was "
            "imported. Fix the rows above and run the import again"
        )
        self.problems = problems
        self.details = _grouped(source, problems)


def _grouped(source: str, problems: list[tuple[int, str]]) -> list[str]:
    """One line per distinct reason: a reason on many rows (a foreign file: every row) says
    how many and which first, instead of one identical line per row."""
    rows_of: dict[str, list[int]] = {}
    for row, reason in problems:
        rows_of.setdefault(reason, []).append(row)
    lines = []
    for reason, rows in sorted(rows_of.items(), key=lambda x: x[1][0]):
        if len(rows) == 1:
            lines.append(f"{source}:{rows[0]}: {reason}")
        else:
            first = ", ".join(str(r) for r in rows[:SHOWN_ROWS])
            more = ", …" if len(rows) > SHOWN_ROWS else ""
            lines.append(f"{source}:{rows[0]}: {reason} ({len(rows)} rows: {first}{more})")
    return lines


@dataclass(frozen=True)
class CreatedKpi:
    """A KPI `--create` made: its settings, which of them are defaults (absent columns), and
    the first and last day of its imported values (a fix's `--from`)."""

    board: str
    name: str
    target: float
    settings: dict[str, object]  # unit, direction, amber, frequency, owner, kind
    defaults: tuple[str, ...]  # the columns that were absent: "target", "direction", ...
    first: date
    last: date


@dataclass
class ImportReport:
    entries: int = 0
    boards_created: list[str] = field(default_factory=list)
    kpis_created: list[tuple[str, str, float]] = field(default_factory=list)  # board, kpi, target
    created: list[CreatedKpi] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # rows repeating what the store holds


@dataclass
class _Row:
    number: int
    board: str
    kpi: str
    day: date
    value: float
    plan: float | None
    note: str
    settings: dict[str, object] = field(default_factory=dict)  # the KPI columns given


def read_rows(text: str, source: str) -> tuple[list[dict[str, str]], list[int]]:
    """Parse CSV text into dicts (keys lower-cased) and the file line number of each row."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise BadInput(f"{source} is empty: the first line must be the header {','.join(REQUIRED)}")
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in ACCEPTED]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
        raise BadInput(
            f"{source}: {' and '.join(parts)}; the header must be "
            f"{','.join(REQUIRED)} with optional {','.join(OPTIONAL)} (and, for KPIs --create "
            f"makes, {','.join(KPI_COLUMNS)})"
        )
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    try:
        for raw in reader:
            line = reader.line_num
            if None in raw:
                # more cells than the header has columns
                rows.append({"__extra__": "1"})
            elif all(not (v or "").strip() for v in raw.values()):
                continue  # a blank line
            else:
                rows.append({k: (v or "") for k, v in raw.items()})
            lines.append(line)
    except csv.Error as exc:
        raise BadInput(f"{source}:{reader.line_num}: not valid CSV ({exc})") from None
    return rows, lines


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_cell(text: str) -> str:
    """A text cell a spreadsheet will show as text, never run (see the module docstring)."""
    return "'" + text if text.startswith(FORMULA_START) or text != text.strip() else text


def unescape_cell(cell: str) -> tuple[str, bool]:
    """The text of an imported cell, and whether it was escaped (then it is kept exactly)."""
    return (cell[1:], True) if cell.startswith("'") else (cell, False)


def _check_row(number: int, raw: dict[str, str], today: date) -> _Row:
    if "__extra__" in raw:
        raise BadInput("more cells than the header has columns (quote values with commas)")
    board = validate.name(unescape_cell(raw["board"])[0], "board")
    kpi = validate.name(unescape_cell(raw["kpi"])[0], "KPI")
    day = validate.day(raw["date"], today)
    value = validate.number(raw["value"], "value")
    plan_text = raw.get("plan", "").strip()
    plan = validate.number(plan_text, "plan") if plan_text else None
    note, literal = unescape_cell(raw.get("note", ""))
    note = validate.text(note, "note", strip=not literal)
    return _Row(number, board, kpi, day, value, plan, note, _settings(raw))


def _settings(raw: dict[str, str]) -> dict[str, object]:
    """The KPI columns a row gives (blank cells are absent), checked like `kpi add`'s."""
    out: dict[str, object] = {}
    for col in KPI_COLUMNS:
        text = unescape_cell(raw.get(col, ""))[0].strip()
        if not text:
            continue
        if col in ("target", "amber"):
            out[col] = validate.number(text, col)
        elif col == "unit":
            out[col] = validate.name(text, "unit", scripts=False)
        elif col == "owner":
            out[col] = validate.owner(text)
        elif col == "direction":
            out[col] = validate.choice(Direction, text, col).value
        elif col == "frequency":
            out[col] = validate.choice(Frequency, text, col).value
        else:
            out[col] = validate.choice(Kind, text, col).value
    return out


def import_csv(
    store: Store,
    text: str,
    today: date,
    create: bool = False,
    source: str = "CSV",
    force: bool = False,
) -> ImportReport:
    """Check every row, then insert all of them in one transaction, or none. Rows repeating
    what the store holds are skipped unless `force`."""
    rows, lines = read_rows(text, source)
    if not rows:
        raise BadInput(f"{source} has a header but no rows: nothing to import")
    with store.transaction() as tx:
        snap = tx.snapshot
        problems: list[tuple[int, str]] = []
        good: list[_Row] = []
        for raw, line in zip(rows, lines, strict=True):
            try:
                good.append(_check_row(line, raw, today))
            except BadInput as exc:
                problems.append((line, str(exc)))
        plan = _resolve(snap, good, create, problems)
        if problems:
            problems.sort()
            raise ImportRejected(source, problems, len(rows))
        return _write(tx, snap, good, plan, force)


@dataclass
class _Plan:
    boards: dict[str, int | None] = field(default_factory=dict)  # casefolded name -> id (None: new)
    board_names: dict[str, str] = field(default_factory=dict)  # casefolded -> as typed first
    kpis: dict[tuple[str, str], int | None] = field(default_factory=dict)
    kpi_names: dict[tuple[str, str], str] = field(default_factory=dict)
    values: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    settings: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    days: dict[tuple[str, str], list[date]] = field(default_factory=dict)


def _resolve(
    snap: Snapshot, rows: list[_Row], create: bool, problems: list[tuple[int, str]]
) -> _Plan:
    """Find each row's board and KPI; with `create`, plan the missing ones."""
    plan = _Plan()
    by_name = {b.name.casefold(): b for b in snap.boards.values()}
    names = [b.name for b in snap.boards.values()]
    hint = " (add --create to make missing boards and KPIs)" if not create else ""
    for r in rows:
        bkey = r.board.casefold()
        if bkey not in plan.boards:
            b = by_name.get(bkey)
            if b is None and not create:
                problems.append((r.number, f"no board named {r.board!r}{hint}"))
                continue
            if b is None and not _fresh(r, [*names, *plan.board_names.values()], "board", problems):
                continue
            plan.boards[bkey] = b.id if b else None
            plan.board_names[bkey] = b.name if b else r.board
        board_id = plan.boards[bkey]
        kkey = (bkey, r.kpi.casefold())
        if kkey not in plan.kpis:
            found = None
            if board_id is not None:
                found = next(
                    (
                        k
                        for k in snap.kpis_of(board_id, archived=True)
                        if k.name.casefold() == kkey[1]
                    ),
                    None,
                )
            if found is None and not create:
                problems.append(
                    (r.number, f"board {plan.board_names[bkey]!r} has no KPI named {r.kpi!r}{hint}")
                )
                continue
            if found is None:
                taken = [k.name for k in snap.kpis_of(board_id, archived=True)] if board_id else []
                taken += [n for (bk, _), n in plan.kpi_names.items() if bk == bkey]
                if not _fresh(r, taken, "KPI", problems, r.kpi):
                    continue
            plan.kpis[kkey] = found.id if found else None
            plan.kpi_names[kkey] = found.name if found else r.kpi
        if plan.kpis[kkey] is None:
            plan.values.setdefault(kkey, []).append(r.value)
            plan.days.setdefault(kkey, []).append(r.day)
            _merge(plan, kkey, r, problems)
    if create:
        _check_limits(snap, rows, plan, problems)
        _check_settings(rows, plan, problems)
    return plan


def _merge(plan: _Plan, kkey: tuple[str, str], r: _Row, problems: list[tuple[int, str]]) -> None:
    """The first row that gives a KPI column sets it; a different value later is an error."""
    have = plan.settings.setdefault(kkey, {})
    for col, value in r.settings.items():
        if col not in have:
            have[col] = value
            have[f"{col}@row"] = r.number
        elif have[col] != value:
            problems.append(
                (
                    r.number,
                    f"{col} {value!s} for KPI {r.kpi!r} differs from {have[col]!s} on row "
                    f"{have[f'{col}@row']}: give one {col} per KPI",
                )
            )


def _check_settings(rows: list[_Row], plan: _Plan, problems: list[tuple[int, str]]) -> None:
    """Amber must lie on the wrong side of the target, as with `kpi add`."""
    for kkey, kid in plan.kpis.items():
        if kid is not None:
            continue
        s = plan.settings.get(kkey, {})
        amber = s.get("amber")
        if not isinstance(amber, float):
            continue
        values = plan.values[kkey]
        target = s.get("target")
        target = target if isinstance(target, float) else sum(values) / len(values)
        direction = Direction(str(s.get("direction", "up")))
        wrong = amber >= target if direction is Direction.UP else amber <= target
        if wrong:
            side = "below" if direction is Direction.UP else "above"
            problems.append(
                (
                    int(str(s["amber@row"])),
                    f"amber {amber:g} for KPI {plan.kpi_names[kkey]!r} must be {side} its target "
                    f"{target:g} ({direction.value}: {'higher' if side == 'below' else 'lower'} "
                    "is better)",
                )
            )


def _fresh(
    r: _Row, taken: list[str], what: str, problems: list[tuple[int, str]], name: str = ""
) -> bool:
    """A board or KPI that `--create` would make must not only look like one in use."""
    try:
        validate.lookalike(name or r.board, taken, what)
    except BadInput as exc:
        problems.append((r.number, str(exc)))
        return False
    return True


def _check_limits(
    snap: Snapshot, rows: list[_Row], plan: _Plan, problems: list[tuple[int, str]]
) -> None:
    """New KPIs must fit their board's limit of the vital few, as with `kpi add`."""
    new_per_board: dict[str, list[tuple[str, str]]] = {}
    for kkey, kid in plan.kpis.items():
        if kid is None:
            new_per_board.setdefault(kkey[0], []).append(kkey)
    for bkey, new in new_per_board.items():
        board_id = plan.boards[bkey]
        limit = snap.boards[board_id].kpi_limit if board_id is not None else 7
        live = len(snap.kpis_of(board_id)) if board_id is not None else 0
        if live + len(new) <= limit:
            continue
        first = min(r.number for r in rows if (r.board.casefold(), r.kpi.casefold()) in new)
        problems.append(
            (
                first,
                f"creating {len(new)} KPI(s) would give board {plan.board_names[bkey]!r} "
                f"{live + len(new)} KPIs, over its limit of {limit}: raise it with "
                "`teamboard board edit BOARD --kpi-limit N` or add the KPIs first",
            )
        )


_DEFAULTS: dict[str, object] = {
    "unit": "",
    "direction": "up",
    "amber": None,
    "frequency": "daily",
    "owner": "",
    "kind": "lagging",
}


def _write(tx: Tx, snap: Snapshot, rows: list[_Row], plan: _Plan, force: bool) -> ImportReport:
    report = ImportReport()
    board_ids: dict[str, int] = {}
    for bkey, bid in plan.boards.items():
        if bid is None:
            doc = tx.insert("boards", codec.board_doc(plan.board_names[bkey]))
            bid = int(doc["id"])
            report.boards_created.append(plan.board_names[bkey])
        board_ids[bkey] = bid
    kpi_ids: dict[tuple[str, str], int] = {}
    for kkey, kid in plan.kpis.items():
        if kid is None:
            values = plan.values[kkey]
            given = plan.settings.get(kkey, {})
            # A provisional target: the mean, to 4 significant digits (not 15.213698630137).
            mean = float(f"{sum(values) / len(values):.4g}")
            target = given.get("target", mean)
            assert isinstance(target, float)
            settings = {c: given.get(c, d) for c, d in _DEFAULTS.items()}
            doc = tx.insert(
                "kpis",
                codec.kpi_doc(
                    board=board_ids[kkey[0]],
                    name=plan.kpi_names[kkey],
                    targets=[codec.target_doc(target, None, tx.who, tx.at)],
                    direction=Direction(str(settings["direction"])),
                    unit=str(settings["unit"]),
                    amber=settings["amber"] if isinstance(settings["amber"], float) else None,
                    frequency=Frequency(str(settings["frequency"])),
                    owner=str(settings["owner"]),
                    kind=Kind(str(settings["kind"])),
                ),
            )
            kid = int(doc["id"])
            board_name, name = plan.board_names[kkey[0]], plan.kpi_names[kkey]
            report.kpis_created.append((board_name, name, target))
            days = plan.days[kkey]
            report.created.append(
                CreatedKpi(
                    board_name,
                    name,
                    target,
                    settings,
                    tuple(c for c in KPI_COLUMNS if c not in given),
                    min(days),
                    max(days),
                )
            )
        kpi_ids[kkey] = kid
    # What each KPI and day holds now (the latest record): a row repeating it is skipped.
    current: dict[tuple[int, date], tuple[float, float | None, str]] = {}
    for kpi_id, lst in snap.entries.items():
        for e in sorted(lst, key=lambda e: e.id):
            current[(kpi_id, e.day)] = (e.value, e.plan, e.note)
    docs = []
    for r in rows:
        kpi = kpi_ids[(r.board.casefold(), r.kpi.casefold())]
        same = current.get((kpi, r.day)) == (r.value, r.plan, r.note)
        if same and not force:
            report.skipped.append(r.number)
            continue
        current[(kpi, r.day)] = (r.value, r.plan, r.note)
        entry = codec.entry_doc(kpi, r.day, r.value, r.plan, r.note)
        docs.append({"id": tx.next_id("entries"), **entry, "who": tx.who, "at": tx.at})
    if not docs:
        return report  # every row repeats the store: nothing is written
    # One table update for all rows: TinyDB rewrites the whole table on every insert, so
    # row-by-row inserts are quadratic (5,000 rows into 5,000 entries: 6.4 s; this way the
    # whole import takes 0.3 s).
    tx.insert_many("entries", docs)
    report.entries = len(docs)
    tx.touch(f"imported {report.entries} entries")
    return report


# --- export -----------------------------------------------------------------------------------


def _number(x: float | None) -> str:
    """Exact and short: `80`, `78.5`, `0.1` (repr round-trips every float)."""
    if x is None:
        return ""
    text = repr(x)
    return text[:-2] if text.endswith(".0") else text


def export_rows(snap: Snapshot) -> Iterator[list[str]]:
    """The CSV rows, header first: every entry (superseded and archived ones included) in
    record order per KPI, so importing them back keeps the same latest values."""
    yield list(EXPORT_COLUMNS)
    for kpi_id in sorted(snap.entries):
        k = snap.kpis.get(kpi_id)
        board = snap.boards.get(k.board) if k else None
        for e in snap.entries[kpi_id]:
            yield [
                escape_cell(board.name if board else ""),
                escape_cell(k.name if k else ""),
                e.day.isoformat(),
                _number(e.value),
                _number(e.plan),
                escape_cell(e.note),
                escape_cell(e.who),
                escape_cell(e.at),
            ]


def export_csv(snap: Snapshot, out: TextIO) -> None:
    """The rows of `export_rows`, one per line. A row with a carriage return in a cell is
    quoted whole: with `\n` as the line end the csv module would leave a bare CR unquoted, and
    every reader would split the row there."""
    writer = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in export_rows(snap):
        (quoted if any("\r" in c for c in row) else writer).writerow(row)
