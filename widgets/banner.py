"""A banner for trouble with the store: the board keeps its last good data under it."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from .literal import literal


class Banner(Static):
    """Set `message` (shown literally; None hides the banner) and `info` (amber, not red)."""

    DEFAULT_CSS = """
    Banner { display: none; height: auto; background: $error; color: $text; padding: 0 1;
             text-style: bold; }
    Banner.-shown { display: block; }
    Banner.-info { background: $warning; color: $background; }
    """

    message: reactive[str | None] = reactive(None, init=False)
    info: reactive[bool] = reactive(False, init=False)

    def watch_message(self, message: str | None) -> None:
        if message is not None:
            self.update(literal(message))
        shown = message is not None
        if shown != self.has_class("-shown"):
            self.set_class(shown, "-shown")
            # Everything below moves: repaint the whole screen, not just the banner's region.
            self.screen.refresh(layout=True, repaint=True)

    def watch_info(self, info: bool) -> None:
        self.set_class(info, "-info")
