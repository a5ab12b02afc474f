"""The tiers in the app: the roll-up tiles of a board with child boards, the KPI tree screen,
escalating an action and answering it from the board above (in the app, and with the writes
coming from other processes through the command line), and a leader's review.

A three-tier store of its own (plant → department → two teams), built for TODAY; every wait is
on what the screen shows, with a deadline.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import TODAY, make_app, screen_open, until
from textual.command import CommandList, CommandPalette
from textual.widgets import Input, Label, Tree

from store import Store, db, escalation, ops, tiers
from store.model import Action
from tui.app import TeamboardApp
from tui.board_screen import BoardScreen
from tui.commands import BoardCommands
from tui.forms import FormScreen
from tui.tier_forms import EscalateForm
from tui.tree_screen import TreeScreen
from widgets.action_table import ActionTable
from widgets.board_header import BoardHeader
from widgets.child_tile import ChildTile
from widgets.escalation_table import EscalationBox, EscalationTable

pytestmark = pytest.mark.anyio

TEAMBOARD = Path(sys.executable).with_name("teamboard")
YESTERDAY = TODAY - timedelta(days=1)
FIX = "Fix the press guard"  # Line 2's action on Yield


def three_tiers(path: Path) -> Store:
    """Plant → Assembly → Line 1 (all green), Line 2 (Scrap red with no action, Yield red with
    an action): a team losing under a department that looks fine."""
    store = Store(path)
    ops.init(store)
    ops.add_board(store, "Plant")
    ops.add_board(store, "Assembly", parent="Plant")
    ops.add_board(store, "Line 1", parent="Assembly")
    ops.add_board(store, "Line 2", parent="Assembly")
    for name, board, target, value in [
        ("OEE", "Plant", 80.0, 85.0),
        ("On-time", "Assembly", 95.0, 97.0),
        ("Output", "Line 1", 100.0, 120.0),
        ("Scrap", "Line 2", 90.0, 60.0),
        ("Yield", "Line 2", 98.0, 91.0),
    ]:
        ops.add_kpi(store, name, board, target)
        ops.record(store, name, value, day=YESTERDAY, today=TODAY, board=board)
    ops.add_action(store, FIX, board="Line 2", kpi="Yield", owner="dara",
                   due=TODAY + timedelta(days=3))
    return store


@pytest.fixture
def tiered(store_path: Path) -> Store:
    return three_tiers(store_path)


def board_id(store: Store, name: str) -> int:
    return store.read().board_named(name).id


def the_action(store: Store) -> Action:
    return next(a for a in store.read().actions.values() if a.title == FIX)


def label_text(widget: object) -> str:
    return " | ".join(str(label.render()) for label in widget.query(Label))  # type: ignore[attr-defined]


def child_tiles(app: TeamboardApp) -> list[ChildTile]:
    return list(app.screen.query(ChildTile))


def children_drawn(app: TeamboardApp, n: int) -> bool:
    """`n` child tiles, each showing its board's name."""
    shown = child_tiles(app)
    return len(shown) == n and all(
        t.card is not None and t.card.name in label_text(t) for t in shown
    )


def escalation_text(app: TeamboardApp) -> str:
    """Everything the board's escalation list says, row by row."""
    box = app.screen.query_one(EscalationBox)
    if not box.has_class("-shown"):
        return ""
    table = box.query_one(EscalationTable)
    rows = [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
    return box.title + "\n" + "\n".join(rows)


async def on_board(pilot: object, app: TeamboardApp, name: str) -> None:
    """Wait until the board called `name` is drawn (its header says so)."""

    def shown() -> bool:
        header = app.screen.query(BoardHeader)
        return bool(
            isinstance(app.screen, BoardScreen)
            and app.settled()
            and header
            and header.first().data is not None
            and app.board_title().endswith(name)
            and name in str(header.first().title_label.render())
        )

    await until(pilot, shown, 10, f"the board {name}")  # type: ignore[arg-type]


async def fill(pilot: object, app: TeamboardApp, key: str, text: str) -> None:
    """Type `text` into the open form's field `key` and save it."""
    form = app.screen
    assert isinstance(form, FormScreen)
    form.query_one(f"#field-{key}", Input).focus()
    await pilot.press(*text)  # type: ignore[attr-defined]
    await until(pilot, lambda: form.valid, what="a valid form")  # type: ignore[arg-type]
    await pilot.click("#save")  # type: ignore[attr-defined]
    await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the form closed")  # type: ignore[arg-type]


def select_action(app: TeamboardApp, action_id: int) -> None:
    table = app.screen.query_one(ActionTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(str(action_id)))


# --- the roll-up ---------------------------------------------------------------------------------


async def test_a_board_with_child_boards_shows_a_tile_per_child(tiered: Store) -> None:
    app = make_app(tiered.path, board="Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await on_board(pilot, app, "Assembly")
        await until(pilot, lambda: children_drawn(app, 2), 10, "two child tiles")
        line1, line2 = child_tiles(app)
        text1, text2 = label_text(line1), label_text(line2)
        assert "Line 1" in text1 and "✔ 1 green" in text1 and "✖ 0 red" in text1
        assert "✔ green" in text1  # the tile's verdict, in words
        assert "Line 2" in text2 and "✖ 2 red" in text2 and "✖ red" in text2
        assert "⚑ 1 red, no action" in text2  # Scrap
        assert "⚑ review overdue (never reviewed)" in text2
        assert "no huddle yet" in text2 and "health: 0 huddles in 14 d" in text2
        assert line2.has_class("-red") and line1.has_class("-green")
        # The department's own KPI stays on its own tile beside them.
        assert [t.view.kpi.name for t in app.screen.query("KpiTile") if t.view] == ["On-time"]  # type: ignore[attr-defined]


async def test_the_plant_sees_the_losing_team_below_a_fine_department(tiered: Store) -> None:
    app = make_app(tiered.path, board="Plant")
    async with app.run_test(size=(120, 40)) as pilot:
        await on_board(pilot, app, "Plant")
        await until(pilot, lambda: children_drawn(app, 1), 10, "the department's tile")
        text = label_text(child_tiles(app)[0])
        assert "Assembly" in text and "✔ 1 green" in text and "✖ 0 red" in text
        assert "✖ 2 red below: Line 2" in text  # the losing team, under a green department
        assert child_tiles(app)[0].has_class("-red")


async def test_enter_and_a_click_open_the_child_board(tiered: Store) -> None:
    app = make_app(tiered.path, board="Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await on_board(pilot, app, "Assembly")
        await until(pilot, lambda: children_drawn(app, 2), 10, "two child tiles")
        child_tiles(app)[1].focus()
        await pilot.press("enter")
        await on_board(pilot, app, "Line 2")
        assert app.board_id == board_id(tiered, "Line 2")
        assert not child_tiles(app)  # a team board has none
        app.show_board(board_id(tiered, "Assembly"))
        await until(pilot, lambda: children_drawn(app, 2), 10, "two child tiles again")
        await pilot.click(f"#child-{board_id(tiered, 'Line 1')}")
        await on_board(pilot, app, "Line 1")


async def test_a_reload_keeps_the_focus_on_a_child_tile(demo_store: Store) -> None:
    """A teammate's write reloads the board: the child tile someone chose stays focused."""
    app = make_app(demo_store.path, board="Assembly")
    async with app.run_test(size=(160, 50)) as pilot:
        await on_board(pilot, app, "Assembly")
        await until(pilot, lambda: children_drawn(app, 2), 10, "two child tiles")
        chosen = child_tiles(app)[1]
        chosen.focus()
        await pilot.pause()
        before = app.reloads
        ops.record(demo_store, "Schedule attainment", 90.0, TODAY, TODAY, board="Assembly")
        app.request_reload()
        await until(pilot, lambda: app.reloads > before and app.settled(), 10, "the reload")
        await pilot.pause()
        assert app.focused is chosen


async def test_the_rollup_follows_a_write_by_another_process(tiered: Store) -> None:
    app = make_app(tiered.path, board="Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await on_board(pilot, app, "Assembly")
        await until(pilot, lambda: children_drawn(app, 2), 10, "two child tiles")
        await run(str(TEAMBOARD), "--store", str(tiered.path), "record", "Scrap", "95",
                  "--board", "Line 2", "--date", YESTERDAY.isoformat())
        await until(pilot, lambda: "✖ 1 red" in label_text(child_tiles(app)[1]), 10,
                    "Line 2's tile with one red")
        assert "red, no action" not in label_text(child_tiles(app)[1])


# --- the KPI tree --------------------------------------------------------------------------------


def tree_lines(app: TeamboardApp) -> list[str]:
    tree = app.screen.query_one("#kpi-tree", Tree)
    out: list[str] = []
    stack = list(reversed(tree.root.children))
    while stack:
        node = stack.pop()
        out.append(str(node.label))
        stack.extend(reversed(node.children))
    return out


async def test_t_opens_the_tree_and_enter_opens_a_board(tiered: Store) -> None:
    ops.add_kpi(tiered, "Rework", "Line 2", 5.0, goal="Quality")
    ops.add_kpi(tiered, "Defects", "Line 2", 5.0, goal="Quality")
    ops.add_kpi(tiered, "Returns", "Line 2", 5.0, goal="Quality", force=True)
    app = make_app(tiered.path, board="Plant")
    async with app.run_test(size=(120, 40)) as pilot:
        await on_board(pilot, app, "Plant")
        await pilot.press("t")
        await until(pilot, lambda: screen_open(app.screen, TreeScreen) and tree_lines(app), 10,
                    "the tree")
        lines = tree_lines(app)
        assert lines[0].startswith("Plant") and "✔ 1 green" in lines[0]
        assert any(line.startswith("Line 2") and "✖ 2 red" in line for line in lines)
        assert any(line.startswith("✖ red  Scrap") for line in lines)
        quality = next(line for line in lines if line.startswith("◎ Quality"))
        assert "⚑ no leading indicator" in quality
        assert "3/2 over the limit" in quality
        order = [line.split()[0] for line in lines if line.split()[0] in
                 ("Plant", "Assembly", "Line")]
        assert order == ["Plant", "Assembly", "Line", "Line"]
        tree = app.screen.query_one("#kpi-tree", Tree)
        line2 = next(n for n in tree.root.children[0].children[-1].children
                     if str(n.label).startswith("Line 2"))
        tree.move_cursor(line2)
        await pilot.press("enter")
        await on_board(pilot, app, "Line 2")


async def test_the_palette_offers_the_tree(tiered: Store) -> None:
    app = make_app(tiered.path, board="Plant")
    async with app.run_test(size=(120, 40)) as pilot:
        await on_board(pilot, app, "Plant")
        hits = [hit async for hit in BoardCommands(app.screen).search("KPI tree")]
        assert hits and str(hits[0].text) == "KPI tree"
        await pilot.press("ctrl+p")
        await until(pilot, lambda: screen_open(app.screen, CommandPalette), 5, "the palette")
        await pilot.press(*"KPI tree")

        def prompts() -> list[str]:
            options = app.screen.query_one(CommandList)
            return [str(options.get_option_at_index(i).prompt)
                    for i in range(options.option_count)]

        await until(pilot, lambda: any(p.startswith("KPI tree") for p in prompts()), 5, "the hit")
        app.screen.query_one(CommandList).highlighted = next(
            i for i, p in enumerate(prompts()) if p.startswith("KPI tree"))
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, TreeScreen), 10, "the tree")


# --- escalation ----------------------------------------------------------------------------------


async def test_escalation_round_trip_in_the_app(tiered: Store) -> None:
    action = the_action(tiered)
    app = make_app(tiered.path, board="Line 2")
    async with app.run_test(size=(120, 40)) as pilot:
        await on_board(pilot, app, "Line 2")
        await until(pilot, lambda: str(action.id) in app.screen.query_one(ActionTable).rows, 10,
                    "the action in the table")
        select_action(app, action.id)
        await pilot.press("E")
        await until(pilot, lambda: screen_open(app.screen, EscalateForm), what="the escalate form")
        await fill(pilot, app, "why", "needs a new guard from maintenance")
        # The team's board: escalated, waiting, and for how long.
        # The table fills again once it has its width (before, "where" is cut to a few cells).
        await until(pilot, lambda: "escalated to Assembly, waiting today" in escalation_text(app),
                    10, "the escalation")
        text = escalation_text(app)
        assert "⇡ waiting" in text
        assert "needs a new guard" in text
        esc = the_action(tiered).escalation
        assert esc is not None and esc.to == board_id(tiered, "Assembly") and esc.waiting
        assert esc.who == db.whoami()
        # The department's board lists it first, and answers it.
        app.show_board(board_id(tiered, "Assembly"))
        await on_board(pilot, app, "Assembly")
        await until(pilot, lambda: "from Line 2, today" in escalation_text(app), 10,
                    "the escalation at the department")
        assert "⇣ to answer" in escalation_text(app)
        body = app.screen.query_one("#body")
        assert body.children.index(app.screen.query_one(EscalationBox)) < body.children.index(
            app.screen.query_one("#tiles"))
        await pilot.press("y")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the answer form")
        await fill(pilot, app, "note", "guard ordered, fitted Monday")
        await until(pilot, lambda: not escalation_text(app), 10, "nothing left to answer")
        answered = the_action(tiered).escalation
        assert answered is not None and answered.answer == "guard ordered, fitted Monday"
        # Back on the team's board, the answer shows.
        app.show_board(board_id(tiered, "Line 2"))
        await on_board(pilot, app, "Line 2")
        await until(pilot, lambda: "guard ordered, fitted Monday" in escalation_text(app), 10,
                    "the answer on the team's board")
        assert "↩ answered" in escalation_text(app)


async def test_take_over_moves_the_action_to_the_board_above(tiered: Store) -> None:
    action = the_action(tiered)
    escalation.escalate(tiered, action.id, "too big for the line")
    app = make_app(tiered.path, board="Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await on_board(pilot, app, "Assembly")
        await until(pilot, lambda: "from Line 2" in escalation_text(app), 10, "the escalation")
        await pilot.press("o")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the take-over form")
        await pilot.click("#save")
        table = app.screen.query_one(ActionTable)
        await until(pilot, lambda: str(action.id) in table.rows, 10,
                    "the action on the department's list")
        assert the_action(tiered).board == board_id(tiered, "Assembly")


async def test_escalate_refuses_where_there_is_no_board_above(tiered: Store) -> None:
    ops.add_action(tiered, "Plant-wide 5S audit", board="Plant")
    app = make_app(tiered.path, board="Plant")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await on_board(pilot, app, "Plant")
        table = app.screen.query_one(ActionTable)
        await until(pilot, lambda: table.row_count == 1, 10, "the plant's action")
        table.focus()
        await pilot.press("E")
        await until(pilot, lambda: any("no board above" in n.message
                                       for n in app._notifications), 5, "the notice")
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("y")
        await until(pilot, lambda: any("No escalation waiting" in n.message
                                       for n in app._notifications), 5, "the notice")


async def run(*argv: str) -> None:
    """A process of its own, run to its end while the app's loop keeps running."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, (argv, out, err)


async def test_escalation_round_trip_written_by_other_processes(tiered: Store) -> None:
    """Two boards open (the team's and the department's), every write from the CLI."""
    action = the_action(tiered)
    store = str(tiered.path)
    team, dept = make_app(tiered.path, board="Line 2"), make_app(tiered.path, board="Assembly")
    async with team.run_test(size=(120, 40)) as tp, dept.run_test(size=(120, 40)) as dp:
        await on_board(tp, team, "Line 2")
        await on_board(dp, dept, "Assembly")
        await run(str(TEAMBOARD), "--store", store, "action", "escalate", str(action.id),
                  "--why", "needs maintenance")
        await until(tp, lambda: "escalated to Assembly, waiting" in escalation_text(team), 10,
                    "waiting on the team's board")
        await until(dp, lambda: "from Line 2, today" in escalation_text(dept), 10,
                    "the escalation on the department's board")
        await run(str(TEAMBOARD), "--store", store, "action", "answer", str(action.id),
                  "--note", "maintenance comes at 14:00")
        await until(tp, lambda: "maintenance comes at 14:00" in escalation_text(team), 10,
                    "the answer on the team's board")
        await until(dp, lambda: not escalation_text(dept), 10, "the department's list empty")
        # A leader's review from a shell shows in the team's header, and on the roll-up above.
        await run(str(TEAMBOARD), "--store", store, "review", "Line 2", "--note", "why scrap?")
        header = team.screen.query_one(BoardHeader)
        await until(tp, lambda: "last review today" in label_text(header), 10,
                    "the review in the team's header")
        await until(dp, lambda: "review overdue" not in label_text(child_tiles(dept)[1]), 10,
                    "the department's tile no longer flagging the review")


async def test_u_in_the_huddle_escalates_the_selected_action(tiered: Store) -> None:
    from tui.huddle_screen import HuddleScreen

    action = the_action(tiered)
    app = make_app(tiered.path, board="Line 2", huddle=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: screen_open(app.screen, HuddleScreen)
                    and app.screen.item is not None, 10, "the huddle")
        screen = app.screen
        assert isinstance(screen, HuddleScreen)
        while screen.item is not None and screen.item.name != "Yield":
            await pilot.press("S")
        await until(pilot, lambda: screen.actions.selected_id == action.id, 5, "the action")
        await pilot.press("E")
        await until(pilot, lambda: screen_open(app.screen, EscalateForm), what="the form")
        form = app.screen
        form.query_one("#field-why", Input).focus()
        await pilot.press(*"the line cannot fix it")
        await pilot.click("#save")
        await until(pilot, lambda: (the_action(tiered).escalation or None) is not None, 10,
                    "the escalation in the file")
        assert isinstance(app.screen, HuddleScreen)


# --- the leader's review -------------------------------------------------------------------------


async def test_v_records_a_review_and_the_header_shows_it(tiered: Store) -> None:
    app = make_app(tiered.path, board="Line 2")
    async with app.run_test(size=(120, 40)) as pilot:
        await on_board(pilot, app, "Line 2")
        header = app.screen.query_one(BoardHeader)
        assert "never reviewed" in label_text(header)
        await pilot.press("v")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the review form")
        assert "2 red KPIs" in label_text(app.screen)
        await fill(pilot, app, "note", "why is scrap up since Monday?")
        await until(pilot, lambda: f"last review today · {db.whoami()}" in label_text(header), 10,
                    "the review in the header")
        snap = tiered.read()
        (review,) = snap.reviews
        assert review.note == "why is scrap up since Monday?"
        assert review.board == board_id(tiered, "Line 2")
        assert sorted(snap.kpis[k].name for k in review.reds) == ["Scrap", "Yield"]
        assert not tiers.review_overdue(snap, review.board, TODAY)
