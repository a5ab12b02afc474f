"""The whole history of one KPI as a chart: actuals, the target as steps, plans, notes marked."""

from __future__ import annotations

from collections.abc import Sequence

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


class TrendChart(PlotextPlot):
    """Set `show(kpi, history)`; redraws on resize with as many points as fit."""

    DEFAULT_CSS = """
    TrendChart { height: 1fr; min-height: 10; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._kpi: Kpi | None = None
        self._history: tuple[Entry, ...] = ()

    def show(self, kpi: Kpi, history: Sequence[Entry]) -> None:
        self._kpi = kpi
        self._history = tuple(history)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        kpi = self._kpi
        if kpi is None:
            return
        unit = f" ({kpi.unit})" if kpi.unit else ""
        plt.title(printable(f"{kpi.name}{unit}"))  # plotext output is parsed as ANSI
        points = downsample(self._history, max(2 * self.size.width, 20))
        if not points:
            plt.title("no entries yet")
            self.refresh()
            return
        plt.date_form("Y-m-d")
        days = [e.day.isoformat() for e in points]
        plt.plot(days, [kpi.target_on(e.day) for e in points], label="target", color="gray")
        planned = [(e.day.isoformat(), e.plan) for e in points if e.plan is not None]
        if planned:
            plt.scatter([d for d, _ in planned], [p for _, p in planned], label="plan", marker="x")
        plt.plot(days, [e.value for e in points], label="actual", marker="braille")
        noted = [(e.day.isoformat(), e.value) for e in points if e.note]
        if noted:
            plt.scatter([d for d, _ in noted], [y for _, y in noted], label="note", marker="◆")
        self.refresh()
