"""`?`: every key of the screen underneath, and a legend of what the board draws.

The keys are read from the screen's own bindings (and the app's), so the help never falls
behind a new key. The legend takes its glyphs and words from `store.present`, the one place
that decides them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from store.model import Stage, Status
from store.present import STAGE_GLYPH, STATUS_GLYPH, STATUS_WORD, TREND_ARROW
from store.rules import Trend
from widgets.trend_spark import MET_BAR, MISSED_BAR

KEY_NAMES = {
    "question_mark": "?",
    "escape": "esc",
    "enter": "enter",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "ctrl+c": "ctrl+c",
    "ctrl+p": "ctrl+p",
    "ctrl+z": "ctrl+z",
}

COLOURS = {
    Status.GREEN: ("success", "met its target (or its plan)"),
    Status.AMBER: ("warning", "missed, but within the amber tolerance"),
    Status.RED: ("error", "missed: needs an action"),
    Status.STALE: ("text-muted", "nothing recorded for the last complete period"),
    Status.NO_DATA: ("text-muted", "no value recorded yet"),
}


def key_rows(screen: Screen[Any]) -> list[tuple[str, str]]:
    """(keys, what they do) for every binding active on `screen`, the screen's own first."""
    seen: dict[str, list[str]] = {}
    for key, active in screen.active_bindings.items():
        binding: Binding = active.binding
        what = binding.description or binding.action.replace("_", " ")
        if what in ("", "Quit") and key == "ctrl+c":
            continue
        seen.setdefault(what, []).append(KEY_NAMES.get(key, key))
    return [(" ".join(keys), what) for what, keys in seen.items()]


def legend() -> list[tuple[Text, str]]:
    """(sample, meaning) for the glyphs, colours, bars and flags."""
    rows: list[tuple[Text, str]] = []
    for status, (_, meaning) in COLOURS.items():
        rows.append((Text(f"{STATUS_GLYPH[status]} {STATUS_WORD[status]}"), meaning))
    rows += [
        (Text(MET_BAR * 3), "trend bar: a period that met its benchmark (solid)"),
        (Text(MISSED_BAR * 3), "trend bar: a period that missed (hatched; amber or red)"),
        (Text("╌╌╌"), "the target's level on a tall trend"),
    ]
    rows += [
        (Text(f"{TREND_ARROW[t]} {t.value}"), "the last 5 periods")
        for t in Trend
        if t is not Trend.UNKNOWN
    ]
    rows += [(Text(f"{STAGE_GLYPH[s]} {s.value}"), "an action's PDCA stage") for s in Stage]
    rows += [
        (Text("⚑ red, no action"), "red and nobody is on it: add an action (a)"),
        (Text("⚑ counter-metric red"), "green, but the KPI that guards it is red"),
        (Text("⚑ stale since …"), "the first period with no value"),
        (Text("⚠ Thu 19 Nov"), "an action past its due date"),
        (Text("≈"), "a value rounded to fit its space"),
    ]
    return rows


class HelpScreen(ModalScreen[None]):
    """Every key and the legend; any of esc, ? or q closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    HelpScreen .help-title { text-style: bold; }
    HelpScreen .help-section { text-style: bold; padding-top: 1; color: $accent; }
    HelpScreen VerticalScroll { height: auto; max-height: 1fr; }
    HelpScreen .help-hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, keys: list[tuple[str, str]], where: str) -> None:
        super().__init__()
        self.keys = keys
        self.where = where

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Help: {self.where}", classes="help-title")
            with VerticalScroll():
                yield Label("Keys", classes="help-section")
                yield Static(self._keys(), id="help-keys")
                yield Label("What the board draws", classes="help-section")
                yield Static(self._legend(), id="help-legend")
            yield Label("esc or ? closes this", classes="help-hint")

    def _keys(self) -> Text:
        text = Text()
        for keys, what in self.keys:
            text.append(f"{keys:>14}", style="bold")
            text.append(f"  {what}\n")
        text.append(f"{'click':>14}", style="bold")
        text.append("  a tile to focus it; double click opens its detail\n")
        return text

    def _legend(self) -> Text:
        theme = self.app.current_theme
        colours = {"success": theme.success, "warning": theme.warning, "error": theme.error}
        styles = {
            f"{STATUS_GLYPH[s]} {STATUS_WORD[s]}": colours.get(var) or "dim"
            for s, (var, _) in COLOURS.items()
        }
        text = Text()
        for sample, meaning in legend():
            style = styles.get(sample.plain, "")
            if sample.plain.startswith("⚑"):
                style = theme.error or ""
            text.append(f"{sample.plain:<24}", style=f"bold {style}".strip())
            text.append(f"{meaning}\n")
        return text
