"""Explained reds (`teamboard explain`, `t` in the huddle): why a KPI is red and has no action.

An explanation satisfies the red-no-action gate from the day it is given until its `until` day
(default: the end of the next period); then the flag returns. Each one is kept, never edited.
"""

from __future__ import annotations

from datetime import date, timedelta

from . import codec
from .db import Store
from .errors import BadInput
from .model import Explanation, Kpi
from .ops import Ref
from .present import short_date
from .rules import next_period_start, period_start


def default_until(kpi: Kpi, today: date) -> date:
    """The last day of the period after the one holding `today` (tomorrow, for a daily KPI)."""
    following = next_period_start(kpi.frequency, period_start(kpi.frequency, today))
    return next_period_start(kpi.frequency, following) - timedelta(days=1)


def explain(
    store: Store,
    kpi: Ref,
    text: str,
    today: date,
    until: date | None = None,
    board: Ref | None = None,
) -> Explanation:
    """Keep why the KPI is red and has no action, in force from `today` to `until`."""
    if not text.strip():
        raise BadInput("an explanation needs its text: say why the KPI is red and has no action")
    with store.transaction() as tx:
        k = tx.snapshot.kpi_ref(kpi, board)
        end = until if until is not None else default_until(k, today)
        if end < today:
            raise BadInput(
                f"--until {end.isoformat()} is before today ({short_date(today, today)}): "
                "an explanation holds from today until a later day"
            )
        doc = tx.insert("explanations", codec.explanation_doc(k.id, text, today, end))
        tx.touch(f"explained {k.name} until {end.isoformat()}")
        return codec.decode_explanation(doc)


def in_force(
    explanations: dict[int, list[Explanation]], kpi_ids: set[int] | None, day: date
) -> list[Explanation]:
    """The explanations in force on `day` (of these KPIs), the oldest first: for the minutes."""
    return [
        x
        for kpi_id, xs in sorted(explanations.items())
        if kpi_ids is None or kpi_id in kpi_ids
        for x in xs
        if x.active(day)
    ]


def for_minutes(
    kpis: dict[int, Kpi],
    explanations: dict[int, list[Explanation]],
    board_id: int | None,
    day: date,
) -> list[dict[str, str]]:
    """The explanations in force on a huddle's day, for its board's KPIs: the minutes list them
    (plain values: `markdown_lines` renders them, `minutes --format json` prints them)."""
    ids = {k.id for k in kpis.values() if board_id is None or k.board == board_id}
    return [
        {
            "kpi": kpis[x.kpi].name,
            "text": x.text,
            "from": x.since.isoformat(),
            "until": x.until.isoformat(),
            "who": x.who,
        }
        for x in in_force(explanations, ids, day)
    ]


def markdown_lines(items: list[dict[str, str]], today: date | None = None) -> list[str]:
    """`## Explanations` and one line each: `- OEE: supplier strike (until Sat 22 Nov, ben)`."""
    if not items:
        return []
    out = ["", "## Explanations", ""]
    for x in items:
        until = short_date(date.fromisoformat(x["until"]), today)
        who = f", {x['who']}" if x["who"] else ""
        text = " ".join(x["text"].split())
        out.append(f"- {x['kpi']}: {text} (until {until}{who})")
    return out
