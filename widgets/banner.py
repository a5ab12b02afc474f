"""A banner for trouble with the store: the board keeps its last good data under it."""

from __future__ import annotations

from textual.widgets import Static

from .literal import literal


class Banner(Static):
    DEFAULT_CSS = """
    Banner { display: none; height: auto; background: $error; color: $text; padding: 0 1;
             text-style: bold; }
    Banner.-shown { display: block; }
    Banner.-info { background: $warning; color: $background; }
    """

    def say(self, message: str | None, info: bool = False) -> None:
        """Show `message` (literally), or hide the banner with None."""
        shown = message is not None
        if message is not None:
            self.update(literal(message))
        self.set_class(info, "-info")
        if shown != self.has_class("-shown"):
            self.set_class(shown, "-shown")
            # Everything below moves: repaint the whole screen, not just the banner's region.
            self.screen.refresh(layout=True, repaint=True)
