"""A reload redraws only what changed (widgets/redraw.py): after every kind of write the board
must show exactly what a board started afresh on the same store shows, so a label left alone,
or updated without a layout pass, can never leave stale text or a stale size on screen."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from conftest import TODAY, loaded, make_app, tile_named, tile_text, tiles, until
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Footer, Label, Static

from store import Store, ops
from store.model import Direction
from tui.app import TeamboardApp
from widgets.kpi_tile import KpiTile
from widgets.literal import literal
from widgets.redraw import keeps_size, show
from widgets.wall_tile import WallTile

pytestmark = pytest.mark.anyio


def line_store(path: Path) -> Store:
    """Board Line: Output (up, target 100, amber 90), Scrap (down, target 2), Safety, each
    with a value today; Output green."""
    store = Store(path)
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "Output", "Line", 100.0, unit="units", amber=90.0)
    ops.add_kpi(store, "Scrap", "Line", 2.0, direction=Direction.DOWN, unit="%")
    ops.add_kpi(store, "Safety", "Line", 0.0, direction=Direction.DOWN)
    for kpi, value in (("Output", 120.0), ("Scrap", 1.5), ("Safety", 0.0)):
        ops.record(store, kpi, value, TODAY, TODAY)
    return store


async def fresh_svg(path: Path, size: tuple[int, int]) -> str:
    app = make_app(path)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app)
        await pilot.pause()
        app.screen.set_focus(None)
        return await steady_svg(pilot, app)


async def steady_svg(pilot: Pilot[int], app: App[int]) -> str:
    """The screenshot once the footer shows its keys and two in a row agree: the footer
    recomposes after a focus change, a pause or more later on a busy machine."""
    last = None
    for _ in range(100):
        await pilot.pause()
        svg = app.export_screenshot()
        if svg == last and app.screen.query_one(Footer).children:
            return svg
        last = svg
    raise AssertionError("the screen kept changing")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_after_each_kind_of_write_the_board_is_as_drawn_afresh(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """Value, status (green → red → green), an action, a tile added and one removed: the live
    board, updated in place, equals a board started on a copy of the store at that moment."""
    store = line_store(tmp_path / "team.json")
    steps = [
        ("value", lambda: ops.record(store, "Output", 121.0, TODAY, TODAY),
         lambda app: "121" in tile_text(tile_named(app, "Output"))),
        ("red", lambda: ops.record(store, "Output", 50.0, TODAY, TODAY),
         lambda app: "red" in tile_text(tile_named(app, "Output"))),
        ("green", lambda: ops.record(store, "Output", 1000.0, TODAY, TODAY),
         lambda app: "green" in tile_text(tile_named(app, "Output"))),
        ("action", lambda: ops.add_action(store, "Fix the feeder", board="Line", kpi="Output",
                                          owner="ana"),
         lambda app: "1 action" in tile_text(tile_named(app, "Output"))),
        ("tile added", lambda: ops.add_kpi(store, "Uptime", "Line", 95.0, unit="%"),
         lambda app: len(tiles(app)) == 4 and all(t.children for t in tiles(app))),
        ("tile removed", lambda: ops.archive_kpi(store, "Scrap", "Line"),
         lambda app: len(tiles(app)) == 3),
    ]
    live: dict[str, str] = {}
    app = make_app(store.path)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app)
        for name, write, shown in steps:
            reloads = app.reloads
            await asyncio.to_thread(write)
            await until(pilot, lambda s=shown, r=reloads: app.reloads > r and s(app),  # type: ignore[misc]
                        timeout=15, what=name)
            await until(pilot, app.settled, what=f"{name}: settled")
            await pilot.pause()
            app.screen.set_focus(None)
            live[name] = await steady_svg(pilot, app)
            shutil.copy(store.path, tmp_path / f"{name}.json")
    for name, _, _ in steps:
        assert live[name] == await fresh_svg(tmp_path / f"{name}.json", size), name


class OneLabel(App[None]):
    def compose(self) -> ComposeResult:
        yield Label("1,000", id="auto")
        yield Label("wide", id="wide", classes="fill")
        yield Label(id="fixed")
        yield Static(id="filled")
        with Horizontal(id="hidden"):
            yield Label("1,000", id="inside")

    CSS = """#wide { width: 1fr; } #fixed { width: 1fr; height: 1; } #filled { height: 1; }
    #hidden { display: none; height: 1; }"""


async def test_show_lays_out_only_when_the_size_may_change() -> None:
    """A label keeps its size for text of the same width and follows a new width; the text
    shown is always the new one."""
    app = OneLabel()
    async with app.run_test(size=(40, 5)) as pilot:
        auto, wide = app.query_one("#auto", Label), app.query_one("#wide", Label)
        await pilot.pause()
        assert auto.size.width == 5
        assert show(auto, "1,001")
        assert not show(auto, "1,001")  # the same text: nothing to do
        await pilot.pause()
        assert (str(auto.render()), auto.size.width) == ("1,001", 5)
        assert show(auto, literal("12,345"))
        await pilot.pause()
        assert (str(auto.render()), auto.size.width) == ("12,345", 6)
        assert show(auto, literal("2 lines\nnow"))
        await pilot.pause()
        assert auto.size.height == 2
        assert show(wide, literal("x" * 60))  # wraps in its 40 columns: taller
        await pilot.pause()
        assert wide.size.height == 2
        assert show(wide, literal("short"))
        await pilot.pause()
        assert (str(wide.render()), wide.size.height) == ("short", 1)
        # A box the stylesheet sizes (a tile's row) keeps its size, empty or not: no layout.
        fixed = app.query_one("#fixed", Label)
        assert fixed.size == (40, 1)
        assert keeps_size(fixed, Content(""), Content("⚑ red, no action"))
        assert keeps_size(fixed, Content("⚑ red"), Content("x" * 60 + "\nmore"))
        assert not keeps_size(auto, Content(""), Content("1"))  # 0 columns wide, then 1
        filled = app.query_one("#filled", Static)  # no width: its container's
        assert keeps_size(filled, Content(""), Content("⚑ red"))
        assert show(fixed, literal("⚑ red, no action"))
        await pilot.pause()
        assert (str(fixed.render()), fixed.size) == ("⚑ red, no action", (40, 1))
        # A label in a hidden box (the wall's small value while its big digits show) takes
        # no room: no layout now; it has its new width once the box shows again.
        inside, hidden = app.query_one("#inside", Label), app.query_one("#hidden")
        assert keeps_size(inside, Content("1,000"), Content("12,345"))
        assert show(inside, literal("12,345"))
        hidden.display = True
        await pilot.pause()
        assert (str(inside.render()), inside.size.width) == ("12,345", 6)


def border_of(tile: Widget) -> tuple[str, str]:
    """A tile's border as drawn: its edge and colour (#RRGGBB)."""
    edge, colour = tile.styles.border_top
    return edge, colour.hex.upper()


async def restyled_turning_red(
    pilot: Pilot[int], app: TeamboardApp, store: Store, tile: KpiTile,
    monkeypatch: pytest.MonkeyPatch,
) -> list[DOMNode]:
    """Turn Output red from another thread and return the nodes the app restyled meanwhile
    (`App.update_styles`, the entry of every class change)."""
    restyled: list[DOMNode] = []
    update_styles = app.update_styles

    def noted(node: DOMNode, animate: bool = True) -> None:
        restyled.append(node)
        update_styles(node, animate)

    monkeypatch.setattr(app, "update_styles", noted)
    reloads = app.reloads
    await asyncio.to_thread(ops.record, store, "Output", 50.0, TODAY, TODAY)
    await until(pilot, lambda: app.reloads > reloads and "red" in tile_text(tile), 15,
                "Output red")
    await until(pilot, app.settled, what="settled")
    monkeypatch.undo()
    return restyled


async def test_a_status_change_restyles_no_tile_and_the_border_follows_status_focus_and_theme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KPI turning red recolours its tile without restyling the tile's widgets (a class on
    the tile restyled all nine of them, 7 ms a write at 100,000 entries); the border is the
    status's colour, heavy in the accent colour while focused, and follows a new theme."""
    store = line_store(tmp_path / "team.json")
    app = make_app(store.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        tile, other = tile_named(app, "Output"), tile_named(app, "Scrap")
        other.focus()  # (a reload gives the board's focus back to a tile: this one)
        await pilot.pause()

        def border() -> tuple[str, str]:
            return border_of(tile)

        def theme(name: str) -> str:
            return app.theme_variables[name].upper()

        assert border() == ("round", theme("success"))
        restyled = await restyled_turning_red(pilot, app, store, tile, monkeypatch)
        assert border() == ("round", theme("error"))
        assert not [n for n in restyled if n is tile or tile in n.ancestors]
        tile.focus()
        await until(pilot, lambda: border() == ("heavy", theme("accent")), what="focus border")
        other.focus()
        await until(pilot, lambda: border() == ("round", theme("error")), what="status border")
        app.theme = "nord"
        await until(pilot, lambda: border() == ("round", theme("error")) and
                    theme("error") != "#B93C5B", what="the new theme's red")


async def test_on_the_wall_a_status_change_restyles_only_the_parts_in_its_colour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wall's tile: the status's class goes on the six widgets that show its colour (the
    status words and the big digits), not on the tile (which restyled its 20-odd widgets);
    the border is heavy when red or focused and in the status's colour either way."""
    store = line_store(tmp_path / "team.json")
    app = make_app(store.path, wall=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot, app)
        tile, other = tile_named(app, "Output"), tile_named(app, "Scrap")
        assert isinstance(tile, WallTile)
        other.focus()
        await pilot.pause()

        def border() -> tuple[str, str]:
            return border_of(tile)

        error = app.theme_variables["error"].upper()
        assert border() == ("round", app.theme_variables["success"].upper())
        restyled = await restyled_turning_red(pilot, app, store, tile, monkeypatch)
        coloured = {tile.status_label, tile.status_row, tile.status_big, tile.value_small,
                    tile.value_big, tile.value_big2}
        inside = [n for n in restyled if n is tile or tile in n.ancestors]
        assert inside and set(inside) <= coloured
        assert all(w.has_class("-red") for w in coloured) and not tile.has_class("-red")
        assert tile.value_big.styles.color.hex.upper() == error
        assert border() == ("heavy", error)
        tile.focus()
        await until(pilot, lambda: border() == ("heavy", error), what="focused, still red")
