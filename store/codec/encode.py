"""Encoding: the documents every write stores, built from the domain's values."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from ..model import Direction, Escalation, Frequency, Kind, Stage

Doc = dict[str, Any]


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def board_doc(
    name: str, description: str = "", parent: int | None = None, kpi_limit: int = 7
) -> Doc:
    return {"name": name, "description": description, "parent": parent, "kpi_limit": kpi_limit}


def target_doc(value: float, since: date | None, who: str, at: str) -> Doc:
    doc: Doc = {"value": value, "who": who, "at": at}
    if since is not None:
        doc["from"] = since.isoformat()
    return doc


def kpi_doc(
    *,
    board: int,
    name: str,
    targets: list[Doc],
    direction: Direction = Direction.UP,
    unit: str = "",
    amber: float | None = None,
    frequency: Frequency = Frequency.DAILY,
    owner: str = "",
    goal: str = "",
    kind: Kind = Kind.LAGGING,
    counter: int | None = None,
    description: str = "",
    archived: bool = False,
    category: str = "",
    due: str | None = None,
) -> Doc:
    doc: Doc = {
        "board": board,
        "name": name,
        "targets": targets,
        "direction": direction.value,
        "unit": unit,
        "amber": amber,
        "frequency": frequency.value,
        "owner": owner,
        "goal": goal,
        "kind": kind.value,
        "counter": counter,
        "description": description,
        "archived": archived,
    }
    if category:  # absent means none, as in stores written before categories
        doc["category"] = category
    if due:  # absent in stores that set none
        doc["due"] = due
    return doc


def entry_doc(
    kpi: int, day: date, value: float, plan: float | None = None, note: str = ""
) -> Doc:
    doc: Doc = {"kpi": kpi, "date": day.isoformat(), "value": value}
    if plan is not None:
        doc["plan"] = plan
    if note:
        doc["note"] = note
    return doc


def estimate_doc(kpi: int, day: date, value: float, by: str) -> Doc:
    return {"kpi": kpi, "date": day.isoformat(), "value": value, "by": by}


def explanation_doc(kpi: int, text: str, since: date, until: date) -> Doc:
    return {"kpi": kpi, "text": text, "from": since.isoformat(), "until": until.isoformat()}


def history_doc(field: str, old: object, new: object, stage: Stage, who: str, at: str) -> Doc:
    doc: Doc = {"field": field, "new": new, "stage": stage.value, "who": who, "at": at}
    if old is not None:
        doc["old"] = old
    return doc


def action_doc(
    *,
    title: str,
    board: int,
    kpi: int | None,
    owner: str,
    due: date | None,
    stage: Stage,
    history: list[Doc],
) -> Doc:
    return {
        "title": title,
        "board": board,
        "kpi": kpi,
        "owner": owner,
        "due": _iso(due),
        "stage": stage.value,
        "history": history,
    }


def revision_doc(table: str, ref: int, field: str, old: object, new: object, what: str) -> Doc:
    """One field of a board, KPI or action changed (who and when are added by the write)."""
    return {"table": table, "ref": ref, "field": field, "old": old, "new": new, "what": what}


def plain(value: object) -> object:
    """A domain value as the documents store it (enums by value, dates as ISO text)."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def goal_doc(
    board: int, name: str, parent: int | None = None, due: date | None = None,
    description: str = "", archived: bool = False,
) -> Doc:  # fmt: skip
    return {
        "board": board,
        "name": name,
        "parent": parent,
        "due": _iso(due),
        "description": description,
        "archived": archived,
    }


def review_doc(board: int, note: str, reds: list[int]) -> Doc:
    return {"board": board, "note": note, "reds": reds}


def escalation_doc(to: int, origin: int, why: str, who: str, at: str) -> Doc:
    return {"to": to, "origin": origin, "why": why, "who": who, "at": at}


def plain_escalation(e: Escalation) -> Doc:
    """An escalation as the action document stores it."""
    return {
        "to": e.to, "origin": e.origin, "why": e.why, "who": e.who, "at": e.at,
        "answer": e.answer, "answered_by": e.answered_by, "answered_at": e.answered_at,
        "taken_by": e.taken_by, "taken_at": e.taken_at,
    }  # fmt: skip
