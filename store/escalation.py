"""Escalation with a way back: an action raised from its team's board to a board above, and the
board above answering it or taking it over.

The action keeps its id, its history, its KPI and its team (`Escalation.origin`); only a take-
over moves it to the board above. Each step is written under the lock through `Tx` and goes
into the action's history, who and when.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import codec
from .db import Store, Tx
from .errors import BadInput
from .model import Action, Escalation
from .snapshot import Snapshot, action_from
from .tiers import ancestors

Ref = str | int


def _history(tx: Tx, a: Action, field: str, old: str, new: str) -> list[dict[str, Any]]:
    doc = tx.doc("actions", a.id)
    return [*doc.get("history", []), codec.history_doc(field, old, new, a.stage, tx.who, tx.at)]


def _open(a: Action, doing: str) -> None:
    if not a.open:
        raise BadInput(f"action #{a.id} is done: there is nothing to {doing}")


def escalate(store: Store, action_id: int, why: str, to: Ref | None = None) -> Action:
    """Raise an open action to its board's parent, or to a named board above it."""
    with store.transaction() as tx:
        snap = tx.snapshot
        a = snap.action(action_id)
        _open(a, "escalate")
        here = snap.boards[a.board]
        above = ancestors(snap, a.board)
        if not above:
            raise BadInput(
                f"board {here.name!r} is at the top of the tree: there is no board above it to "
                f"escalate #{a.id} to"
            )
        if a.waiting and a.escalation is not None:
            raise BadInput(
                f"action #{a.id} is escalated to {snap.boards[a.escalation.to].name!r} already "
                "and waits for its answer"
            )
        target = snap.boards[above[0]] if to is None or to == "" else snap.board_ref(to)
        if target.id not in above:
            names = ", ".join(snap.boards[b].name for b in above)
            raise BadInput(
                f"board {target.name!r} is not above {here.name!r}: escalate to its parent or a "
                f"board above it ({names})"
            )
        if not why.strip():
            raise BadInput("say why it is escalated: what the team needs from the board above")
        esc = codec.escalation_doc(target.id, a.board, why, tx.who, tx.at)
        history = _history(tx, a, "escalated", "", f"to {target.name}: {why}")
        tx.update("actions", a.id, {"escalation": esc, "history": history})
        tx.touch(f"escalated action #{a.id} to {target.name}")
        return action_from(tx.doc("actions", a.id))


def _waiting(snap: Snapshot, action_id: int, doing: str) -> tuple[Action, Escalation]:
    a = snap.action(action_id)
    _open(a, doing)
    e = a.escalation
    if e is None:
        raise BadInput(
            f"action #{a.id} is not escalated: only an escalated action can be {doing}ed "
            f"(escalate it with `action escalate {a.id} --why TEXT`)"
        )
    if e.answered_at:
        raise BadInput(f"action #{a.id} was answered already by {e.answered_by or 'someone'}")
    if e.taken_at:
        raise BadInput(f"action #{a.id} was taken over already by {e.taken_by or 'someone'}")
    return a, e


def answer(store: Store, action_id: int, note: str) -> Action:
    """The board above answers an escalation; the team's board shows the answer."""
    with store.transaction() as tx:
        a, e = _waiting(tx.snapshot, action_id, "answer")
        if not note.strip():
            raise BadInput("say what the answer is: the team reads it on its board")
        done = replace(e, answer=note, answered_by=tx.who, answered_at=tx.at)
        history = _history(tx, a, "answered", "", note)
        tx.update("actions", a.id, {"escalation": codec.plain_escalation(done), "history": history})
        tx.touch(f"answered escalated action #{a.id}")
        return action_from(tx.doc("actions", a.id))


def take(store: Store, action_id: int, owner: str | None = None) -> Action:
    """The board above takes an escalated action over: it moves to that board, owned by
    `owner` (default: whoever takes it), and keeps its KPI, its history and its origin."""
    with store.transaction() as tx:
        snap = tx.snapshot
        a, e = _waiting(snap, action_id, "take")
        new_owner = owner if owner else tx.who
        done = replace(e, taken_by=tx.who, taken_at=tx.at)
        history = _history(tx, a, "taken", "", f"by {tx.who}")
        to = snap.boards[e.to]
        history.append(
            codec.history_doc("board", snap.boards[a.board].name, to.name, a.stage, tx.who, tx.at)
        )
        if new_owner != a.owner:
            history.append(codec.history_doc("owner", a.owner, new_owner, a.stage, tx.who, tx.at))
        fields = {
            "escalation": codec.plain_escalation(done),
            "board": e.to,
            "owner": new_owner,
            "history": history,
        }
        tx.update("actions", a.id, fields)
        tx.touch(f"took over escalated action #{a.id} on {to.name}")
        return action_from(tx.doc("actions", a.id))


__all__ = ["answer", "escalate", "take"]
