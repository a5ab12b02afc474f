"""Parse and check what people type.

Every failure is a `BadInput` with one line that says what was wrong and how to fix it.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import date, timedelta
from typing import TypeVar

from .errors import BadInput
from .model import Direction, Frequency, Kind, Stage

MAX_NAME = 60
MAX_TEXT = 2000


def number(text: str | float, what: str = "value") -> float:
    """A finite number; commas as thousands separators are accepted ("1,250")."""
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        cleaned = text.strip().replace(",", "").replace("_", "")
        if cleaned.endswith("%"):
            cleaned = cleaned[:-1]
        try:
            value = float(cleaned)
        except ValueError:
            raise BadInput(f"{what} {text!r} is not a number: write it like 42 or 3.5") from None
    if not math.isfinite(value):
        raise BadInput(f"{what} must be a finite number, not {text!r}")
    return value


def day(text: str, today: date, what: str = "date", future_ok: bool = False) -> date:
    """YYYY-MM-DD, `today`, `yesterday` or -N (N days ago). At most one day ahead for actuals."""
    t = text.strip().lower()
    if t == "today":
        d = today
    elif t == "yesterday":
        d = today - timedelta(days=1)
    elif t.startswith("-") and t[1:].isdigit():
        d = today - timedelta(days=int(t[1:]))
    else:
        try:
            d = date.fromisoformat(t)
        except ValueError:
            raise BadInput(
                f"{what} {text!r} is not a date: use YYYY-MM-DD (e.g. {today.isoformat()}), "
                "today, yesterday or -N for N days ago"
            ) from None
    if not future_ok and d > today + timedelta(days=1):
        raise BadInput(
            f"{what} {d.isoformat()} is more than a day ahead: actuals are recorded for periods "
            "that have happened"
        )
    return d


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def name(text: str, what: str = "name") -> str:
    """A board or KPI name: not empty, no control characters, at most MAX_NAME characters."""
    cleaned = " ".join(text.split()) if not _has_control(text) else None
    if cleaned is None:
        raise BadInput(f"{what} {text!r} contains control characters: type it as plain text")
    if not cleaned:
        raise BadInput(f"{what} must not be empty")
    if len(cleaned) > MAX_NAME:
        raise BadInput(f"{what} is {len(cleaned)} characters long; keep it to {MAX_NAME}")
    return cleaned


def title(text: str, what: str = "title") -> str:
    """An action title or an owner: like a name, but longer titles are fine."""
    if _has_control(text):
        raise BadInput(f"{what} contains control characters: type it as plain text")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise BadInput(f"{what} must not be empty")
    if len(cleaned) > 200:
        raise BadInput(f"{what} is {len(cleaned)} characters long; keep it to 200")
    return cleaned


def owner(text: str) -> str:
    """A login; empty means nobody yet."""
    cleaned = text.strip()
    if _has_control(cleaned) or any(c.isspace() for c in cleaned):
        raise BadInput(f"owner {text!r} must be one login, without spaces (e.g. alice)")
    if len(cleaned) > 32:
        raise BadInput(f"owner {text!r} is too long for a login (32 characters at most)")
    return cleaned


def text(value: str, what: str = "note") -> str:
    """Free text (notes, goals, descriptions). Kept as typed; shown literally everywhere."""
    if len(value) > MAX_TEXT:
        raise BadInput(f"{what} is {len(value)} characters long; keep it to {MAX_TEXT}")
    return value.strip()


E = TypeVar("E", Direction, Frequency, Kind, Stage)


def choice(kind: type[E], value: str, what: str) -> E:
    try:
        return kind(value.strip().lower())
    except ValueError:
        options = ", ".join(m.value for m in kind)
        raise BadInput(f"{what} {value!r} is not one of: {options}") from None


def kpi_limit(value: str | int) -> int:
    try:
        n = int(value)
    except ValueError:
        raise BadInput(f"KPI limit {value!r} is not a whole number") from None
    if not 1 <= n <= 50:
        raise BadInput(f"KPI limit must be between 1 and 50 (a board shows a vital few), not {n}")
    return n


def printable(value: str) -> str:
    """Text from the store made safe for a terminal: control characters become visible symbols.

    ESC shows as ␛, so an escape sequence in a note is seen, never obeyed.
    """
    out = []
    for c in value:
        code = ord(c)
        if code < 0x20 and c not in "\n\t":
            out.append(chr(0x2400 + code))
        elif code == 0x7F:
            out.append("␡")
        elif 0x80 <= code < 0xA0 or unicodedata.category(c) == "Cf":
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(c)
    return "".join(out)
