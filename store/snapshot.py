"""A read model of the whole store at one instant, built from the raw TinyDB tables."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from . import codec
from .errors import Fix, NotFound
from .model import (
    Action,
    Board,
    Change,
    Entry,
    Estimate,
    Explanation,
    Goal,
    Kpi,
    Review,
    Revision,
)  # fmt: skip
from .rules import KpiView, view_kpis

Doc = dict[str, Any]

# The documents' decoders, under the names the writers use for what they just stored.
board_from = codec.decode_board
kpi_from = codec.decode_kpi
entry_from = codec.decode_entry
action_from = codec.decode_action
same_entry = codec.same_entry


@dataclass(frozen=True)
class Snapshot:
    """The store at one instant. Widgets and commands read this, never the file."""

    boards: dict[int, Board] = field(default_factory=dict)
    kpis: dict[int, Kpi] = field(default_factory=dict)
    entries: dict[int, list[Entry]] = field(default_factory=dict)  # by KPI id, in record order
    actions: dict[int, Action] = field(default_factory=dict)
    huddles: list[Doc] = field(default_factory=list)
    last_change: Change | None = None
    entry_count: int = 0
    revisions: list[Revision] = field(default_factory=list)  # the change log, oldest first
    goals: dict[int, Goal] = field(default_factory=dict)
    reviews: list[Review] = field(default_factory=list)  # oldest first
    estimates: dict[int, list[Estimate]] = field(default_factory=dict)  # by KPI, record order
    explanations: dict[int, list[Explanation]] = field(default_factory=dict)  # by KPI, in order

    @classmethod
    def from_raw(
        cls, raw: dict[str, Any], path: str = "store", reuse: Mapping[int, Entry] | None = None
    ) -> Snapshot:
        """Build the read model. `reuse` holds entries of an earlier snapshot by id: entries
        are never edited in place (a new record supersedes), so a reload converts only the new
        documents; one edited by hand is noticed and converted afresh."""
        # Building 100,000 entries makes the collector run again and again for nothing: the
        # objects are fresh and hold no cycles. Pausing it halves the build time.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return cls._from_raw(raw, path, reuse)
        finally:
            if enabled:
                gc.enable()

    @classmethod
    def _from_raw(
        cls, raw: dict[str, Any], path: str, reuse: Mapping[int, Entry] | None
    ) -> Snapshot:
        try:
            boards = {b.id: b for b in codec.decode_table(raw, "boards", codec.decode_board)}
            kpis = {k.id: k for k in codec.decode_table(raw, "kpis", codec.decode_kpi)}
            entries: dict[int, list[Entry]] = {}
            seen: set[int] = set()
            for key, d in raw["entries"].items():
                e = reuse.get(d.get("id", 0)) if reuse and type(d) is dict else None
                if e is None or not codec.same_entry(e, d):
                    e = codec.decode_entry(d, key)
                if e.id in seen:
                    raise codec.Malformed("entries", e.id, "id", "is used by two documents")
                seen.add(e.id)
                entries.setdefault(e.kpi, []).append(e)
            for lst in entries.values():
                lst.sort(key=lambda e: e.id)
            actions = {a.id: a for a in codec.decode_table(raw, "actions", codec.decode_action)}
            huddles = sorted(
                codec.decode_table(raw, "huddles", codec.decode_huddle), key=lambda h: h["id"]
            )
            revisions = sorted(
                codec.decode_table(raw, "changes", codec.decode_revision), key=lambda r: r.id
            )
            estimates: dict[int, list[Estimate]] = {}
            for x in sorted(
                codec.decode_table(raw, "estimates", codec.decode_estimate)
                if "estimates" in raw
                else [],
                key=lambda x: x.id,
            ):
                estimates.setdefault(x.kpi, []).append(x)
            explanations: dict[int, list[Explanation]] = {}
            for y in sorted(
                codec.decode_table(raw, "explanations", codec.decode_explanation)
                if "explanations" in raw
                else [],
                key=lambda y: y.id,
            ):
                explanations.setdefault(y.kpi, []).append(y)
            for table, by_kpi in (("estimates", estimates), ("explanations", explanations)):
                for kpi_id, docs in by_kpi.items():
                    if kpi_id not in kpis:
                        first = docs[0].id
                        raise codec.Malformed(table, first, "kpi", f"KPI {kpi_id} does not exist")
            meta = raw["meta"].get("1", {})
            change = codec.decode_change(meta)
            codec.check_references(
                boards, kpis, (e for lst in entries.values() for e in lst), actions.values()
            )
            goals = {g.id: g for g in codec.decode_table(raw, "goals", codec.decode_goal)}
            reviews = sorted(
                codec.decode_table(raw, "reviews", codec.decode_review), key=lambda r: r.id
            )
            for problem in codec.tier_problems(boards, kpis, actions.values(), goals, reviews):
                raise problem
        except codec.Malformed as exc:
            raise exc.at(path) from None
        return cls(
            boards=boards,
            kpis=kpis,
            entries=entries,
            actions=actions,
            huddles=huddles,
            last_change=change,
            entry_count=len(raw["entries"]),
            revisions=revisions,
            goals=goals,
            reviews=reviews,
            estimates=estimates,
            explanations=explanations,
        )

    # --- look-ups by the names people type -------------------------------------------------

    def board_named(self, name: str) -> Board:
        want = name.strip().casefold()
        for b in self.boards.values():
            if b.name.casefold() == want:
                return b
        known = ", ".join(sorted(b.name for b in self.boards.values())) or "none yet"
        raise NotFound(f"no board named {name!r} (boards: {known})", Fix.SEE_BOARDS)

    def default_board(self) -> Board:
        """The board to show when none is named: the first top-level one."""
        if not self.boards:
            raise NotFound("the store has no board yet", Fix.ADD_BOARD)
        roots = [b for b in self.boards.values() if b.parent is None] or list(self.boards.values())
        return min(roots, key=lambda b: b.id)

    def kpi_named(self, name: str, board: str | None = None, archived: bool = False) -> Kpi:
        """A KPI by name, case-insensitive; the board may be left out when the name is unique."""
        want = name.strip().casefold()
        pool = [k for k in self.kpis.values() if k.name.casefold() == want]
        if not archived:
            pool = [k for k in pool if not k.archived]
        if board is not None:
            b = self.board_named(board)
            pool = [k for k in pool if k.board == b.id]
        if not pool:
            where = f" on board {board!r}" if board else ""
            raise NotFound(f"no KPI named {name!r}{where}", Fix.SEE_KPIS)
        if len(pool) > 1:
            names = ", ".join(sorted(self.boards[k.board].name for k in pool))
            raise NotFound(f"KPI {name!r} is on several boards ({names})", Fix.NAME_BOARD)
        return pool[0]

    def board_ref(self, ref: str | int) -> Board:
        """A board by id (what the app holds) or by the name someone typed."""
        if isinstance(ref, int):
            try:
                return self.boards[ref]
            except KeyError:
                raise NotFound(f"board #{ref} is gone (someone else removed it)") from None
        return self.board_named(ref)

    def kpi_ref(
        self, ref: str | int, board: str | int | None = None, archived: bool = False
    ) -> Kpi:
        """A KPI by id (what the app holds: a rename in between cannot redirect the write) or
        by the name someone typed."""
        if isinstance(ref, int):
            k = self.kpis.get(ref)
            if k is None or (k.archived and not archived):
                raise NotFound(f"KPI #{ref} is no longer on the board (archived or gone)")
            return k
        return self.kpi_named(ref, None if board is None else self.board_ref(board).name, archived)

    def goals_of(self, board_id: int | None, archived: bool = False) -> list[Goal]:
        """The board's goals (every board's when None), in the order they were added."""
        return sorted(
            (
                g
                for g in self.goals.values()
                if (board_id is None or g.board == board_id) and (archived or not g.archived)
            ),
            key=lambda g: g.id,
        )

    def goal_ref(
        self, ref: str | int, board: str | int | None = None, archived: bool = False
    ) -> Goal:
        """A goal by id, or by name (case-insensitive; the board may be left out when the name
        is unique)."""
        if isinstance(ref, int):
            g = self.goals.get(ref)
            if g is None or (g.archived and not archived):
                raise NotFound(f"goal #{ref} is gone (archived or removed)")
            return g
        want = ref.strip().casefold()
        pool = [g for g in self.goals.values() if g.name.casefold() == want]
        if not archived:
            pool = [g for g in pool if not g.archived]
        if board is not None:
            b = self.board_ref(board)
            pool = [g for g in pool if g.board == b.id]
        if not pool:
            where = f" on board {self.board_ref(board).name!r}" if board is not None else ""
            raise NotFound(f"no goal named {ref!r}{where}", Fix.SEE_GOALS)
        if len(pool) > 1:
            names = ", ".join(sorted(self.boards[g.board].name for g in pool))
            raise NotFound(f"goal {ref!r} is on several boards ({names})", Fix.NAME_BOARD)
        return pool[0]

    def action(self, action_id: int) -> Action:
        try:
            return self.actions[action_id]
        except KeyError:
            raise NotFound(f"no action #{action_id}", Fix.SEE_ACTIONS) from None

    # --- derived views -------------------------------------------------------------------

    def kpis_of(self, board_id: int | None, archived: bool = False) -> list[Kpi]:
        return [
            k
            for k in self.kpis.values()
            if (board_id is None or k.board == board_id) and (archived or not k.archived)
        ]

    def actions_of(self, board_id: int | None, open_only: bool = True) -> list[Action]:
        acts = [
            a
            for a in self.actions.values()
            if (board_id is None or a.board == board_id) and (a.open or not open_only)
        ]
        return sorted(acts, key=lambda a: (a.due or date.max, a.id))

    def views(
        self, board_id: int | None, today: date, now: datetime | None = None
    ) -> list[KpiView]:
        """Evaluate the board's KPIs (all boards when None), in the order they were added.

        A counter-metric on another board is evaluated too, so its flag is right. `now`
        (default: the end of `today`) decides lateness against each KPI's due time.
        """
        kpis = self.kpis_of(board_id)
        wanted = {k.id for k in kpis}
        extra = [
            self.kpis[k.counter]
            for k in kpis
            if k.counter is not None and k.counter not in wanted and k.counter in self.kpis
        ]
        names = {b.id: b.name for b in self.boards.values()}
        all_views = view_kpis(
            kpis + extra, self.entries, list(self.actions.values()), names, today,
            now=now, estimates_of=self.estimates, explanations_of=self.explanations,
        )  # fmt: skip
        return sorted((v for v in all_views if v.kpi.id in wanted), key=lambda v: v.kpi.id)

    def entries_by_id(self) -> dict[int, Entry]:
        """Every entry by its id: what the next reload may reuse."""
        return {e.id: e for lst in self.entries.values() for e in lst}

    def children(self, board_id: int) -> Iterable[Board]:
        return (b for b in self.boards.values() if b.parent == board_id)
