"""Every change to the store, each one read-modify-write under the lock (`Store.transaction`).

Callers (the command line, the app's forms) parse text with `store.validate`; these functions
check what only the store can know (names taken, limits, which board) and write documents that
`store.codec` builds. Nothing is overwritten without a trace: a changed field of a board or KPI,
an archive, a target goes into the change log (`changes`), an action's changes into its history,
and a value recorded again supersedes the old one, which stays.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

from . import codec, fastpath, validate
from .db import Store, Tx
from .errors import BadInput, Fix
from .fastpath import Recorded
from .model import Action, Board, Direction, Entry, Frequency, Kind, Kpi, Stage
from .present import num
from .snapshot import Snapshot, action_from, board_from, entry_from, kpi_from

Ref = str | int  # a board or KPI: by id (the app, which must not be redirected) or by name
# What `edit_kpi` can change (the target has its own operation: it changes over time).
_KPI_FIELDS = (
    "name", "unit", "direction", "amber", "frequency", "owner", "goal", "kind", "counter",
    "description", "category", "due",
)  # fmt: skip


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _board_id(snap: Snapshot, board: Ref | None) -> int:
    return snap.board_ref(board).id if board not in (None, "") else snap.default_board().id


def _log_fields(
    tx: Tx, table: str, ref: int, before: dict[str, Any], fields: dict[str, Any], what: str
) -> None:
    """Keep each field that really changed in the change log, old and new."""
    for key, new in fields.items():
        old = before.get(key)
        if old != new:
            tx.revise(table, ref, key, codec.plain(old), codec.plain(new), what)


def init(store: Store) -> None:
    """Create an empty store (or do nothing to one that exists, bar a schema upgrade)."""
    with store.transaction(create=True) as tx:
        tx.touch("created the store")


# --- boards ---------------------------------------------------------------------------------


def add_board(
    store: Store,
    name: str,
    parent: str | None = None,
    description: str = "",
    kpi_limit: int = 7,
    review_days: int = 7,
) -> Board:
    with store.transaction() as tx:
        snap = tx.snapshot
        if review_days < 1:
            raise BadInput(f"review days must be at least 1, not {review_days}")
        if any(b.name.casefold() == name.casefold() for b in snap.boards.values()):
            raise BadInput(f"a board named {name!r} exists already; pick another name")
        validate.lookalike(name, [b.name for b in snap.boards.values()], "board")
        parent_id = snap.board_named(parent).id if parent else None
        if parent_id is not None:
            validate.parent_link(snap.boards, snap.boards[parent_id])
        doc = codec.board_doc(name, description, parent_id, kpi_limit)
        if review_days != 7:
            doc["review_days"] = review_days
        doc = tx.insert("boards", doc)
        tx.touch(f"added board {name}")
        return board_from(doc)


def edit_board(
    store: Store,
    board: Ref,
    new_name: str | None = None,
    description: str | None = None,
    parent: str | None = None,
    kpi_limit: int | None = None,
    review_days: int | None = None,
) -> Board:
    with store.transaction() as tx:
        snap = tx.snapshot
        b = snap.board_ref(board)
        fields: dict[str, Any] = {}
        taken = {o.name.casefold() for o in snap.boards.values() if o.id != b.id}
        if new_name is not None and new_name.casefold() in taken:
            raise BadInput(f"a board named {new_name!r} exists already; pick another name")
        if new_name is not None:
            validate.lookalike(new_name, [o.name for o in snap.boards.values() if o.id != b.id],
                               "board")  # fmt: skip
            fields["name"] = new_name
        if description is not None:
            fields["description"] = description
        if parent is not None:
            if parent == "":
                fields["parent"] = None
            else:
                p = snap.board_named(parent)
                validate.parent_link(snap.boards, p, b)
                ancestor: int | None = p.id
                while ancestor is not None:  # the KPI tree must stay a tree
                    if ancestor == b.id:
                        raise BadInput(
                            f"{p.name!r} is under {b.name!r}: a board cannot be its own parent"
                        )
                    ancestor = snap.boards[ancestor].parent
                fields["parent"] = p.id
        if kpi_limit is not None:
            fields["kpi_limit"] = kpi_limit
        if review_days is not None:
            if review_days < 1:
                raise BadInput(f"review days must be at least 1, not {review_days}")
            fields["review_days"] = review_days
        if not fields:
            can_change = ("name", "description", "parent", "kpi_limit", "review_days")
            raise BadInput("nothing to change", Fix.SAY_WHAT, fields=can_change)
        what = f"edited board {fields.get('name', b.name)}"
        _log_fields(tx, "boards", b.id, tx.doc("boards", b.id), fields, what)
        tx.update("boards", b.id, fields)
        tx.touch(what)
        return board_from(tx.doc("boards", b.id))


# --- KPIs -----------------------------------------------------------------------------------


def _check_amber(direction: Direction, target: float, amber: float | None) -> None:
    if amber is None:
        return
    if direction is Direction.UP and amber >= target:
        raise BadInput(
            f"amber {num(amber)} must be below the target {num(target)} when higher is better "
            "(values between amber and target show amber)"
        )
    if direction is Direction.DOWN and amber <= target:
        raise BadInput(
            f"amber {num(amber)} must be above the target {num(target)} when lower is better "
            "(values between target and amber show amber)"
        )


def _counter_id(
    snap: Snapshot, board_id: int, counter: str | None, self_id: int | None
) -> int | None:
    if not counter:
        return None
    k = snap.kpi_named(counter, snap.boards[board_id].name)
    if k.id == self_id:
        raise BadInput("a KPI cannot be its own counter-metric: name another KPI of the board")
    return k.id


def add_kpi(
    store: Store,
    name: str,
    board: Ref | None,
    target: float,
    direction: Direction = Direction.UP,
    unit: str = "",
    amber: float | None = None,
    frequency: Frequency = Frequency.DAILY,
    owner: str = "",
    goal: str = "",
    kind: Kind = Kind.LAGGING,
    counter: str | None = None,
    description: str = "",
    force: bool = False,
    category: str = "",
    due: time | None = None,
) -> Kpi:
    _check_amber(direction, target, amber)
    with store.transaction() as tx:
        snap = tx.snapshot
        board_id = _board_id(snap, board)
        b = snap.boards[board_id]
        live = snap.kpis_of(board_id)
        if any(k.name.casefold() == name.casefold() for k in snap.kpis_of(board_id, archived=True)):
            raise BadInput(f"board {b.name!r} has a KPI named {name!r} already; pick another name")
        validate.lookalike(name, [k.name for k in snap.kpis_of(board_id, archived=True)], "KPI")
        if len(live) >= b.kpi_limit and not force:
            raise BadInput(
                f"board {b.name!r} has {len(live)} KPIs, its limit of the vital few (a board "
                "tracks what matters most)",
                Fix.OVER_LIMIT,
                subject=b.name,
            )
        fields = {}
        if goal.strip():
            from . import goals  # only when a goal is named: `record` starts faster

            goal_id, goal = goals.resolve_for_kpi(tx, snap, board_id, goal, None, force)
            fields["goal_id"] = goal_id
        doc = tx.insert(
            "kpis",
            fields
            | codec.kpi_doc(
                board=board_id,
                name=name,
                targets=[codec.target_doc(target, None, tx.who, tx.at)],
                direction=direction,
                unit=unit,
                amber=amber,
                frequency=frequency,
                owner=owner,
                goal=goal,
                kind=kind,
                counter=_counter_id(snap, board_id, counter, None),
                description=description,
                category=category,
                due=due.strftime("%H:%M") if due is not None else None,
            ),
        )
        tx.touch(f"added KPI {name}")
        return kpi_from(doc)


def edit_kpi(
    store: Store, kpi: Ref, board: Ref | None = None, force: bool = False, **changes: Any
) -> Kpi:
    """Change a KPI's fields (name, unit, direction, amber, frequency, owner, goal, kind,
    counter, description, category). The target has its own command: it changes over time. A
    goal is named (see `goals.resolve_for_kpi`); `force` goes past the per-goal KPI limit."""
    with store.transaction() as tx:
        snap = tx.snapshot
        k = snap.kpi_ref(kpi, board)
        fields: dict[str, Any] = {}
        for key, value in changes.items():
            if value is None or (key == "category" and value == k.category):
                continue  # a category left as it is (absent and "" both mean none): no change
            if key == "name":
                others = snap.kpis_of(k.board, archived=True)
                if any(o.name.casefold() == value.casefold() and o.id != k.id for o in others):
                    raise BadInput(f"the board has a KPI named {value!r} already")
                validate.lookalike(value, [o.name for o in others if o.id != k.id], "KPI")
            if key == "counter":
                value = _counter_id(snap, k.board, value, k.id) if value else None
            if key in ("amber", "due") and value == "":
                value = None
            if key == "goal":
                from . import goals

                goal_id = None
                if value.strip():
                    goal_id, value = goals.resolve_for_kpi(tx, snap, k.board, value, k.id, force)
                if goal_id != k.goal_id:
                    fields["goal_id"] = goal_id
            if isinstance(value, time):
                value = value.strftime("%H:%M")
            if isinstance(value, (Direction, Frequency, Kind)):
                value = value.value
            fields[key] = value
        if not fields:
            raise BadInput("nothing to change", Fix.SAY_WHAT, fields=_KPI_FIELDS)
        direction = Direction(fields.get("direction", k.direction))
        _check_amber(direction, k.target, fields.get("amber", k.amber))
        what = f"edited KPI {fields.get('name', k.name)}"
        _log_fields(tx, "kpis", k.id, tx.doc("kpis", k.id), fields, what)
        tx.update("kpis", k.id, fields)
        tx.touch(what)
        return kpi_from(tx.doc("kpis", k.id))


def archive_kpi(store: Store, kpi: Ref, board: Ref | None = None, restore: bool = False) -> Kpi:
    with store.transaction() as tx:
        k = tx.snapshot.kpi_ref(kpi, board, archived=restore)
        what = f"{'restored' if restore else 'archived'} KPI {k.name}"
        _log_fields(tx, "kpis", k.id, {"archived": k.archived}, {"archived": not restore}, what)
        tx.update("kpis", k.id, {"archived": not restore})
        tx.touch(what)
        return kpi_from(tx.doc("kpis", k.id))


def set_target(store: Store, kpi: Ref, value: float, since: date, board: Ref | None = None) -> Kpi:
    """A new target from `since` on; earlier periods keep the target that was in force then.

    A second target for the same day supersedes the first, and both stay: the list is kept in
    order of `from`, then of setting, and the last one in force wins.
    """
    with store.transaction() as tx:
        k = tx.snapshot.kpi_ref(kpi, board)
        _check_amber(k.direction, value, k.amber)
        doc = tx.doc("kpis", k.id)
        targets = [*doc["targets"], codec.target_doc(value, since, tx.who, tx.at)]
        targets.sort(key=lambda t: t.get("from") or "")  # stable: same day keeps setting order
        what = f"set the target of {k.name} to {value:g} from {since.isoformat()}"
        tx.revise("kpis", k.id, "target", k.target_on(since), value, what)
        tx.update("kpis", k.id, {"targets": targets})
        tx.touch(what)
        return kpi_from(tx.doc("kpis", k.id))


# --- entries --------------------------------------------------------------------------------


def record(
    store: Store,
    kpi: Ref,
    value: float,
    day: date,
    today: date,
    board: Ref | None = None,
    plan: float | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Recorded:
    """Record an actual. The same KPI and date again supersedes it; the old value stays.

    `store.fastpath` does it without building the whole snapshot, and hands a store it does not
    vouch for to `record_whole`; a PostgreSQL store has its own (`store.pg.record`)."""
    if store.engine == "postgresql":
        from .pg.record import record as pg_record

        return pg_record(store, kpi, value, day, today, board, plan, note, now,
                         fallback=record_whole)  # fmt: skip
    return fastpath.record(
        store, kpi, value, day, today, board, plan, note, now, fallback=record_whole
    )


def record_whole(
    store: Store,
    kpi: Ref,
    value: float,
    day: date,
    today: date,
    board: Ref | None = None,
    plan: float | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Recorded:
    """`record` through the general transaction: the whole snapshot, TinyDB's insert."""
    with store.transaction() as tx:
        snap = tx.snapshot
        k = snap.kpi_ref(kpi, board)
        before = [e for e in snap.entries.get(k.id, ()) if e.day == day]
        entry = entry_from(tx.insert("entries", codec.entry_doc(k.id, day, value, plan, note)))
        tx.touch(f"recorded {k.name} = {value:g}")
        # The snapshot taken under the lock plus this entry: no second parse of a big store.
        entries = dict(snap.entries)
        entries[k.id] = [*entries.get(k.id, ()), entry]
        after = replace(snap, entries=entries)
        view = next(x for x in after.views(k.board, today, now) if x.kpi.id == k.id)
        return Recorded(entry, view, before[-1] if before else None)


def add_note(store: Store, kpi: Ref, note: str, board: Ref | None = None) -> Entry:
    """Add a note to the KPI's latest entry: a new version of it, so the history keeps both."""
    with store.transaction() as tx:
        snap = tx.snapshot
        k = snap.kpi_ref(kpi, board)
        entries = snap.entries.get(k.id)
        if not entries:
            raise BadInput(f"{k.name} has no entry to note yet: record a value first")
        latest = max(entries, key=lambda e: (e.day, e.id))
        text = f"{latest.note}\n{note}".strip() if latest.note else note
        doc = codec.entry_doc(k.id, latest.day, latest.value, latest.plan, text)
        entry = entry_from(tx.insert("entries", doc))
        tx.touch(f"noted {k.name}")
        return entry


# --- actions --------------------------------------------------------------------------------


def add_action(
    store: Store,
    title: str,
    board: Ref | None = None,
    kpi: Ref | None = None,
    owner: str = "",
    due: date | None = None,
) -> Action:
    """Add an action in PLAN. The title and owner are checked here too, not only by the CLI and
    the forms: a caller of the store's interface gets a `BadInput`, never a codec error."""
    title, owner = validate.title(title, "action title"), validate.owner(owner)
    with store.transaction() as tx:
        snap = tx.snapshot
        kpi_id: int | None = None
        if kpi not in (None, ""):
            k = snap.kpi_ref(kpi, board)  # type: ignore[arg-type]
            board_id, kpi_id = k.board, k.id
        else:
            board_id = _board_id(snap, board)
        doc = tx.insert(
            "actions",
            codec.action_doc(
                title=title,
                board=board_id,
                kpi=kpi_id,
                owner=owner,
                due=due,
                stage=Stage.PLAN,
                history=[codec.history_doc("stage", None, "plan", Stage.PLAN, tx.who, tx.at)],
            ),
        )
        tx.touch(f"added action #{doc['id']}")
        return action_from(doc)


def move_action(store: Store, action_id: int, stage: Stage | None = None) -> Action:
    """Move an action to `stage`, or to the next PDCA stage when none is given."""
    with store.transaction() as tx:
        a = tx.snapshot.action(action_id)
        new = stage or a.stage.next
        if new is a.stage:
            raise BadInput(f"action #{a.id} is in {a.stage.value} already")
        doc = tx.doc("actions", a.id)
        history = [
            *doc.get("history", []),
            codec.history_doc("stage", a.stage.value, new.value, new, tx.who, tx.at),
        ]
        tx.update("actions", a.id, {"stage": new.value, "history": history})
        tx.touch(f"moved action #{a.id} to {new.value}")
        return action_from(tx.doc("actions", a.id))


def edit_action(
    store: Store,
    action_id: int,
    title: str | None = None,
    owner: str | None = None,
    due: date | None = None,
    kpi: Ref | None = None,
    clear_due: bool = False,
) -> Action:
    """Change an action's fields, each change kept in its history (checked as `add_action`)."""
    if title is not None:
        title = validate.title(title, "action title")
    if owner is not None:
        owner = validate.owner(owner)
    with store.transaction() as tx:
        snap = tx.snapshot
        a = snap.action(action_id)
        doc = tx.doc("actions", a.id)
        fields: dict[str, Any] = {}
        if title is not None:
            fields["title"] = title
        if owner is not None:
            fields["owner"] = owner
        if due is not None or clear_due:
            fields["due"] = _iso(due)
        if kpi is not None:
            k = snap.kpi_ref(kpi, a.board)
            fields["kpi"] = k.id
        if not fields:
            raise BadInput(
                "nothing to change", Fix.SAY_WHAT, fields=("title", "owner", "due", "kpi")
            )
        history = list(doc.get("history", []))
        for key, value in fields.items():
            if doc.get(key) != value:
                old, new = doc.get(key) or "", value or ""
                history.append(codec.history_doc(key, old, new, a.stage, tx.who, tx.at))
        fields["history"] = history
        tx.update("actions", a.id, fields)
        tx.touch(f"edited action #{a.id}")
        return action_from(tx.doc("actions", a.id))


# --- huddles --------------------------------------------------------------------------------


def save_huddle(store: Store, minutes: dict[str, Any]) -> int:
    """Keep a huddle's minutes, with the escalations to or from the board since its previous
    huddle and its last leader review (`huddle.tier_minutes`); returns the record's id."""
    with store.transaction() as tx:
        board_id = minutes.get("board_id")
        if type(board_id) is int and board_id in tx.snapshot.boards:
            from . import huddle, tiers

            snap = tx.snapshot
            day = date.fromisoformat(str(minutes.get("date")))
            last = tiers.last_review(snap, board_id)
            extra = huddle.tier_minutes(
                snap.huddles, snap.actions.values(), snap.boards, last, board_id, day
            )
            minutes = {**extra, **minutes}
        doc = tx.insert("huddles", minutes)
        tx.touch(f"kept the minutes of huddle #{doc['id']}")
        return int(doc["id"])


__all__ = [
    "Recorded",
    "add_action",
    "add_board",
    "add_kpi",
    "add_note",
    "archive_kpi",
    "edit_action",
    "edit_board",
    "edit_kpi",
    "init",
    "move_action",
    "record",
    "save_huddle",
    "set_target",
]
