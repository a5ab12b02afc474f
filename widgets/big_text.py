"""Words in solid block letters, for a wall read from across a room.

Textual's `Digits` draws digits and a few letters in thin lines; a KPI's status word, its value
and its name need the whole alphabet, and thin lines vanish at five metres. This is a 3×5 pixel
font drawn with full and half blocks: at scale 1 a letter is 3 columns by 3 rows (two pixels a
row, `▀▄█`), at scale 2 it is 6 columns by 5 rows. Lower case is drawn as upper case; a character
the font lacks is drawn as a solid block, so a name is never silently shortened. Blocks only:
they are in every terminal font, where diagonals (╱╲) are not.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

PIXELS = 5  # rows of a glyph, in pixels

# Each glyph: five rows of pixels, "#" lit; most are three wide, M, N and W wider, punctuation
# narrower.
_FONT: dict[str, tuple[str, ...]] = {
    "A": (".#.", "#.#", "###", "#.#", "#.#"),
    "B": ("##.", "#.#", "##.", "#.#", "##."),
    "C": (".##", "#..", "#..", "#..", ".##"),
    "D": ("##.", "#.#", "#.#", "#.#", "##."),
    "E": ("###", "#..", "##.", "#..", "###"),
    "F": ("###", "#..", "##.", "#..", "#.."),
    "G": (".##", "#..", "#.#", "#.#", ".##"),
    "H": ("#.#", "#.#", "###", "#.#", "#.#"),
    "I": ("###", ".#.", ".#.", ".#.", "###"),
    "J": ("..#", "..#", "..#", "#.#", ".#."),
    "K": ("#.#", "#.#", "##.", "#.#", "#.#"),
    "L": ("#..", "#..", "#..", "#..", "###"),
    "M": ("#...#", "##.##", "#.#.#", "#...#", "#...#"),  # wider: a 3-wide M reads as H
    "N": ("#..#", "##.#", "#.##", "#..#", "#..#"),
    "O": (".#.", "#.#", "#.#", "#.#", ".#."),
    "P": ("##.", "#.#", "##.", "#..", "#.."),
    "Q": (".#.", "#.#", "#.#", "##.", ".##"),
    "R": ("##.", "#.#", "##.", "#.#", "#.#"),
    "S": (".##", "#..", ".#.", "..#", "##."),
    "T": ("###", ".#.", ".#.", ".#.", ".#."),
    "U": ("#.#", "#.#", "#.#", "#.#", "###"),
    "V": ("#.#", "#.#", "#.#", "#.#", ".#."),
    "W": ("#...#", "#...#", "#.#.#", "##.##", "#...#"),
    "X": ("#.#", "#.#", ".#.", "#.#", "#.#"),
    "Y": ("#.#", "#.#", ".#.", ".#.", ".#."),
    "Z": ("###", "..#", ".#.", "#..", "###"),
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("##.", "..#", ".#.", "#..", "###"),
    "3": ("##.", "..#", ".#.", "..#", "##."),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "##.", "..#", "##."),
    "6": (".##", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", ".#.", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "##."),
    " ": ("..", "..", "..", "..", ".."),
    "-": ("...", "...", "###", "...", "..."),
    "−": ("...", "...", "###", "...", "..."),
    "–": ("...", "...", "###", "...", "..."),
    "+": ("...", ".#.", "###", ".#.", "..."),
    "=": ("...", "###", "...", "###", "..."),
    "≈": ("...", "###", "...", "###", "..."),
    ".": (".", ".", ".", ".", "#"),
    ",": ("..", "..", "..", ".#", "#."),
    ":": (".", "#", ".", "#", "."),
    "'": ("#", "#", ".", ".", "."),
    "!": ("#", "#", "#", ".", "#"),
    "/": ("..#", "..#", ".#.", "#..", "#.."),
    "%": ("#.#", "..#", ".#.", "#..", "#.#"),
    "(": (".#", "#.", "#.", "#.", ".#"),
    ")": ("#.", ".#", ".#", ".#", "#."),
    "&": (".#.", "#.#", ".#.", "#.#", ".##"),
    "#": ("#.#", "###", "#.#", "###", "#.#"),
    "?": ("##.", "..#", ".#.", "...", ".#."),
    "°": (".#.", "#.#", ".#.", "...", "..."),
    "✔": ("...", "..#", "..#", "#.#", ".#."),
    "✖": ("...", "#.#", ".#.", "#.#", "..."),
    "▲": ("...", ".#.", "###", "###", "..."),
}
_MISSING = ("###", "###", "###", "###", "###")


def glyph(ch: str) -> tuple[str, ...]:
    return _FONT.get(ch.upper(), _MISSING)


def rows_of(scale: int) -> int:
    """Terminal rows a line of big text takes: 3 at scale 1 (half blocks), 5 at scale 2."""
    return 3 if scale == 1 else PIXELS


def width_of(text: str, scale: int = 1) -> int:
    """Columns `text` takes in the big font (a gap between glyphs, none after the last)."""
    if not text:
        return 0
    gap = scale
    return sum(len(glyph(ch)[0]) * scale for ch in text) + gap * (len(text) - 1)


def fits(text: str, width: int, scale: int = 1) -> bool:
    return width_of(text, scale) <= width


def big_lines(text: str, scale: int = 1) -> list[str]:
    """The terminal rows of `text` in the big font."""
    pixels = ["" for _ in range(PIXELS)]
    for i, ch in enumerate(text):
        g = glyph(ch)
        for r in range(PIXELS):
            pixels[r] += ("." if i else "") + g[r]
    if scale == 1:
        pixels.append("." * len(pixels[0]))
        cells = {("#", "#"): "█", ("#", "."): "▀", (".", "#"): "▄", (".", "."): " "}
        return [
            "".join(cells[(a, b)] for a, b in zip(pixels[r], pixels[r + 1], strict=True))
            for r in range(0, PIXELS + 1, 2)
        ]
    return ["".join(("█" if p == "#" else " ") * scale for p in row) for row in pixels]


def wrap_big(text: str, width: int, lines: int, scale: int = 1) -> list[str] | None:
    """`text` broken at spaces into at most `lines` lines that fit `width` in the big font;
    None when it cannot be done (the caller then draws it small)."""
    words = text.split()
    if not words:
        return None
    out: list[str] = []
    current = ""
    for word in words:
        trial = f"{current} {word}" if current else word
        if fits(trial, width, scale):
            current = trial
            continue
        if not current or not fits(word, width, scale):
            return None
        out.append(current)
        current = word
    out.append(current)
    return out if len(out) <= lines else None


class BigText(Widget):
    """`lines` of text in the big font at `scale` (1 or 2), already wrapped to fit."""

    DEFAULT_CSS = """
    BigText { width: auto; height: auto; }
    """

    lines: reactive[tuple[str, ...]] = reactive(())
    """New lines of the same widths are only drawn again; other widths lay the screen out."""
    scale: reactive[int] = reactive(1, layout=True)

    def watch_lines(self, before: tuple[str, ...], lines: tuple[str, ...]) -> None:
        widths = [width_of(line, self.scale) for line in before]
        if widths != [width_of(line, self.scale) for line in lines]:
            self.refresh(layout=True)

    def set_lines(self, lines: tuple[str, ...]) -> BigText:
        """Set the lines before mounting (a reactive cannot be set on an unmounted widget)."""
        self.set_reactive(BigText.lines, lines)
        return self

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="crop", end="")
        first = True
        for line in self.lines:
            for row in big_lines(line, self.scale):
                if not first:
                    out.append("\n")
                first = False
                # Lit cells and blank ones as separate runs (bold changes nothing on a block):
                # an SVG screenshot then places every run by its column, where a font's
                # non-breaking space of another width would shift the rest of the row.
                for run in re.findall(r" +|[^ ]+", row):
                    out.append(run, style="" if run[0] == " " else "bold")
        return out

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((width_of(line, self.scale) for line in self.lines), default=0)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return rows_of(self.scale) * len(self.lines)
