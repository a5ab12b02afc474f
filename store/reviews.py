"""Leaders at the board: a review records who looked, when, what they asked, and which KPIs
were red on the board then (002: leaders who use the boards on their Gemba walks)."""

from __future__ import annotations

from datetime import date

from . import codec
from .db import Store
from .model import Review, Status
from .snapshot import Snapshot

Ref = str | int


def add_review(store: Store, board: Ref, today: date, note: str = "") -> Review:
    """Record that the current user reviewed the board today, with the red KPIs it showed."""
    with store.transaction() as tx:
        snap = tx.snapshot
        b = snap.board_ref(board)
        reds = [v.kpi.id for v in snap.views(b.id, today) if v.status is Status.RED]
        doc = tx.insert("reviews", codec.review_doc(b.id, note, reds))
        tx.touch(f"reviewed board {b.name}")
        return codec.decode_review(doc)


def reviews_of(snap: Snapshot, board_id: int | None, since: date | None = None) -> list[Review]:
    """The reviews of a board (every board's when None), newest first; `since` keeps those
    on or after that (UTC) day."""
    out = [
        r
        for r in snap.reviews
        if (board_id is None or r.board == board_id)
        and (since is None or r.at[:10] >= since.isoformat())
    ]
    return sorted(out, key=lambda r: (r.at, r.id), reverse=True)


__all__ = ["add_review", "reviews_of"]
