"""The per-KPI part of a view, remembered across reads (issue 14: a follower's views at 200
writers): after a write, one KPI's entries changed and the others' did not, so their history,
colours, trend and sparkline marks are what the last read's views computed.

`rules.view_kpis` asks `tail(kpi, entries, estimates, compute)`: the answer is reused only when
the very same objects come again: the same `Kpi` and, one by one, the same `Entry` and
`Estimate` objects (`is`, never `==`: an equal float is not always the same text, -0.0 and
0.0). The model's objects are frozen and a reload reuses the unchanged ones (`Snapshot.from_raw`'s
`reuse`, store/pg/follow.py), so a hit is exactly what computing again gives; anything else
computes afresh. What depends on the clock (lateness, staleness) and on other KPIs or actions
(flags, counter-metrics) is never remembered: `view_kpis` works it out on every call.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .model import Entry, Estimate, Kpi

LIMIT = 4096  # KPIs remembered (a wall shows tens; an organisation's roll-up some thousands)

Tail = tuple[Any, ...]  # what rules.view_kpis computes from a KPI, its entries and estimates
_memo: dict[int, tuple[Kpi, tuple[Entry, ...], tuple[Estimate, ...], Tail]] = {}
_lock = threading.Lock()
stats = {"hits": 0, "misses": 0}  # for tests and benchmarks


def _same(a: Sequence[object], b: Sequence[object]) -> bool:
    return len(a) == len(b) and all(map(operator.is_, a, b))


def tail(
    kpi: Kpi,
    entries: Sequence[Entry],
    estimates: Sequence[Estimate],
    compute: Callable[[Kpi, Sequence[Entry], Sequence[Estimate]], Tail],
) -> Tail:
    """`compute(kpi, entries, estimates)`, or what it gave for these very objects last time."""
    es, xs = tuple(entries), tuple(estimates)
    with _lock:
        got = _memo.get(kpi.id)
    if got is not None and got[0] is kpi and _same(got[1], es) and _same(got[2], xs):
        stats["hits"] += 1
        return got[3]
    stats["misses"] += 1
    out = compute(kpi, es, xs)
    with _lock:
        _memo.pop(kpi.id, None)  # to the end: the oldest go first
        _memo[kpi.id] = (kpi, es, xs, out)
        while len(_memo) > LIMIT:
            del _memo[next(iter(_memo))]
    return out


def clear() -> None:
    with _lock:
        _memo.clear()
