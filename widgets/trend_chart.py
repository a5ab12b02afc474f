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
    """At most `limit` points: each bucket of neighbours keeps its lowest and its highest.

    The worst day (and the best) is always drawn: keeping every k-th point dropped a year's
    one-day 23.2% low at 120 columns. The first and newest points are always kept, and the
    points stay in date order. plotext renders on the UI thread and costs about 1.4 s for
    100,000 points (STACK-NOTES), so the limit matters.
    """
    n = len(entries)
    if n <= limit or limit < 2:
        return list(entries)
    if limit < 4:
        return [entries[0], entries[-1]]
    inner = entries[1:-1]
    buckets = (limit - 2) // 2  # two points each, plus the first and the newest
    kept: list[Entry] = [entries[0]]
    for b in range(buckets):
        chunk = inner[b * len(inner) // buckets : (b + 1) * len(inner) // buckets]
        if not chunk:
            continue
        low = min(range(len(chunk)), key=lambda i: chunk[i].value)  # finite: see `plottable`
        high = max(range(len(chunk)), key=lambda i: chunk[i].value)
        kept.extend(chunk[i] for i in sorted({low, high}))
    kept.append(entries[-1])
    return kept


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
