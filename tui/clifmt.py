"""Text and JSON for the command line: numbers, glyphs, colours, tables, and views as plain dicts.

Imports only the stdlib and `store/`, so the command line starts fast. Every string that comes
from the store goes through `safe` (or `one_line`) before it reaches a terminal: an escape
sequence in a note is shown, never obeyed.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, TextIO

from store.model import Action, Kpi, Status
from store.present import STATUS_GLYPH as STATUS_GLYPH
from store.present import STATUS_WORD as STATUS_WORD
from store.present import TREND_ARROW
from store.rules import Flag, KpiView, Trend
from store.snapshot import Snapshot
from store.validate import printable

TREND_TEXT: dict[Trend, str] = {
    t: "" if t is Trend.UNKNOWN else f"{TREND_ARROW[t]} {t.value}" for t in Trend
}
FLAG_JSON = {
    Flag.RED_NO_ACTION: "red-no-action",
    Flag.COUNTER_RED: "counter-red",
    Flag.STALE: "stale",
}

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


# --- strings from the store -------------------------------------------------------------------


def safe(value: str) -> str:
    """A stored string made harmless for a terminal (control characters become visible)."""
    return printable(value)


def one_line(value: str) -> str:
    """`safe`, with line breaks and tabs folded so a table row stays one row."""
    return printable(value).replace("\r\n", "\n").replace("\n", " ↵ ").replace("\t", " ")


# --- numbers and dates ------------------------------------------------------------------------


def num(x: float) -> str:
    """A number exact enough to type back in: up to 6 significant digits, no trailing zeros.
    A non-finite value (only a hand-edited store has one) shows as `∞` or `n/a`, never fails."""
    if not math.isfinite(x):
        return "n/a" if math.isnan(x) else ("∞" if x > 0 else "-∞")
    if x == 0:
        return "0"
    if abs(x) >= 1e12 or abs(x) < 1e-4:
        return f"{x:.6g}"
    if x == int(x):
        return str(int(x))
    text = f"{x:.6g}" if abs(x) < 1e6 else f"{x:.2f}"
    if "e" in text:
        text = f"{x:.8f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def with_unit(x: float, unit: str) -> str:
    return f"{num(x)} {one_line(unit)}" if unit else num(x)


def signed(x: float) -> str:
    """`+1.5`, `−6.5` (a real minus sign), `0`."""
    if math.isnan(x):
        return num(x)
    if x > 0:
        return "+" + num(x)
    if x < 0:
        return "−" + num(-x)
    return "0"


def variance_text(view: KpiView) -> str:
    """`−6.5 / −7.6 %`: actual minus benchmark, absolute and in percent; empty without data."""
    var = view.variance
    if var is None:
        return ""
    diff, pct = var
    return signed(diff) + (f" / {signed(round(pct, 1))} %" if pct is not None else "")


def benchmark_text(view: KpiView) -> str:
    """`plan 80 %` when the latest entry has a plan, else `target 85 %`."""
    latest = view.latest
    word = "plan" if latest is not None and latest.plan is not None else "target"
    return f"{word} {with_unit(view.benchmark, view.kpi.unit)}"


def local_time(stamp: str) -> str:
    """A stored UTC timestamp (`2024-05-10T07:12:00Z`) as local `2024-05-10 09:12`."""
    if not stamp:
        return ""
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return safe(stamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def flag_texts(view: KpiView) -> list[str]:
    out = []
    for flag in view.flags:
        if flag is Flag.RED_NO_ACTION:
            out.append("red, no action")
        elif flag is Flag.COUNTER_RED:
            name = f" ({one_line(view.counter_name)})" if view.counter_name else ""
            out.append(f"counter-metric red{name}")
        elif flag is Flag.STALE and view.stale_since is not None:
            out.append(f"stale since {view.stale_since.isoformat()}")
    return out


def status_word(status: Status, paint: Painter) -> str:
    return paint(f"{STATUS_GLYPH[status]} {STATUS_WORD[status]}", status)


# --- tables -----------------------------------------------------------------------------------


def table(rows: Sequence[Sequence[tuple[str, str]]], indent: str = "  ") -> list[str]:
    """Left-aligned columns. Each cell is (plain text, painted text): widths use the plain one."""
    if not rows:
        return []
    ncols = max(len(r) for r in rows)
    widths = [0] * ncols
    for r in rows:
        for i, (plain, _) in enumerate(r):
            widths[i] = max(widths[i], len(plain))
    lines = []
    for r in rows:
        cells = []
        for i, (plain, painted) in enumerate(r):
            last = i == len(r) - 1
            cells.append(painted if last else painted + " " * (widths[i] - len(plain)))
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def cell(
    text: str, paint: Painter | None = None, style: str | Status | None = None
) -> tuple[str, str]:
    if paint is None or style is None:
        return (text, text)
    return (text, paint(text, style))


# --- plain dicts for --json -------------------------------------------------------------------


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def kpi_view_json(view: KpiView) -> dict[str, Any]:
    latest = view.latest
    var = view.variance
    return {
        "board": view.board_name,
        "name": view.kpi.name,
        "id": view.kpi.id,
        "date": _iso(latest.day) if latest else None,
        "value": latest.value if latest else None,
        "unit": view.kpi.unit,
        "target": view.kpi.target_on(latest.day) if latest else view.kpi.target,
        "plan": latest.plan if latest else None,
        "status": view.status.value,
        "colour": view.colour.value if view.colour else None,
        "trend": view.trend.value,
        "variance": var[0] if var else None,
        "variance_pct": var[1] if var else None,
        "flags": [FLAG_JSON[f] for f in view.flags],
        "stale_since": _iso(view.stale_since),
        "owner": view.kpi.owner,
        "kind": view.kpi.kind.value,
        "direction": view.kpi.direction.value,
        "frequency": view.kpi.frequency.value,
        "counter": view.counter_name,
        "note": latest.note if latest else "",
        "actions": [a.id for a in view.open_actions],
    }


def action_json(a: Action, snap: Snapshot, today: date) -> dict[str, Any]:
    kpi = snap.kpis.get(a.kpi) if a.kpi is not None else None
    board = snap.boards.get(a.board)
    return {
        "id": a.id,
        "title": a.title,
        "owner": a.owner,
        "due": _iso(a.due),
        "stage": a.stage.value,
        "overdue": a.overdue(today),
        "kpi": kpi.name if kpi else None,
        "board": board.name if board else None,
        "who": a.who,
        "at": a.at,
    }


def kpi_json(k: Kpi, snap: Snapshot) -> dict[str, Any]:
    board = snap.boards.get(k.board)
    counter = snap.kpis.get(k.counter) if k.counter is not None else None
    return {
        "id": k.id,
        "board": board.name if board else None,
        "name": k.name,
        "target": k.target,
        "targets": [{"value": t.value, "from": _iso(t.since)} for t in k.targets],
        "direction": k.direction.value,
        "unit": k.unit,
        "amber": k.amber,
        "frequency": k.frequency.value,
        "owner": k.owner,
        "goal": k.goal,
        "kind": k.kind.value,
        "counter": counter.name if counter else None,
        "description": k.description,
        "archived": k.archived,
    }


# C1 controls, soft hyphen, bidi overrides, zero-width and other invisible format characters.
_INVISIBLE = (
    "[\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb]"
)


# A JSON string, or a bare NaN / Infinity that Python's json writes but JSON has not.
_NON_FINITE = re.compile(r'("(?:[^"\\]|\\.)*")|-?Infinity|NaN')


def dumps(obj: Any) -> str:
    """JSON for people and for `jq`: UTF-8 kept readable, but C1 controls and invisible
    format characters escaped, so even a raw `cat` of the output cannot drive a terminal.
    A non-finite number (a hand-edited store) becomes null: the output is always valid JSON."""
    import json

    text = json.dumps(obj, ensure_ascii=False, indent=2)
    if "Infinity" in text or "NaN" in text:
        text = _NON_FINITE.sub(lambda m: m[1] or "null", text)
    return re.sub(_INVISIBLE, lambda m: f"\\u{ord(m.group()):04x}", text)


def write(stream: TextIO, text: str) -> None:
    """`text` and a line break (unless it ends with one already)."""
    stream.write(text if text.endswith("\n") else text + "\n")
