"""The KPI tree: boards → goals → KPIs across every tier, so "are we winning?" reads from the
plant down to the team. Status glyphs and words (never colour alone), goals over their limit
and goals with no leading indicator flagged. Enter on a board opens it; on a KPI, its detail.

The tree is rebuilt from `store.tiers.tree` after every load; the node under the cursor stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Label, Tree
from textual.widgets.tree import TreeNode

from store import tiers
from store.model import Board, Status
from store.present import status_text
from store.rules import KpiView
from store.tiers import GoalView
from store.tiers import TreeNode as BoardNode
from widgets.banner import Banner
from widgets.literal import literal, literal_text

from . import tier_lines

if TYPE_CHECKING:
    from .app import TeamboardApp

STATUS_STYLE = {
    Status.RED: "bold red",
    Status.AMBER: "bold yellow",
    Status.GREEN: "green",
    Status.STALE: "dim",
    Status.NO_DATA: "dim",
}


@dataclass(frozen=True)
class Ref:
    """What a node stands for: a board, a goal or a KPI, by id."""

    kind: str  # "board", "goal", "kpi"
    id: int


class TreeScreen(Screen[None]):
    CSS_PATH = "tree.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("t", "app.pop_screen", "Back", show=False),
        Binding("e", "expand_all", "Expand all"),
        Binding("c", "collapse", "Collapse"),
    ]

    app: TeamboardApp

    banner = getters.query_one(Banner)
    heading = getters.query_one("#tree-heading", Label)
    kpi_tree = getters.query_one("#kpi-tree", Tree)

    def compose(self) -> ComposeResult:
        yield Banner()
        yield Label(id="tree-heading")
        yield Tree[Ref](Text("KPI tree"), id="kpi-tree")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.kpi_tree.show_root = False
        self.kpi_tree.guide_depth = 3
        self.app.data_changed.subscribe(self, lambda _: self.refresh_tree())
        self.refresh_tree()
        self.kpi_tree.focus()

    def refresh_tree(self) -> None:
        app = self.app
        self.banner.message, self.banner.info = app.banner, app.banner_info
        snap = app.snapshot
        if snap is None or not snap.boards:
            self.heading.update(literal(app.empty_message()))
            self.kpi_tree.clear()
            return
        today = app.view_day()
        roots = tiers.tree(snap, None, today, app.moment())  # lateness as on the board
        self.heading.update(
            "Boards → goals → KPIs · enter opens a board or a KPI · e expands all · esc back"
        )
        cursor = self._ref_at_cursor()
        expanded = self._expanded()
        tree = self.kpi_tree
        tree.clear()
        for node in roots:
            self._add_board(tree.root, node, snap.boards, today, expanded)
        tree.root.expand()
        if cursor is not None:
            self._move_to(cursor)

    # --- building ----------------------------------------------------------------------------

    def _add_board(
        self,
        parent: TreeNode[Ref],
        node: BoardNode,
        boards: Mapping[int, Board],
        today: date,
        expanded: set[Ref] | None,
    ) -> None:
        """A board, its goals and their KPIs, its KPIs serving no goal, then its child boards.

        A loop, not recursion: a hand-made tree may be deep.
        """
        stack: list[tuple[TreeNode[Ref], BoardNode]] = [(parent, node)]
        while stack:
            into, current = stack.pop()
            summary = current.summary
            ref = Ref("board", current.board.id)
            label = literal_text(current.board.name, "bold")
            for status, part in tier_lines.ordered(summary.own):
                label.append("  ")
                label.append(part, STATUS_STYLE[status])
            label.append(literal_text("  ·  " + tier_lines.board_tail(summary, today)))
            open_ = expanded is None or ref in expanded
            board_node = into.add(label, ref, expand=open_)
            for g in current.goals:
                self._add_goal(board_node, g, boards, current.board.id, expanded)
            if not current.goals and not current.ungoaled:
                said = (
                    f"{tier_lines.plural(summary.kpis, 'KPI')}, each serving a goal above"
                    if summary.kpis
                    else "no KPIs yet"
                )
                board_node.add_leaf(Text(said, style="italic"))
            if current.ungoaled:
                loose = board_node.add(
                    Text("KPIs serving no goal", style="italic"),
                    Ref("goal", -current.board.id),
                    expand=expanded is None or Ref("goal", -current.board.id) in expanded,
                )
                for v in current.ungoaled:
                    self._add_kpi(loose, v, boards, current.board.id)
            for child in reversed(current.children):
                stack.append((board_node, child))

    def _add_goal(
        self,
        into: TreeNode[Ref],
        goal: GoalView,
        boards: Mapping[int, Board],
        home: int,
        expanded: set[Ref] | None,
    ) -> None:
        """A goal with its KPIs and its sub-goals on the same board; a sub-goal on a board below
        is one line here (enter goes to it), and in full under its own board."""
        snap = self.app.snapshot
        goals = snap.goals if snap is not None else {}
        stack: list[tuple[TreeNode[Ref], GoalView]] = [(into, goal)]
        while stack:
            parent, g = stack.pop()
            above = goals.get(g.goal.parent) if g.goal.parent is not None else None
            serves = ""
            if above is not None and above.board != g.goal.board and above.board in boards:
                serves = f"{above.name} ({boards[above.board].name})"
            text = literal_text(tier_lines.goal_line(g, boards, serves=serves))
            if g.no_leading or g.over_limit:
                text.stylize("bold")
            ref = Ref("goal", g.goal.id)
            node = parent.add(text, ref, expand=expanded is None or ref in expanded)
            for v in g.kpis:
                self._add_kpi(node, v, boards, home)
            for sub in g.subgoals:
                if sub.goal.board != g.goal.board:
                    where = boards[sub.goal.board].name if sub.goal.board in boards else "?"
                    line = "↳ " + tier_lines.goal_line(sub, boards, where=where)
                    node.add_leaf(literal_text(line, "italic"), Ref("goalref", sub.goal.id))
            stack.extend(
                (node, sub) for sub in reversed(g.subgoals) if sub.goal.board == g.goal.board
            )

    def _add_kpi(
        self, into: TreeNode[Ref], view: KpiView, boards: Mapping[int, Board], home: int
    ) -> None:
        label = self._status_label(view.status, tier_lines.kpi_line(view, boards, home))
        into.add_leaf(label, Ref("kpi", view.kpi.id))

    @staticmethod
    def _status_label(status: Status, line: str) -> Text:
        """The line literally, its leading glyph and word coloured (the word says it too)."""
        text = literal_text(line)
        word = status_text(status)
        if line.startswith(word):
            text.stylize(STATUS_STYLE[status], 0, len(word))
        return text

    # --- keeping the place across reloads ----------------------------------------------------

    def _ref_at_cursor(self) -> Ref | None:
        node = self.kpi_tree.cursor_node
        return node.data if node is not None else None

    def _expanded(self) -> set[Ref] | None:
        """The nodes open now; None the first time (then everything opens)."""
        if not self.kpi_tree.root.children:
            return None
        out: set[Ref] = set()
        stack = list(self.kpi_tree.root.children)
        while stack:
            node = stack.pop()
            if node.is_expanded and node.data is not None:
                out.add(node.data)
            stack.extend(node.children)
        return out

    def _move_to(self, ref: Ref) -> None:
        stack = list(reversed(self.kpi_tree.root.children))
        while stack:
            node = stack.pop()
            if node.data == ref:
                self.kpi_tree.move_cursor(node)
                return
            stack.extend(reversed(node.children))

    # --- keys --------------------------------------------------------------------------------

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[Ref]) -> None:
        ref = event.node.data
        if ref is None:
            return
        snap = self.app.snapshot
        if ref.kind == "board" and snap is not None and ref.id in snap.boards:
            event.stop()
            self.dismiss()
            self.app.show_board(ref.id)
        elif ref.kind == "goalref":
            event.stop()
            self._move_to(Ref("goal", ref.id))
        elif ref.kind == "kpi" and snap is not None and ref.id in snap.kpis:
            event.stop()
            kpi = snap.kpis[ref.id]
            self.dismiss()
            self.app.show_board(kpi.board)
            self.app.open_detail(kpi.id)

    def action_expand_all(self) -> None:
        self.kpi_tree.root.expand_all()

    def action_collapse(self) -> None:
        node = self.kpi_tree.cursor_node
        if node is not None and node.parent is not None and node.parent is not self.kpi_tree.root:
            self.kpi_tree.move_cursor(node.parent)
            node.parent.collapse()
        elif node is not None:
            node.collapse()
