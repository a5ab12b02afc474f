"""Store text made safe to draw: never parsed as markup, control characters made visible.

Anything a person typed (names, titles, notes) may hold `[b]` or an escape sequence; it is data.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from store.validate import printable


def literal(text: str) -> Content:
    """For labels: `[b]x[/b]` stays `[b]x[/b]`; ESC shows as ␛."""
    return Content(printable(text))


def literal_text(text: str, style: str = "") -> Text:
    """The same for DataTable cells, which take rich Text."""
    return Text(printable(text), style=style)
