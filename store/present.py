"""Words, glyphs and number formats shared by the command line, the board and the huddle.

Pure strings: a status always has a glyph and a word as well as a colour, so the board reads
for the colour-blind and on a monochrome terminal.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from .model import Stage, Status
from .rules import Flag, KpiView, Trend

STATUS_GLYPH = {
    Status.GREEN: "✔",
    Status.AMBER: "▲",
    Status.RED: "✖",
    Status.STALE: "?",
    Status.NO_DATA: "–",
}
STATUS_WORD = {
    Status.GREEN: "green",
    Status.AMBER: "amber",
    Status.RED: "red",
    Status.STALE: "stale",
    Status.NO_DATA: "no data",
}
STAGE_GLYPH = {
    Stage.PLAN: "◔",
    Stage.DO: "◑",
    Stage.CHECK: "◕",
    Stage.ACT: "●",
    Stage.DONE: "✓",
}
TREND_ARROW = {
    Trend.IMPROVING: "↗",
    Trend.WORSENING: "↘",
    Trend.FLAT: "→",
    Trend.UNKNOWN: "·",
}


def num(x: float) -> str:
    """A number as people write it: thousands separated, no trailing zeros."""
    if abs(x) >= 1000:
        text = f"{x:,.1f}"
    elif abs(x) >= 10:
        text = f"{x:.1f}"
    else:
        text = f"{x:.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text.replace("-", "−")


def with_unit(x: float, unit: str) -> str:
    if not unit:
        return num(x)
    sep = "" if unit in ("%", "°") else " "
    return f"{num(x)}{sep}{unit}"


def signed(x: float) -> str:
    return ("+" if x > 0 else "") + num(x)


def variance_text(view: KpiView) -> str:
    """`−6.5 (−7.6%)`; empty when there is no entry."""
    var = view.variance
    if var is None:
        return ""
    diff, pct = var
    return signed(diff) + (
        f" ({'+' if pct > 0 else ''}{pct:.1f}%)".replace("-", "−") if pct is not None else ""
    )


def benchmark_label(view: KpiView) -> str:
    """`plan 40` when the latest entry has an estimate, else `target 85 %`."""
    latest = view.latest
    word = "plan" if latest is not None and latest.plan is not None else "target"
    return f"{word} {with_unit(view.benchmark, view.kpi.unit)}"


def flag_texts(view: KpiView) -> list[str]:
    out = []
    for flag in view.flags:
        if flag is Flag.RED_NO_ACTION:
            out.append("red, no action")
        elif flag is Flag.COUNTER_RED:
            out.append(f"counter-metric red ({view.counter_name})")
        elif flag is Flag.STALE and view.stale_since is not None:
            out.append(f"stale since {short_date(view.stale_since)}")
    return out


def short_date(d: date, today: date | None = None) -> str:
    """`Mon 17 Nov`, with the year only when it is not this year's."""
    if today is not None and d.year != today.year:
        return d.strftime("%-d %b %Y")
    return d.strftime("%a %-d %b")


def local_time(stamp: str) -> datetime | None:
    """A stored UTC timestamp in the machine's local time."""
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone()


def ago(stamp: str, now: datetime) -> str:
    """`just now`, `5 min ago`, `3 h ago`, `2 days ago`."""
    when = local_time(stamp)
    if when is None:
        return "never"
    if now.tzinfo is None:
        now = now.astimezone()
    secs = (now - when).total_seconds()
    if secs < 60:
        return "just now"
    if secs < 3600:
        return f"{int(secs // 60)} min ago"
    if secs < 86400:
        return f"{int(secs // 3600)} h ago"
    return f"{int(secs // 86400)} days ago"
