"""Terminal things for the command line: colour, tables, safe store text and `--json`.

How a number, a unit, a variance or a date reads is `store.present`'s business (the board and
the huddle use the same); this module only puts those strings on a terminal. Every string that
comes from the store goes through `safe` or `one_line` before it reaches one: an escape sequence
in a note is shown, never obeyed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from store.model import Action, Kpi, Status
from store.rules import KpiView
from store.snapshot import Snapshot
from store.validate import printable
from tui.lean import Painter as Painter
from tui.lean import one_line as one_line
from tui.lean import status_word as status_word
from tui.lean import use_colour as use_colour
from tui.lean import write as write

# Colour, `one_line` and `write` live in `tui.lean`, which `teamboard record` imports without the
# rest of the command line; re-exported here for the commands.
Cell = tuple[str, str]  # (plain text, painted text): widths come from the plain one


# --- strings from the store ---------------------------------------------------------------------


def safe(value: str) -> str:
    """A stored string made harmless for a terminal (control characters become visible)."""
    return printable(value)


# --- tables -------------------------------------------------------------------------------------


def table(rows: Sequence[Sequence[Cell]], indent: str = "  ") -> list[str]:
    """Left-aligned columns; the last cell of a row is never padded."""
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


def cell(text: str, paint: Painter | None = None, style: str | Status | None = None) -> Cell:
    """A table cell, painted in `style` when colour is on."""
    if paint is None or style is None:
        return (text, text)
    return (text, paint(text, style))


# --- plain dicts for --json ---------------------------------------------------------------------


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def kpi_view_json(view: KpiView) -> dict[str, Any]:
    """A KPI's state today, for `status --json`."""
    latest = view.latest
    var = view.variance
    return {
        "board": view.board_name,
        "name": view.kpi.name,
        "id": view.kpi.id,
        "date": _iso(latest.day) if latest else None,
        "value": latest.value if latest else None,
        "unit": view.kpi.unit,
        "target": view.kpi.target_on(latest.day)
        if latest
        else view.kpi.target_on(view.today)
        if view.today
        else view.kpi.target,
        "plan": latest.plan if latest else None,
        "status": view.status.value,
        "colour": view.colour.value if view.colour else None,
        "trend": view.trend.value,
        "variance": var[0] if var else None,
        "variance_pct": var[1] if var else None,
        "flags": [f.value for f in view.flags],
        "stale_since": _iso(view.stale_since),
        "owner": view.kpi.owner,
        "kind": view.kpi.kind.value,
        "direction": view.kpi.direction.value,
        "frequency": view.kpi.frequency.value,
        "counter": view.counter_name,
        "note": latest.note if latest else "",
        "actions": [a.id for a in view.open_actions],
        "due": view.kpi.due.strftime("%H:%M") if view.kpi.due else None,
        "late_since": view.late_due.isoformat(timespec="minutes") if view.late_due else None,
        "explanation": {
            "text": view.explanation.text,
            "until": view.explanation.until.isoformat(),
            "who": view.explanation.who,
        }
        if view.explanation
        else None,
    }


def action_json(a: Action, snap: Snapshot, today: date) -> dict[str, Any]:
    """An action with its KPI and board by name, for `action list --json` and `status --json`."""
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
        "escalation": _escalation_json(a, snap),
    }


def _escalation_json(a: Action, snap: Snapshot) -> dict[str, Any] | None:
    """Where an escalated action went, since when, and what came back (None: never raised)."""
    e = a.escalation
    if e is None:
        return None
    name = {b.id: b.name for b in snap.boards.values()}
    return {
        "to": name.get(e.to), "from": name.get(e.origin), "why": e.why, "who": e.who,
        "at": e.at, "waiting": a.waiting, "answer": e.answer or None,
        "answered_by": e.answered_by or None, "answered_at": e.answered_at or None,
        "taken_by": e.taken_by or None, "taken_at": e.taken_at or None,
    }  # fmt: skip


def kpi_json(k: Kpi, snap: Snapshot, today: date | None = None) -> dict[str, Any]:
    """A KPI's settings and its targets over time, for `kpi list --json`: `target` is the one
    in force `today`, `next_target` the next one set, if any."""
    board = snap.boards.get(k.board)
    counter = snap.kpis.get(k.counter) if k.counter is not None else None
    nxt = k.next_target(today) if today is not None else None
    return {
        "id": k.id,
        "board": board.name if board else None,
        "name": k.name,
        "target": k.target_on(today) if today is not None else k.target,
        "next_target": {"value": nxt.value, "from": _iso(nxt.since)} if nxt else None,
        "due": k.due.strftime("%H:%M") if k.due else None,
        "targets": [{"value": t.value, "from": _iso(t.since)} for t in k.targets],
        "direction": k.direction.value,
        "unit": k.unit,
        "amber": k.amber,
        "frequency": k.frequency.value,
        "owner": k.owner,
        "goal": k.goal,
        "goal_id": k.goal_id,
        "kind": k.kind.value,
        "counter": counter.name if counter else None,
        "description": k.description,
        "archived": k.archived,
        "category": k.category,  # the SQCDP calendar's; "" for none
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
