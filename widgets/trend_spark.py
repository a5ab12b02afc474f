"""A sparkline that knows where the target is.

Textual's `Sparkline` scales each series to its own min..max, so a flat series on target lies at
the bottom and looks like a crash. Here the scale always includes the target, and each bar is
coloured by whether its period met its benchmark, missed it within the amber tolerance, or missed.
Colour alone does not carry it (a colour-blind teammate, a monochrome terminal, a photo of the
wall): a met bar is solid blocks, a missed or amber one is dotted (braille), at the same height.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

BARS = "▁▂▃▄▅▆▇█"
# A missed period's bar: braille dots filling the cell from the bottom, a quarter at a time.
DOTS = "⣀⣤⣶⣿"
MET_BAR, MISSED_BAR = BARS[-1], DOTS[-1]


@dataclass(frozen=True)
class SparkData:
    values: tuple[float, ...]
    target: float
    met: tuple[bool, ...]  # one per value: did that period meet its benchmark?
    amber: tuple[bool, ...] = ()  # one per value (or none): missed, but within amber tolerance


class TrendSpark(Widget):
    """Bars of the last periods, newest on the right.

    Periods that met their benchmark are solid and drawn in `$success`; missed ones are dotted,
    in `$warning` when within the amber tolerance and in `$error` otherwise.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "trend-spark--met",
        "trend-spark--amber",
        "trend-spark--missed",
        "trend-spark--empty",
        "trend-spark--target",
    }
    DEFAULT_CSS = """
    TrendSpark { height: 1; width: 1fr; }
    TrendSpark > .trend-spark--met { color: $success; }
    TrendSpark > .trend-spark--amber { color: $warning; }
    TrendSpark > .trend-spark--missed { color: $error; }
    TrendSpark > .trend-spark--empty { color: $text-muted; }
    TrendSpark > .trend-spark--target { color: $text-muted; }
    """

    data: reactive[SparkData | None] = reactive(None)

    def render_line(self, y: int) -> Strip:
        runs = spark_row(self.data, self.size.width, self.size.height, y)
        styles = {part: self.get_component_rich_style(part) for _, part in runs if part}
        return Strip([Segment(text, styles.get(part) if part else None) for text, part in runs])


Run = tuple[str, str | None]  # characters, and the component class that colours them


def spark_row(data: SparkData | None, width: int, height: int, y: int) -> list[Run]:
    """Row `y` (0 is the top) of a sparkline `width` by `height` cells: the drawing math,
    apart from the widget, so it tests without an app."""
    if width <= 0 or height <= 0:
        return []
    if data is None or not data.values:
        return [("·" * width if y == height - 1 else " " * width, "trend-spark--empty")]
    values = data.values[-width:]
    met = data.met[-width:]
    same = len(data.amber) == len(data.values)
    amber = (data.amber if same else (False,) * len(data.values))[-width:]
    n = len(values)
    # Spread the bars over the whole width: bar i spans [i*width/n, (i+1)*width/n).
    spans = [(i + 1) * width // n - i * width // n for i in range(n)]
    scale = Scale(values, data.target)
    levels = height * len(BARS)
    row_from_bottom = height - 1 - y
    # When the sparkline is tall (a wall), a dotted line marks the target's row.
    target_row = -1
    if height >= 3 and math.isfinite(data.target):
        target_row = scale.level(data.target, levels) // len(BARS)
    runs: list[Run] = []
    for value, ok, warn, bar in zip(values, met, amber, spans, strict=True):
        if math.isnan(value):  # no height to draw: a gap, not a crash
            runs.append((" " * bar, None))
            continue
        level = 1 + scale.level(value, levels)
        cell = level - row_from_bottom * len(BARS)
        if cell <= 0 and row_from_bottom == target_row:
            runs.append(("╌" * bar, "trend-spark--target"))
            continue
        part = "trend-spark--met" if ok else "trend-spark--amber" if warn else "trend-spark--missed"
        runs.append((bar_char(cell, ok) * bar, part))
    return runs


def bar_char(cell: int, met: bool) -> str:
    """The character for a bar that fills `cell` eighths of this row (≤ 0: none, ≥ 8: all)."""
    if cell <= 0:
        return " "
    cell = min(cell, len(BARS))
    if met:
        return BARS[cell - 1]
    return DOTS[(cell - 1) * len(DOTS) // len(BARS)]


class Scale:
    """Where a value sits between the lowest and highest finite value (and the target).

    Safe for anything a hand-edited file or an overflowing mean can hold: NaN is left out, an
    infinity sits at the top or the bottom, and ±1e308 side by side do not overflow the span.
    """

    def __init__(self, values: Sequence[float], target: float) -> None:
        finite = [v for v in (*values, target) if math.isfinite(v)] or [0.0]
        self.low, self.high = min(finite), max(finite)
        self.span = self.high - self.low or 1.0
        self.halved = not math.isfinite(self.span)  # only ±1e308 and the like get here

    def fraction(self, value: float) -> float:
        if value == math.inf:
            return 1.0
        if value == -math.inf:
            return 0.0
        if self.halved:
            f = (value / 2 - self.low / 2) / (self.high / 2 - self.low / 2)
        else:
            f = (value - self.low) / self.span
        return min(1.0, max(0.0, f))

    def level(self, value: float, levels: int) -> int:
        """0 .. levels-1 for a value that is not NaN."""
        return round(self.fraction(value) * (levels - 1))


def spark_data(
    values: Sequence[float],
    target: float,
    met: Sequence[bool],
    amber: Sequence[bool] = (),
) -> SparkData:
    """`amber` says which periods the rules (store.rules) called amber; empty means none."""
    amber = tuple(amber)[-len(values):] if values else ()
    if amber and len(amber) < len(values):
        amber = (False,) * (len(values) - len(amber)) + amber
    return SparkData(tuple(values), target, tuple(met), amber)
