"""Store text made safe to draw: never parsed as markup, control characters made visible.

Anything a person typed (names, titles, notes) may hold `[b]` or an escape sequence; it is data.
Timestamps are store text too: one at the edge of the calendar must not stop the board.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.content import Content

from store.present import ago, local_stamp
from store.validate import printable


def literal(text: str) -> Content:
    """For labels: `[b]x[/b]` stays `[b]x[/b]`; ESC shows as ␛."""
    return Content(printable(text))


def literal_text(text: str, style: str = "") -> Text:
    """The same for DataTable cells, which take rich Text."""
    return Text(printable(text), style=style)


def when_local(stamp: str) -> str:
    """`local_stamp` with control characters visible: as stored when it has no local time
    (`0001-01-01T00:00:00Z` west of Greenwich is before the year 1)."""
    return printable(local_stamp(stamp))


def since(stamp: str, now: datetime) -> str:
    """`ago()` for the header's "changed … ago", or the stamp itself at the calendar's edges."""
    try:
        return ago(stamp, now)
    except OverflowError:
        return f"at {printable(stamp)}"
