"""The app's read-only mode: a board served to a TV (or shown as of a past day) writes nothing.

Two locks, so a key someone adds later cannot slip through: the app refuses the write keys
before any form opens (`WRITE_ACTIONS`, checked in `TeamboardApp.run_action`), and the store it
holds refuses every transaction (`ReadOnlyStore`), so a write started any other way (a click, a
key not listed here) fails with the same notice and leaves the file untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.db import Store, Tx
from store.errors import StoreError

# The actions that change the store or start something that does: by name on any screen, or
# as `Screen.name` where the name means something else elsewhere (the board's `move` moves the
# focus; the action screen's moves the action a stage on).
WRITE_ACTIONS = frozenset(
    {
        "record",  # r: record a value
        "add_action",  # a: a new action / countermeasure
        "move_action",  # m: the next PDCA stage
        "done_action",  # d: done
        "edit_action",  # e: owner and due date
        "note",  # t: a note on the latest entry
        "huddle",  # h: a huddle writes its minutes
        "skip",  # S: a skip goes into the minutes
        "attendance",  # w: who is here, into the minutes
        "undo",  # undo is a new write
        "escalate",  # E: raise an action to the board above (issue 10)
        "answer",  # y: answer an escalation waiting here
        "take_over",  # o: take an escalated action over
        "review",  # v: a leader's review of the board
        "ActionScreen.move",  # one action, opened: next stage
        "ActionScreen.done",
        "ActionScreen.edit",
    }
)


# What writes only a huddle's minutes: a huddle on a past day's board keeps none (`--as-of`), so
# there it may run, step through its agenda and skip; a served board refuses them.
MINUTES_ONLY = frozenset({"huddle", "skip", "attendance"})


def writes(namespace: object, name: str, minutes_kept: bool = True) -> bool:
    """Does action `name`, run on `namespace` (a screen, a widget, the app), write?"""
    if not minutes_kept and name in MINUTES_ONLY:
        return False
    return name in WRITE_ACTIONS or f"{type(namespace).__name__}.{name}" in WRITE_ACTIONS


def refusal(reason: str) -> str:
    """The one notice every refused write shows."""
    return f"read-only: {reason}"


class ReadOnly(StoreError):
    """A write asked of a read-only app."""


class ReadOnlyStore(Store):
    """A store that reads as usual and refuses every transaction, before the lock is taken."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(path)
        self.reason = reason

    @contextmanager
    def transaction(self, create: bool = False) -> Iterator[Tx]:
        raise ReadOnly(refusal(self.reason))
        yield  # pragma: no cover - a generator, for the context manager's sake
