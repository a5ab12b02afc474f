"""Estimates before the work (`teamboard plan`), and who estimates well (`teamboard estimates`).

An estimate is made for a period, future ones included, by someone (`by`, the OS login unless
named). A revised estimate by the same person for the same period supersedes the earlier one;
both stay in the `estimates` table. The views compare an actual with the period's latest
estimate (see `rules.with_estimates`); this module keeps the writes and the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from . import codec
from .db import Store
from .model import Estimate, Kpi
from .ops import Ref
from .rules import period_start, series
from .snapshot import Snapshot


def plan(
    store: Store, kpi: Ref, value: float, day: date, by: str = "", board: Ref | None = None
) -> tuple[Estimate, Estimate | None]:
    """Record `by`'s estimate of the KPI for the period holding `day`; returns it and the
    estimate it supersedes (the same person's for the same period), if any."""
    with store.transaction() as tx:
        snap = tx.snapshot
        k = snap.kpi_ref(kpi, board)
        start = period_start(k.frequency, day)
        who = by or tx.who
        before = [
            x
            for x in snap.estimates.get(k.id, ())
            if x.by == who and period_start(k.frequency, x.day) == start
        ]
        doc = tx.insert("estimates", codec.estimate_doc(k.id, start, value, who))
        tx.touch(f"estimated {k.name} = {value:g} for {start.isoformat()}")
        return codec.decode_estimate(doc), (before[-1] if before else None)


def latest_estimates(kpi: Kpi, estimates: Sequence[Estimate]) -> list[Estimate]:
    """One estimate per period and estimator, the latest, oldest period first."""
    best: dict[tuple[date, str], Estimate] = {}
    for x in sorted(estimates, key=lambda x: x.id):
        best[(period_start(kpi.frequency, x.day), x.by)] = x
    return sorted(best.values(), key=lambda x: (x.day, x.id))


def estimate_series(snap: Snapshot, kpi_id: int) -> list[Estimate]:
    """For the detail chart: one estimate per period (the latest made, whoever made it), oldest
    first, future periods included. Draw `x.value` at `x.day` beside the actuals."""
    k = snap.kpis.get(kpi_id)
    if k is None:
        return []
    best: dict[date, Estimate] = {}
    for x in sorted(snap.estimates.get(kpi_id, ()), key=lambda x: x.id):
        best[period_start(k.frequency, x.day)] = x
    return [best[d] for d in sorted(best)]


@dataclass(frozen=True, slots=True)
class Gap:
    """One estimate against its actual: a conversation starter."""

    kpi: Kpi
    day: date
    by: str
    estimate: float
    actual: float
    bias: float | None  # (estimate − actual) / |actual| × 100; None when the actual is 0


@dataclass(frozen=True, slots=True)
class Estimator:
    by: str
    count: int  # estimates made (the latest per period)
    compared: int  # of them, with an actual to compare
    mean_bias: float | None  # mean of the biases, in % of the actual: + over, − under
    gaps: tuple[Gap, ...]  # the largest first


def report(
    snap: Snapshot, board_id: int | None, since: date | None = None, top: int = 3
) -> list[Estimator]:
    """Per estimator (by login): how many estimates, the mean bias against the actuals, and
    the largest gaps, for periods from `since` on; the most estimates first."""
    gaps: dict[str, list[Gap]] = {}
    counts: dict[str, int] = {}
    for k in snap.kpis_of(board_id):
        actual = {
            period_start(k.frequency, e.day): e
            for e in series(k.frequency, snap.entries.get(k.id, ()))
        }
        for x in latest_estimates(k, snap.estimates.get(k.id, ())):
            if since is not None and x.day < since:
                continue
            counts[x.by] = counts.get(x.by, 0) + 1
            e = actual.get(period_start(k.frequency, x.day))
            if e is None:
                continue
            bias = (x.value - e.value) / abs(e.value) * 100.0 if e.value else None
            gaps.setdefault(x.by, []).append(Gap(k, x.day, x.by, x.value, e.value, bias))
    out = []
    for by, n in counts.items():
        mine = gaps.get(by, [])
        biases = [g.bias for g in mine if g.bias is not None]
        mean = sum(biases) / len(biases) if biases else None
        largest = sorted(mine, key=lambda g: (-abs(g.bias or 0.0), g.day))[:top]
        out.append(Estimator(by, n, len(mine), mean, tuple(largest)))
    return sorted(out, key=lambda s: (-s.count, s.by))
