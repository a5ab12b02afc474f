"""Parse and check what people type.

Every failure is a `BadInput` with one line that says what was wrong and how to fix it. The
command line, the app's forms and the CSV importer all parse through here, so `78.5`, `-1` or
`OEE` means the same wherever it is typed.

- Numbers: ASCII digits with a decimal point, finite, and within ±1e15 (and 0 or at least 1e-15
  away from it), so no difference, mean or ratio of two stored values can overflow. A comma is
  refused: `78,5` would otherwise be read as 785.
- Dates: years 1 to 9999, whatever `-N` or `+N` asks for.
- Names: NFC, no invisible characters, no word that mixes look-alike letters of two scripts,
  and (`lookalike`) no new name that only looks like one in use (Cyrillic `ОЕЕ` beside `OEE`).
- Text: valid Unicode (argv decoded with surrogateescape carries stray bytes as surrogates,
  which cannot be written as JSON).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from typing import TypeVar

from .errors import BadInput
from .model import Board, Direction, Frequency, Kind, Stage

MAX_NAME = 60
MAX_TEXT = 2000
LIMIT = 1e15  # largest magnitude of a value, plan, target or amber
TINY = 1e-15  # smallest non-zero magnitude: a ratio to it stays finite
MAX_TIERS = 12  # a KPI tree deeper than this is a mistake (company, site, line, team, ...)

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?%?", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DAYS = re.compile(r"([+-])(\d+)", re.ASCII)
_ID = re.compile(r"#?(\d{1,9})", re.ASCII)


def _show(value: str, limit: int = 40) -> str:
    """The user's text quoted for a message: short, and with every odd character escaped."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _char(c: str) -> str:
    return f"U+{ord(c):04X} {unicodedata.name(c, '')}".rstrip()


def utf8(value: str, what: str) -> str:
    """Refuse text that carries bytes which are not UTF-8 (argv decoded with surrogateescape)."""
    if any("\ud800" <= c <= "\udfff" for c in value):
        raise BadInput(
            f"{what} {_show(value)} has bytes that are not UTF-8 text: "
            "type it again in a UTF-8 terminal (check LANG / LC_ALL)"
        )
    return value


# --- numbers ------------------------------------------------------------------------------------


def number(text: str | float, what: str = "value") -> float:
    """A finite, bounded number written with a decimal point; `%` at the end is allowed."""
    if isinstance(text, (int, float)):
        value = float(text)
        shown = repr(text)
    else:
        utf8(text, what)
        shown = _show(text)
        t = text.strip().replace("\u2212", "-")  # the minus sign teamboard prints
        if "," in t:
            raise BadInput(
                f"{what} {shown} has a comma: write decimals with a point (78.5) and no "
                "thousands separators (1250)"
            )
        if not _NUMBER.fullmatch(t):
            if t.lstrip("+-").lower() in ("inf", "infinity", "nan"):
                raise BadInput(f"{what} must be a finite number, not {shown}")
            raise BadInput(f"{what} {shown} is not a number: write it like 42, -3.5 or 1e3")
        value = float(t.removesuffix("%"))
    return bounded(value, what, shown)


def bounded(value: float, what: str = "value", shown: str | None = None) -> float:
    """`value` if it is finite and within ±LIMIT, and 0 or at least TINY away from it."""
    shown = shown or repr(value)
    if not math.isfinite(value):
        raise BadInput(f"{what} must be a finite number, not {shown}")
    if abs(value) > LIMIT:
        raise BadInput(
            f"{what} {shown} is too large: keep numbers within ±1e15, so that no difference, "
            "mean or ratio of two values can overflow"
        )
    if value != 0 and abs(value) < TINY:
        raise BadInput(
            f"{what} {shown} is too close to zero: write 0, or record it in a smaller unit "
            "(numbers other than 0 must be at least 1e-15 away from it)"
        )
    return value + 0.0  # -0.0 becomes 0.0


def whole(text: str | int, what: str, low: int, high: int) -> int:
    """A whole number in ASCII digits between `low` and `high`."""
    if isinstance(text, int):
        n = text
    else:
        t = text.strip()
        if not (t.isascii() and t.isdigit()):
            raise BadInput(f"{what} {_show(text)} is not a whole number: write it like {low}")
        n = int(t) if len(t) <= 9 else high + 1
    if not low <= n <= high:
        raise BadInput(f"{what} must be between {low} and {high}, not {_show(str(text))}")
    return n


def action_id(text: str) -> int:
    """`12` or `#12`, in ASCII digits."""
    m = _ID.fullmatch(text.strip())
    if m is None:
        raise BadInput(f"action id {_show(text)} is not a number: write it like 12 or #12")
    return int(m[1])


# --- dates --------------------------------------------------------------------------------------


def _shift(today: date, days: int, text: str, what: str) -> date:
    """`today` moved by `days`, or one line if that leaves years 1 to 9999."""
    ordinal = today.toordinal() + days
    if ordinal < 1:
        raise BadInput(f"{what} {_show(text)} is before the year 1: dates run from 0001-01-01")
    if ordinal > date.max.toordinal():
        raise BadInput(f"{what} {_show(text)} is after the year 9999: dates run to 9999-12-31")
    return date.fromordinal(ordinal)


def day(text: str, today: date, what: str = "date", future_ok: bool = False) -> date:
    """YYYY-MM-DD, `today`, `yesterday`, -N (N days ago) or +N (N days ahead); years 1 to 9999.
    Actuals may be at most one day ahead."""
    utf8(text, what)
    t = text.strip().lower()
    m = _DAYS.fullmatch(t)
    if t == "today":
        d = today
    elif t == "yesterday":
        d = _shift(today, -1, text, what)
    elif m is not None:
        n = int(m[2]) if len(m[2]) <= 8 else 10**8  # beyond 9999 years either way
        d = _shift(today, -n if m[1] == "-" else n, text, what)
    else:
        try:
            if not _ISO_DATE.fullmatch(t):
                raise ValueError(t)
            d = date.fromisoformat(t)
        except ValueError:
            raise BadInput(
                f"{what} {_show(text)} is not a date: use YYYY-MM-DD (e.g. {today.isoformat()}), "
                "today, yesterday or -N for N days ago"
            ) from None
    if not future_ok and d.toordinal() > today.toordinal() + 1:
        raise BadInput(
            f"{what} {d.isoformat()} is more than a day ahead: actuals are recorded for periods "
            "that have happened"
        )
    return d


# --- names and text -----------------------------------------------------------------------------

_CONTROL = frozenset(("Cc", "Cf"))
_UNSEEN = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
# Letters and marks that draw nothing: Hangul fillers, braille blank, variation selectors, ...
_BLANK = frozenset(
    (
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0),
        *range(0x180B, 0x1810),
        *range(0xFE00, 0xFE10),
        *range(0xE0100, 0xE01F0),
    )
)


def _invisible(value: str) -> str | None:
    """The first character that shows nothing (or moves text around), if any."""
    for c in value:
        if unicodedata.category(c) in _UNSEEN or ord(c) in _BLANK:
            return c
    return None


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) in _CONTROL for c in text)


def name(text: str, what: str = "name", scripts: bool = True) -> str:
    """A board or KPI name (or a unit): NFC, no invisible or control characters, spaces folded,
    at most MAX_NAME characters; with `scripts`, no word mixing look-alike letters of two
    scripts. A name is how people find a KPI, so two must never look the same."""
    utf8(text, what)
    value = unicodedata.normalize("NFC", text)
    bad = _invisible(value)
    if bad is not None:
        raise BadInput(
            f"{what} {_show(text)} contains an invisible or control character ({_char(bad)}): "
            "type it as plain text"
        )
    cleaned = " ".join(value.split())
    if not cleaned:
        raise BadInput(f"{what} must not be empty")
    if len(cleaned) > MAX_NAME:
        raise BadInput(f"{what} is {len(cleaned)} characters long; keep it to {MAX_NAME}")
    if unicodedata.category(cleaned[0]).startswith("M"):
        raise BadInput(f"{what} {_show(cleaned)} starts with a combining mark: start with a letter")
    if scripts and not cleaned.isascii():
        _refuse_mixed_scripts(cleaned, what)
    return cleaned


def ref(text: str, what: str) -> str:
    """A board or KPI name typed to find one: NFC, as stored names are; valid UTF-8."""
    return unicodedata.normalize("NFC", utf8(text, what))


def title(text: str, what: str = "title") -> str:
    """An action title: like a name, but longer titles are fine."""
    utf8(text, what)
    value = unicodedata.normalize("NFC", text)
    if _has_control(value):
        raise BadInput(f"{what} contains control characters: type it as plain text")
    cleaned = " ".join(value.split())
    if not cleaned:
        raise BadInput(f"{what} must not be empty")
    if len(cleaned) > 200:
        raise BadInput(f"{what} is {len(cleaned)} characters long; keep it to 200")
    return cleaned


def owner(text: str) -> str:
    """A login; empty means nobody yet."""
    utf8(text, "owner")
    cleaned = unicodedata.normalize("NFC", text.strip())
    if _invisible(cleaned) is not None or any(c.isspace() for c in cleaned):
        raise BadInput(f"owner {_show(text)} must be one login, without spaces (e.g. alice)")
    if len(cleaned) > 32:
        raise BadInput(f"owner {_show(text)} is too long for a login (32 characters at most)")
    return cleaned


def text(value: str, what: str = "note", strip: bool = True) -> str:
    """Free text (notes, goals, descriptions). Kept as typed; shown literally everywhere.
    `strip=False` keeps leading and trailing space (a CSV cell escaped on export)."""
    utf8(value, what)
    if len(value) > MAX_TEXT:
        raise BadInput(f"{what} is {len(value)} characters long; keep it to {MAX_TEXT}")
    return value.strip() if strip else value


E = TypeVar("E", Direction, Frequency, Kind, Stage)


def choice(kind: type[E], value: str, what: str) -> E:
    try:
        return kind(value.strip().lower())
    except ValueError:
        options = ", ".join(m.value for m in kind)
        raise BadInput(f"{what} {_show(value)} is not one of: {options}") from None


def kpi_limit(value: str | int) -> int:
    """How many KPIs a board may track: a vital few."""
    if isinstance(value, str) and not (value.strip().isascii() and value.strip().isdigit()):
        raise BadInput(f"KPI limit {_show(value)} is not a whole number")
    n = int(value) if isinstance(value, int) or len(value.strip()) <= 9 else 10**9
    if not 1 <= n <= 50:
        raise BadInput(f"KPI limit must be between 1 and 50 (a board shows a vital few), not {n}")
    return n


def printable(value: str) -> str:
    """Text from the store made safe for a terminal: control characters become visible symbols.

    ESC shows as ␛, so an escape sequence in a note is seen, never obeyed; a stray surrogate
    (bytes that were not UTF-8) shows as its escape rather than failing the write.
    """
    out = []
    for c in value:
        code = ord(c)
        if code < 0x20 and c not in "\n\t":
            out.append(chr(0x2400 + code))
        elif code == 0x7F:
            out.append("␡")
        elif 0x80 <= code < 0xA0 or 0xD800 <= code <= 0xDFFF or unicodedata.category(c) == "Cf":
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(c)
    return "".join(out)


# --- look-alike names ---------------------------------------------------------------------------
# Unicode's confusables (UTS #39) via confusable_homoglyphs: loaded only when a name is checked
# against others or mixes scripts, so `teamboard record` never pays for it.

_EAST_ASIAN = frozenset(("HAN", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"))
_NO_SCRIPT = frozenset(("COMMON", "INHERITED", "Unknown"))


@lru_cache(maxsize=1)
def _confusables() -> tuple[dict[str, str], dict[str, list[str]]]:
    """(character -> its prototype, prototype -> the characters that look like it)."""
    from confusable_homoglyphs import confusables

    data: dict[str, list[dict[str, str]]] = confusables.confusables_data
    proto: dict[str, str] = {}
    for key, found in data.items():
        if len(key) != 1 or len(found) != 1:
            continue  # a prototype lists every character that looks like it
        other = found[0]["c"].replace("\u200e", "")
        back = data.get(other, [])
        # `key` looks like `other`; in a pair that only list each other, the smaller one leads.
        if len(back) > 1 or key > other:
            proto[key] = other
    members: dict[str, list[str]] = {}
    for c, p in proto.items():
        members.setdefault(p, [p] if len(p) == 1 else []).append(c)
    return proto, members


def _script(c: str) -> str:
    """The script of a letter, with Chinese, Japanese and Korean as one (they mix by design)."""
    from confusable_homoglyphs import categories

    alias = str(categories.alias(c))
    return "CJK" if alias in _EAST_ASIAN else alias


def skeleton(value: str) -> str:
    """What a name looks like: NFKC, each character replaced by its prototype, casefolded.
    Two names with one skeleton cannot be told apart by eye (nor by case-blind look-ups).
    Mapping comes first, as the name is shown (Cyrillic `З` looks like `3`; its `з` does not),
    then again after folding (a prototype may be upper case: `0` -> `O`)."""
    proto, _ = _confusables()
    s = unicodedata.normalize("NFKC", value)
    for _ in range(2):
        s = unicodedata.normalize("NFKC", "".join(proto.get(c, c) for c in s).casefold())
    return s


def _words(value: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", value)


def _looks_like(c: str) -> set[str]:
    """The scripts of the letters `c` can pass for, its own included."""
    proto, members = _confusables()
    p = proto.get(c, c)
    return {_script(m) for m in members.get(p, ())} | {_script(x) for x in p} | {_script(c)}


def _refuse_mixed_scripts(value: str, what: str) -> None:
    """A word written in one script with a few letters swapped for look-alikes from another
    (Cyrillic `О` in `ОEE`). An even mix such as `ΔP` passes: it imitates no word."""
    for word in _words(value):
        letters = [c for c in word if unicodedata.category(c).startswith("L")]
        counts: dict[str, int] = {}
        for c in letters:
            s = _script(c)
            if s not in _NO_SCRIPT:
                counts[s] = counts.get(s, 0) + 1
        if len(counts) < 2:
            continue
        for main, n in counts.items():
            odd = [c for c in letters if _script(c) not in _NO_SCRIPT and _script(c) != main]
            if len(odd) < n and all(main in _looks_like(c) for c in odd):
                kinds = " and ".join(sorted({_script(c).title() for c in odd}))
                raise BadInput(
                    f"{what} {_show(value)} has {kinds} {_show(''.join(odd))} among "
                    f"{main.title()} letters in one word, so it can pass for another name: type "
                    "each word in one alphabet"
                )


def lookalike(new: str, existing: Iterable[str], what: str) -> None:
    """Refuse a new name that only looks like an existing one on the same scope.

    Same-name clashes (any case) are the caller's; this catches `ОЕЕ` (Cyrillic) beside `OEE`,
    `Line l` beside `Line 1`, or a full-width `ＯＥＥ`.
    """
    key = skeleton(new)
    for old in existing:
        if old.casefold() == new.casefold() or skeleton(old) != key:
            continue
        ours = {_script(c) for c in new if c.isalpha()} - _NO_SCRIPT
        theirs = {_script(c) for c in old if c.isalpha()} - _NO_SCRIPT
        extra = sorted(s.title() for s in ours - theirs)
        why = (
            f"it uses {' and '.join(extra)} letters"
            if extra
            else "it differs only in characters that look alike"
        )
        raise BadInput(
            f"{_show(new)} looks like the existing {what} {_show(old)} ({why}): pick a name that "
            "reads differently"
        )


# --- the board tree -----------------------------------------------------------------------------


def parent_link(boards: Mapping[int, Board], parent: Board, child: Board | None = None) -> None:
    """Refuse putting `child` (a new board when None) under `parent` when that makes a loop or
    a tree deeper than MAX_TIERS: every screen walks the tree, and a deep one helps nobody."""
    if child is not None and child.id == parent.id:
        raise BadInput(f"{parent.name!r} cannot be its own parent: name another board")
    tier = 1  # the parent's tier: 1 at the top
    seen = {parent.id}
    up = parent.parent
    while up is not None and up in boards:
        if child is not None and up == child.id:
            raise BadInput(
                f"{parent.name!r} is under {child.name!r}: a board cannot be its own parent"
            )
        if up in seen:
            raise BadInput(
                f"the boards above {parent.name!r} form a loop (edited by hand?): give one of "
                "them another parent first"
            )
        seen.add(up)
        tier += 1
        up = boards[up].parent
    height = 1
    if child is not None:  # the subtree that moves along with it
        below: dict[int, list[int]] = {}
        for b in boards.values():
            if b.parent is not None:
                below.setdefault(b.parent, []).append(b.id)
        level, done = [child.id], {child.id}
        while True:
            level = [k for b in level for k in below.get(b, ()) if k not in done]
            if not level:
                break
            done.update(level)
            height += 1
    if tier + height > MAX_TIERS:
        moved = f"{child.name!r} and the boards under it" if child else "the new board"
        raise BadInput(
            f"{moved} would reach tier {tier + height} under {parent.name!r}; a KPI tree keeps to "
            f"{MAX_TIERS} tiers: attach it higher up"
        )


# --- SQCDP categories ---------------------------------------------------------------------------

MAX_CATEGORY = 20


def category(text: str) -> str:
    """A KPI's category: S, Q, C, D or P (or Safety, Quality, Cost, Delivery, People, any case)
    stored as its word; else a team's own letter (stored upper case) or one word (its first
    letter upper case), so each reads as one letter on the calendar. Empty means none."""
    from .calendar import SQCDP

    utf8(text, "category")
    value = unicodedata.normalize("NFC", text).strip()
    if not value:
        return ""
    for letter, word in SQCDP.items():
        if value.casefold() in (letter.casefold(), word.casefold()):
            return word
    if not value.isalpha() or len(value) > MAX_CATEGORY:
        raise BadInput(
            f"category {_show(value)} is not S, Q, C, D or P (Safety, Quality, Cost, Delivery, "
            f"People) nor one word of your own of up to {MAX_CATEGORY} letters (e.g. E or "
            "Environment)"
        )
    name(value, "category")  # no word mixing look-alike letters of two scripts
    return value[0].upper() + value[1:]


def month(text: str) -> date:
    """A month as YYYY-MM (years 1 to 9999): its first day."""
    utf8(text, "month")
    t = text.strip()
    m = re.fullmatch(r"(\d{4})-(\d{2})", t, re.ASCII)
    if m is None or not 1 <= int(m[2]) <= 12 or int(m[1]) < 1:
        raise BadInput(f"month {_show(text)} is not a month: write it as YYYY-MM (e.g. 2026-11)")
    return date(int(m[1]), int(m[2]), 1)
