"""The board driven through Textual's pilot: tiles, boards, keys, forms, writes, empty states, wall.

The clock is frozen (the demo is built for TODAY); every wait is on a condition with a deadline.
"""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stderr
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import TODAY, loaded, make_app, screen_open, tile_named, tile_text, tiles, until
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from store import Store, ops
from store.model import Stage
from store.present import STATUS_GLYPH, STATUS_WORD
from tui import cli
from tui.app import TeamboardApp
from tui.board_screen import BoardScreen
from tui.detail_screen import DetailScreen
from tui.forms import ActionForm, FormScreen
from widgets.action_table import ActionTable
from widgets.trend_chart import TrendChart

pytestmark = pytest.mark.anyio


# --- the board --------------------------------------------------------------------------------


async def test_a_tile_per_kpi_with_glyph_and_word(demo_store: Store) -> None:
    app = make_app(demo_store.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        snap = demo_store.read()
        board = snap.default_board()
        assert app.board_id == board.id
        views = snap.views(board.id, TODAY)
        assert [t.view.kpi.name for t in tiles(app) if t.view] == [v.kpi.name for v in views]
        for view in views:
            text = tile_text(tile_named(app, view.kpi.name))
            assert view.kpi.name in text
            assert f"{STATUS_GLYPH[view.status]} {STATUS_WORD[view.status]}" in text
        # The demo's Operations board: every tile says its status in words too.
        statuses = {v.kpi.name: v.status.value for v in views}
        assert statuses == {"On-time delivery": "amber", "Customer complaints": "green",
                            "Near misses reported": "no-data"}


async def test_b_switches_boards(demo_store: Store) -> None:
    """The demo's tree, depth first: Operations, Assembly, Line 2 Assembly, Line 3 Assembly."""
    app = make_app(demo_store.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        first = app.board_id
        order = app.boards_in_order()
        assert len(order) == 4 and order[0] == first
        await pilot.press("b")
        await until(pilot, lambda: app.board_id == order[1], what="the next board")
        await pilot.press("b")
        await until(pilot, lambda: app.board_id == order[2], what="the team's board")
        await until(pilot, lambda: "Units per hour" in [t.view.kpi.name for t in tiles(app)
                                                         if t.view], 10, "Line 2's tiles")
        assert "Line 2 Assembly" in app.board_title()
        assert len(tiles(app)) == 5
        await pilot.press("b", "b")
        await until(pilot, lambda: app.board_id == first, 10, "back to the first board")


async def test_arrow_keys_move_between_tiles(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        ts = tiles(app)
        ts[0].focus()
        await pilot.pause()
        await pilot.press("right")
        assert app.focused is ts[1]
        await pilot.press("left")
        assert app.focused is ts[0]
        cols = int(app.screen.query_one("#tiles").styles.grid_size_columns or 1)
        assert 1 < cols < len(ts)  # 5 tiles at 120 columns: more than one row
        await pilot.press("down")
        assert app.focused is ts[cols]
        await pilot.press("up")
        assert app.focused is ts[0]


async def test_enter_opens_the_detail_and_escape_returns(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        tile_named(app, "Daily output").focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, DetailScreen), what="the detail")
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        await pilot.pause()
        snap = demo_store.read()
        kpi = snap.kpi_named("Daily output")
        chart = screen.query_one(TrendChart).data
        assert chart is not None and chart.kpi == kpi
        title = str(screen.query_one("#summary .title", Label).render())
        assert "Daily output" in title and "green" in title
        table = screen.query_one("#entries", DataTable)
        assert table.row_count == len(snap.entries[kpi.id])
        cells = [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        superseded = [c for c in cells if "(superseded)" in c]
        assert len(superseded) == 1  # the demo's first count three days ago
        assert (TODAY - timedelta(days=3)).isoformat() in superseded[0]
        actions = screen.query_one("#kpi-actions", ActionTable)
        assert actions.row_count == len([a for a in snap.actions.values() if a.kpi == kpi.id])
        await pilot.press("escape")
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the board")


# --- writing from the board --------------------------------------------------------------------


def cli_error(path: Path, *args: str) -> str:
    """What the command line says on stderr for `args` (without the `teamboard: ` prefix)."""
    err = io.StringIO()
    with redirect_stderr(err):
        code = cli.main(["--store", str(path), *args], today=TODAY)
    assert code != 0
    return err.getvalue().strip().removeprefix("teamboard: ")


async def test_record_form_validates_like_the_cli_and_saves(demo_store: Store) -> None:
    app = make_app(demo_store.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        tile_named(app, "On-time delivery").focus()
        await pilot.press("r")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the record form")
        form = app.screen
        value = form.query_one("#field-value", Input)
        save = form.query_one("#save", Button)
        assert save.disabled  # empty value
        value.focus()
        await pilot.press(*"abc")
        await pilot.pause()
        error = str(form.query_one("#error-value", Label).render())
        assert "is not a number" in error
        assert error == cli_error(demo_store.path, "record", "On-time delivery", "abc")
        assert save.disabled
        await pilot.press("backspace", "backspace", "backspace", *"97.5")
        await until(pilot, lambda: not save.disabled, what="Save enabled")
        await pilot.click("#save")
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the form closed")

        def saved() -> bool:
            snap = Store(demo_store.path).read()
            kpi = snap.kpi_named("On-time delivery")
            return any(e.value == 97.5 and e.day == TODAY for e in snap.entries[kpi.id])

        await until(pilot, saved, what="97.5 in the file")
        await until(pilot, lambda: "97.5" in tile_text(tile_named(app, "On-time delivery")),
                    what="the tile showing 97.5")
        assert "✔ green" in tile_text(tile_named(app, "On-time delivery"))


async def test_add_move_and_finish_an_action(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        tile_named(app, "First-pass yield").focus()
        await pilot.press("a")
        await until(pilot, lambda: screen_open(app.screen, ActionForm), what="the action form")
        form = app.screen
        assert form.query_one("#field-owner", Input).value == "chen"  # the KPI's owner
        due = (TODAY + timedelta(days=7)).isoformat()
        assert form.query_one("#field-due", Input).value == due
        form.query_one("#field-title", Input).focus()
        await pilot.press(*"Quarantine the connector lot")
        await pilot.press("enter")  # submits: every field is valid
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the form closed")

        def added() -> int | None:
            snap = Store(demo_store.path).read()
            for a in snap.actions.values():
                if a.title == "Quarantine the connector lot":
                    assert a.owner == "chen" and a.due == TODAY + timedelta(days=7)
                    assert a.kpi == snap.kpi_named("First-pass yield").id
                    assert a.stage is Stage.PLAN
                    return a.id
            return None

        await until(pilot, lambda: added() is not None, what="the action in the file")
        new_id = added()
        assert new_id is not None
        table = app.screen.query_one(ActionTable)
        await until(pilot, lambda: str(new_id) in table.rows, what="the action in the table")
        table.move_cursor(row=table.get_row_index(str(new_id)))
        await pilot.pause()
        assert table.selected_id == new_id

        def stage() -> Stage:
            return Store(demo_store.path).read().actions[new_id].stage

        await pilot.press("m")
        await until(pilot, lambda: stage() is Stage.DO, what="the action moved to do")
        await until(pilot, lambda: app.snapshot is not None
                    and app.snapshot.actions[new_id].stage is Stage.DO, what="the app reloaded")
        assert table.selected_id == new_id  # the cursor stays on the action across reloads
        await pilot.press("d")
        await until(pilot, lambda: stage() is Stage.DONE, what="the action done")
        await until(pilot, lambda: str(new_id) not in table.rows, what="done leaves the list")


async def test_markup_renders_literally(store_path: Path) -> None:
    store = Store(store_path)
    ops.init(store)
    ops.add_board(store, "[red]Board[/red]")
    ops.add_kpi(store, "[b]x[/b]", None, 10.0, unit="[i]u")
    ops.record(store, "[b]x[/b]", 12.0, TODAY, TODAY, note="see [link=x]here[/link] [b]")
    app = make_app(store_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app, 1)
        tile = tiles(app)[0]
        assert str(tile.query_one(".name", Label).render()) == "[b]x[/b]"
        assert str(tile.value_label.render()).endswith(" [i]u")
        assert "[red]Board[/red]" in app.board_title()
        assert "[b]x[/b]" in app.export_screenshot()
        tile.focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, DetailScreen), what="the detail")
        await pilot.pause()
        table = app.screen.query_one("#entries", DataTable)
        assert table.row_count == 1
        shot = app.export_screenshot()  # renders without crashing
        assert "[b]x[/b]" in shot
        assert table.get_row_at(0)[3].plain == "see [link=x]here[/link] [b]"


async def test_an_escape_in_a_note_is_shown_not_obeyed(store_path: Path) -> None:
    store = Store(store_path)
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "Output", None, 10.0)
    # `teamboard record --note` accepts control characters (validate.text keeps them).
    ops.record(store, "Output", 12.0, TODAY, TODAY, note="oops \x1b[31mred")
    app = make_app(store_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app, 1)
        tiles(app)[0].focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, DetailScreen), what="the detail")
        await pilot.pause()
        shot = app.export_screenshot()
        assert "oops" in shot
        assert "\x1b" not in shot  # an ESC on screen is obeyed by the terminal
        assert "oops&#160;␛[" in shot  # shown as a symbol (the column may clip the rest)


# --- empty states ------------------------------------------------------------------------------


def empty_text(app: TeamboardApp) -> str:
    empty = app.screen.query_one("#empty", Static)
    return str(empty.render()) if empty.display else ""


async def test_missing_store_says_how_to_create_it_then_fills_in(store_path: Path) -> None:
    app = make_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.reloads >= 1, what="the first load")
        await until(pilot, lambda: "init --demo" in empty_text(app), what="the how-to")
        text = empty_text(app)
        assert f"No store at {store_path}" in text
        assert app.screen.query_one("#banner").has_class("-shown") is False
        subprocess.run(
            [sys.executable, "-m", "tui.cli", "--store", str(store_path), "init", "--demo"],
            check=True, capture_output=True, timeout=60,
        )
        await until(pilot, lambda: len(tiles(app)) == 3, timeout=10, what="the demo's tiles")
        assert not app.screen.query_one("#empty", Static).display


async def test_store_without_a_board_says_how_to_add_one(store_path: Path) -> None:
    ops.init(Store(store_path))
    app = make_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "has no board yet" in empty_text(app), what="the how-to")
        assert "board add NAME" in empty_text(app)
        assert not tiles(app)
        ops.add_board(Store(store_path), "Line")
        await until(pilot, lambda: "has no KPIs yet" in empty_text(app), what="the KPI how-to")
        assert "kpi add NAME --board 'Line'" in empty_text(app)


# --- wall mode ---------------------------------------------------------------------------------


async def test_wall_has_no_footer_and_rotates(demo_store: Store) -> None:
    # Four boards in the demo, each drawn large: a second each, so a loaded machine keeps up.
    app = make_app(demo_store.path, wall=True, rotate=1.0)
    async with app.run_test(size=(240, 67)) as pilot:
        await loaded(pilot, app)
        assert not app.screen.query(Footer)
        first = app.board_id
        await until(pilot, lambda: app.board_id != first, 10, "the board to rotate")
        await until(pilot, lambda: "Units per hour" in [t.view.kpi.name for t in tiles(app)
                                                         if t.view], 20, "Line 2's tiles")
        await until(pilot, lambda: app.board_id == first, 20, "the rotation to come back")


async def test_the_walls_columns_follow_the_grids_size_not_only_the_screens(
    demo_store: Store,
) -> None:
    """The wall chooses its columns for the grid's size, which changes without the screen's
    when the parts around it grow (the actions, the escalations, the child boards appearing
    after the first paint). A shorter grid: three tiles go side by side, each in a smaller
    form; a taller one again: back to two columns."""
    app = make_app(demo_store.path, wall=True)
    async with app.run_test(size=(240, 67)) as pilot:
        await loaded(pilot, app)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        grid = screen.grid

        def columns() -> int:
            return int(grid.styles.grid_size_columns or 1)

        await until(pilot, lambda: grid.size.height > 40 and columns() == 2, what="2 columns")
        grid.styles.height = 20
        await until(pilot, lambda: grid.size.height == 20 and columns() == 3, what="3 columns")
        assert all(t.plan.fits for t in tiles(app))  # type: ignore[attr-defined]
        grid.styles.height = "1fr"
        await until(pilot, lambda: grid.size.height > 40 and columns() == 2, what="2 again")


async def test_the_forms_write_by_id_when_a_teammate_renames_the_kpi(demo_store: Store) -> None:
    """Between opening a form and saving it, someone renames the KPI and gives its old name to
    another one: the value still lands on the KPI the form was opened for."""
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        original = Store(demo_store.path).read().kpi_named("Scrap cost")
        tile_named(app, "Scrap cost").focus()
        await pilot.press("r")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the record form")
        ops.edit_kpi(demo_store, "Scrap cost", name="Scrap")
        ops.edit_kpi(demo_store, "Changeover time", name="Scrap cost")
        form = app.screen
        form.query_one("#field-value", Input).value = "444"
        save = form.query_one("#save", Button)
        await until(pilot, lambda: not save.disabled, what="Save enabled")
        await pilot.click("#save")
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the form closed")

        def landed() -> bool:
            snap = Store(demo_store.path).read()
            return any(e.value == 444 for e in snap.entries[original.id])

        await until(pilot, landed, what="444 on the renamed KPI")
        snap = Store(demo_store.path).read()
        assert all(e.value != 444 for e in snap.entries[snap.kpi_named("Scrap cost").id])


async def test_the_detail_shows_the_kpis_changes_and_follows_new_ones(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot, app)
        tile_named(app, "Changeover time").focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, DetailScreen), what="the detail")
        table = app.screen.query_one("#changes", DataTable)

        def rows() -> list[str]:
            return [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]

        await until(pilot, lambda: table.row_count > 0, what="the changes")
        assert any("moved action #3 from check to act" in r for r in rows())
        assert any("added KPI Changeover time" in r for r in rows())
        ops.edit_kpi(demo_store, "Changeover time", amber=32.0)  # a teammate, elsewhere
        await until(
            pilot,
            lambda: any("changed the amber of KPI Changeover time from 30 to 32" in r
                        for r in rows()),
            what="the edit in the changes",
        )
        assert "changed the amber" in rows()[0]  # newest first
