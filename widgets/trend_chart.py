"""The whole history of one KPI as a chart: actuals, the target as steps, plans, notes marked."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from textual.reactive import reactive
from textual_plotext import PlotextPlot

from store.model import Entry, Kpi
from store.validate import printable


def downsample(entries: Sequence[Entry], limit: int) -> list[Entry]:
    """Keep at most `limit` points, evenly spread, always keeping the newest.

    plotext renders on the UI thread and costs about 1.4 s for 100,000 points (STACK-NOTES).
    """
    n = len(entries)
    if n <= limit or limit < 2:
        return list(entries)
    step = (n - 1) / (limit - 1)
    return [entries[round(i * step)] for i in range(limit)]


# plotext turns days into local timestamps and value ranges into integers: it fails on the first
# and last days of the calendar, and on spans past about 1e306 (and on infinities).
FIRST_DAY, LAST_DAY = date(1, 1, 3), date(9999, 12, 29)
PLAIN = 1e12  # beyond this the axis is drawn in units of a power of ten, named in the title


def plottable(entries: Sequence[Entry]) -> list[Entry]:
    """The entries plotext can place: a day it can convert and a finite value."""
    return [e for e in entries if FIRST_DAY <= e.day <= LAST_DAY and math.isfinite(e.value)]


def unit_of(values: Sequence[float]) -> float:
    """A power of ten to divide huge values by, so the axis stays readable and plotext copes."""
    largest = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    if largest < PLAIN:
        return 1.0
    return 10.0 ** (math.floor(math.log10(largest)) - 3)


@dataclass(frozen=True)
class ChartData:
    """A KPI and the entries to draw, one per period, oldest first."""

    kpi: Kpi
    history: tuple[Entry, ...]
    estimates: tuple[tuple[date, float], ...] = ()
    """Estimates set before the work, (period, value), future periods included: drawn beside
    the actuals so the gap between them is in view."""


class TrendChart(PlotextPlot):
    """Set `data`; redraws on resize with as many points as fit."""

    DEFAULT_CSS = """
    TrendChart { height: 1fr; min-height: 10; }
    """

    data: reactive[ChartData | None] = reactive(None, init=False)

    def watch_data(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if self.data is None:
            return
        kpi, history = self.data.kpi, self.data.history
        suffix = f" ({kpi.unit})" if kpi.unit else ""
        plt.title(printable(f"{kpi.name}{suffix}"))  # plotext output is parsed as ANSI
        points = downsample(plottable(history), max(2 * self.size.width, 20))
        if not points:
            plt.title("no entries yet" if not history else "no entry can be drawn")
            self.refresh()
            return
        targets = [kpi.target_on(e.day) for e in points]
        plans = [e.plan for e in points if e.plan is not None]
        first = points[0].day  # an estimate before the drawn story is off it
        estimates = [(d, v) for d, v in self.data.estimates if first <= d <= LAST_DAY]
        est = dict(estimates)  # a plan that is the period's estimate is drawn as an estimate
        unit = unit_of([*(e.value for e in points), *targets, *plans, *(v for _, v in estimates)])
        if unit != 1.0:
            plt.title(printable(f"{kpi.name}{suffix} · axis ×{unit:.0e}"))
        plt.date_form("Y-m-d")

        def line(pairs: Sequence[tuple[date, float | None]]) -> tuple[list[str], list[float]]:
            kept = [(d.isoformat(), y / unit) for d, y in pairs if y is not None]
            kept = [(d, y) for d, y in kept if math.isfinite(y)]
            return [d for d, _ in kept], [y for _, y in kept]

        days, ys = line([(e.day, t) for e, t in zip(points, targets, strict=True)])
        if days:
            plt.plot(days, ys, label="target", color="gray")
        days, ys = line(
            [(e.day, e.plan) for e in points if e.plan is not None and est.get(e.day) != e.plan]
        )
        if days:
            plt.scatter(days, ys, label="plan", marker="x")
        days, ys = line([(e.day, e.value) for e in points])
        plt.plot(days, ys, label="actual", marker="braille")
        days, ys = line(estimates)
        if days:
            plt.scatter(days, ys, label="estimate", marker="o", color="orange")
        days, ys = line([(e.day, e.value) for e in points if e.note])
        if days:
            plt.scatter(days, ys, label="note", marker="◆")
        self.refresh()
