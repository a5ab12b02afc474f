"""Goals as objects: add, edit, archive; and which goal a KPI may serve (the KPI tree).

A goal lives on a board. KPIs of that board, or of the boards under it, serve it; a goal may
serve a goal of its own board or of a board above (plant goal → department goal → team KPIs).
A board may have at most `GOAL_KPI_LIMIT` KPIs serving one goal: more is refused unless forced,
and then every view shows it over the limit. Every write goes through `Tx` and the change log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from . import codec, validate
from .db import Store, Tx
from .errors import BadInput, Fix
from .model import Goal, Kpi
from .snapshot import Snapshot
from .tiers import GOAL_KPI_LIMIT, ancestors, serving_count

Ref = str | int


def _decode(doc: dict[str, Any]) -> Goal:
    return codec.decode_goal(doc)


def _check_parent(snap: Snapshot, board_id: int, parent: Goal, self_id: int | None) -> None:
    """A goal serves a goal of its own board or of a board above, and never itself."""
    if parent.board != board_id and parent.board not in ancestors(snap, board_id):
        raise BadInput(
            f"goal {parent.name!r} is on board {snap.boards[parent.board].name!r}, which is not "
            f"{snap.boards[board_id].name!r} nor above it: a goal serves a goal of its own board "
            "or of a board above"
        )
    node: int | None = parent.id
    while node is not None:
        if node == self_id:
            raise BadInput(
                f"goal {parent.name!r} serves this goal already: a goal cannot serve itself"
            )
        node = snap.goals[node].parent if node in snap.goals else None


def _name_free(snap: Snapshot, board_id: int, name: str, self_id: int | None) -> None:
    others = [g for g in snap.goals.values() if g.board == board_id and g.id != self_id]
    if any(g.name.casefold() == name.casefold() for g in others):
        board = snap.boards[board_id].name
        raise BadInput(f"board {board!r} has a goal named {name!r} already; pick another name")
    validate.lookalike(name, [g.name for g in others], "goal")


def add_goal(
    store: Store,
    name: str,
    board: Ref,
    parent: Ref | None = None,
    due: date | None = None,
    description: str = "",
) -> Goal:
    with store.transaction() as tx:
        snap = tx.snapshot
        b = snap.board_ref(board)
        _name_free(snap, b.id, name, None)
        parent_id = None
        if parent is not None and parent != "":
            p = _parent_ref(snap, parent, b.id)
            _check_parent(snap, b.id, p, None)
            parent_id = p.id
        doc = tx.insert("goals", codec.goal_doc(b.id, name, parent_id, due, description))
        tx.revise("goals", doc["id"], "created", None, name, f"added goal {name} to {b.name}")
        tx.touch(f"added goal {name}")
        return _decode(doc)


def _parent_ref(snap: Snapshot, ref: Ref, board_id: int) -> Goal:
    """A parent goal by id or name: a name is looked for on the board and above, nearest first."""
    if isinstance(ref, int):
        return snap.goal_ref(ref)
    for b in [board_id, *ancestors(snap, board_id)]:
        found = [g for g in snap.goals_of(b) if g.name.casefold() == ref.strip().casefold()]
        if found:
            return found[0]
    return snap.goal_ref(ref)  # raises the not-found, or finds one on another branch


def edit_goal(
    store: Store,
    goal: Ref,
    board: Ref | None = None,
    name: str | None = None,
    parent: Ref | None = None,
    due: date | None = None,
    clear_due: bool = False,
    description: str | None = None,
) -> Goal:
    """Change a goal's name, parent goal (`""` clears), due date or description. A new name
    is carried to the KPIs that serve it (their `goal` text)."""
    with store.transaction() as tx:
        snap = tx.snapshot
        g = snap.goal_ref(goal, board)
        fields: dict[str, Any] = {}
        if name is not None:
            _name_free(snap, g.board, name, g.id)
            fields["name"] = name
        if parent is not None:
            if parent == "":
                fields["parent"] = None
            else:
                p = _parent_ref(snap, parent, g.board)
                _check_parent(snap, g.board, p, g.id)
                fields["parent"] = p.id
        if due is not None or clear_due:
            fields["due"] = due.isoformat() if due else None
        if description is not None:
            fields["description"] = description
        if not fields:
            can = ("name", "parent_goal", "due", "description")
            raise BadInput("nothing to change", Fix.SAY_WHAT, fields=can)
        what = f"edited goal {fields.get('name', g.name)}"
        before = tx.doc("goals", g.id)
        for key, new in fields.items():
            if before.get(key) != new:
                tx.revise("goals", g.id, key, codec.plain(before.get(key)), new, what)
        tx.update("goals", g.id, fields)
        if "name" in fields:
            for k in snap.kpis.values():
                if k.goal_id == g.id:
                    tx.update("kpis", k.id, {"goal": name})
        tx.touch(what)
        return _decode(tx.doc("goals", g.id))


def archive_goal(store: Store, goal: Ref, board: Ref | None = None, restore: bool = False) -> Goal:
    """Off the tree, history kept; the KPIs that served it then serve no goal."""
    with store.transaction() as tx:
        snap = tx.snapshot
        g = snap.goal_ref(goal, board, archived=restore)
        if restore and not g.archived:
            raise BadInput(f"goal {g.name!r} is not archived")
        what = f"{'restored' if restore else 'archived'} goal {g.name}"
        tx.revise("goals", g.id, "archived", restore, not restore, what)
        tx.update("goals", g.id, {"archived": not restore})
        tx.touch(what)
        return _decode(tx.doc("goals", g.id))


def resolve_for_kpi(
    tx: Tx, snap: Snapshot, board_id: int, text: str, kpi_id: int | None, force: bool
) -> tuple[int, str]:
    """The goal a KPI of `board_id` will serve, named by `text`: a goal of the board or of a
    board above (nearest first); one that does not exist yet is created on the KPI's board.
    Refuses a third KPI of the board for one goal unless `force`. Returns (id, name)."""
    want = text.strip().casefold()
    goal = None
    for b in [board_id, *ancestors(snap, board_id)]:
        goal = next((g for g in snap.goals_of(b) if g.name.casefold() == want), None)
        if goal is not None:
            break
    if goal is None:
        validate.lookalike(text, [g.name for g in snap.goals_of(board_id)], "goal")
        doc = tx.insert("goals", codec.goal_doc(board_id, text.strip()))
        what = f"added goal {text.strip()} to {snap.boards[board_id].name}"
        tx.revise("goals", doc["id"], "created", None, text.strip(), what)
        return int(doc["id"]), str(doc["name"])
    n = serving_count(snap, goal.id, board_id, but=kpi_id)
    if n >= GOAL_KPI_LIMIT and not force:
        board = snap.boards[board_id].name
        raise BadInput(
            f"board {board!r} has {n} KPIs serving goal {goal.name!r}, the limit of "
            f"{GOAL_KPI_LIMIT} per goal (more KPIs for one goal blur what drives it)",
            Fix.GOAL_LIMIT,
            subject=goal.name,
        )
    return goal.id, goal.name


def kpi_goal(snap: Snapshot, k: Kpi) -> Goal | None:
    """The live goal a KPI serves, if any."""
    g = snap.goals.get(k.goal_id) if k.goal_id is not None else None
    return g if g is not None and not g.archived else None


__all__ = ["add_goal", "archive_goal", "edit_goal", "kpi_goal", "resolve_for_kpi"]
