"""A sparkline that knows where the target is.

Textual's `Sparkline` scales each series to its own min..max, so a flat series on target lies at
the bottom and looks like a crash. Here the scale always includes the target, and each bar is
coloured by whether its period met its benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

BARS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class SparkData:
    values: tuple[float, ...]
    target: float
    met: tuple[bool, ...]  # one per value: did that period meet its benchmark?


class TrendSpark(Widget):
    """Bars of the last periods, newest on the right.

    Periods that met their benchmark are drawn in `$success`, missed ones in `$error`.
    """

    COMPONENT_CLASSES = {
        "trend-spark--met",
        "trend-spark--missed",
        "trend-spark--empty",
        "trend-spark--target",
    }
    DEFAULT_CSS = """
    TrendSpark { height: 1; width: 1fr; }
    TrendSpark > .trend-spark--met { color: $success; }
    TrendSpark > .trend-spark--missed { color: $error; }
    TrendSpark > .trend-spark--empty { color: $text-muted; }
    TrendSpark > .trend-spark--target { color: $text-muted; }
    """

    data: reactive[SparkData | None] = reactive(None)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        height = self.size.height
        data = self.data
        if data is None or not data.values:
            style = self.get_component_rich_style("trend-spark--empty")
            return Strip([Segment("·" * width if y == height - 1 else " " * width, style)])
        values = data.values[-width:]
        met = data.met[-width:]
        n = len(values)
        # Spread the bars over the whole width: bar i spans [i*width/n, (i+1)*width/n).
        spans = [(i + 1) * width // n - i * width // n for i in range(n)]
        low = min(*values, data.target)
        high = max(*values, data.target)
        span = high - low or 1.0
        levels = height * len(BARS)
        segs: list[Segment] = []
        good = self.get_component_rich_style("trend-spark--met")
        bad = self.get_component_rich_style("trend-spark--missed")
        row_from_bottom = height - 1 - y
        # When the sparkline is tall (a wall), a dotted line marks the target's row.
        target_level = 1 + round((data.target - low) / span * (levels - 1))
        target_row = (target_level - 1) // len(BARS) if height >= 3 else -1
        dim = self.get_component_rich_style("trend-spark--target")
        for value, ok, bar in zip(values, met, spans, strict=True):
            level = 1 + round((value - low) / span * (levels - 1))
            cell = level - row_from_bottom * len(BARS)
            if cell <= 0 and row_from_bottom == target_row:
                segs.append(Segment("╌" * bar, dim))
                continue
            char = " " if cell <= 0 else BARS[min(cell, len(BARS)) - 1]
            segs.append(Segment(char * bar, good if ok else bad))
        return Strip(segs)


def spark_data(values: Sequence[float], target: float, met: Sequence[bool]) -> SparkData:
    return SparkData(tuple(values), target, tuple(met))
