"""Messages between the loader thread, the app and its screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from store.snapshot import Snapshot

from .prepare import Prepared


@dataclass
class StoreLoaded(Message):
    """A fresh snapshot parsed in the reading thread."""

    snapshot: Snapshot
    generation: int = 0  # which read: the app drops results of reads it gave up on
    read: Snapshot | None = None  # the whole store, when `snapshot` is it as of a past day
    prepared: Prepared | None = None  # the shown board's views, built in the reading thread


@dataclass
class StoreFailed(Message):
    """The store could not be read; the board keeps its last good snapshot."""

    error: str
    missing: bool = False
    generation: int = 0


@dataclass
class ViewsReady(Message):
    """The shown board's views at a new moment (midnight, a due time), built in a thread;
    None when building them failed (the screens then build them, as before)."""

    prepared: Prepared | None
