"""Edits you can trust, forms that survive a burst of keys, start-up focus and help, honest
charts, and the wall's layout at every size (issue 12, items 1 and 4 to 7).

The clock is frozen (the demo is built for TODAY); every wait is on a condition with a deadline.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from conftest import TODAY, loaded, make_app, screen_open, tile_named, tiles, until
from textual import events
from textual.pilot import Pilot
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey

from store import Store, ops
from store.model import Entry, Stage, Status
from tui.action_screen import ActionScreen
from tui.app import TeamboardApp
from tui.board_screen import BoardScreen
from tui.detail_screen import DetailScreen
from tui.forms import ActionForm, FormScreen
from tui.help_screen import HelpScreen
from tui.huddle_screen import HuddleScreen
from widgets.action_table import ActionTable
from widgets.big_text import big_lines, width_of, wrap_big
from widgets.kpi_tile import KpiTile
from widgets.trend_chart import downsample
from widgets.trend_spark import DOTS, SparkData, spark_row
from widgets.wall_tile import TileTexts, WallTile, plan, plans

pytestmark = pytest.mark.anyio


def stage_of(path: Path, action_id: int) -> Stage:
    return Store(path).read().actions[action_id].stage


def first_action(app: TeamboardApp) -> int:
    table = app.screen.query_one(ActionTable)
    selected = table.selected_id
    assert selected is not None
    return selected


# --- 4. edits you can trust -------------------------------------------------------------------


async def test_enter_on_an_action_opens_it_and_never_moves_it(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        table = app.screen.query_one(ActionTable)
        table.focus()
        await until(pilot, lambda: table.row_count > 0, what="the actions")
        action = first_action(app)
        before = stage_of(demo_store.path, action)
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, ActionScreen), what="the action")
        screen = app.screen
        assert isinstance(screen, ActionScreen) and screen.action_id == action
        shown = str(screen.facts.render())
        assert "Stage" in shown and "Owner" in shown and "Due" in shown
        assert screen.history.row_count >= 1  # created in plan: the history has that line
        await pilot.press("escape")
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="back on the board")
        assert app.settled() and stage_of(demo_store.path, action) is before


async def test_a_second_click_on_the_selected_row_does_not_move_it(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        table = app.screen.query_one(ActionTable)
        await until(pilot, lambda: table.row_count > 0, what="the actions")
        action = first_action(app)
        before = stage_of(demo_store.path, action)
        offset = (30, table.header_height)  # the first row's title cell
        await pilot.click(ActionTable, offset=offset)
        await pilot.pause()
        await pilot.click(ActionTable, offset=offset)  # on the row the cursor is on
        await until(pilot, lambda: screen_open(app.screen, ActionScreen), what="the action")
        await pilot.pause()
        assert not [w for w in app.workers if w.group == "write"]
        assert stage_of(demo_store.path, action) is before


async def test_a_stage_change_says_what_changed_and_undo_restores_it(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        table = app.screen.query_one(ActionTable)
        await until(pilot, lambda: table.row_count > 0, what="the actions")
        action = first_action(app)
        before = stage_of(demo_store.path, action)
        revisions = len(Store(demo_store.path).read().actions[action].history)
        await pilot.press("d")
        await until(pilot, lambda: stage_of(demo_store.path, action) is Stage.DONE, what="done")
        await until(pilot, app.settled, what="the write settled")
        toasts = [n.message for n in app._notifications]
        assert any(f"Action #{action} done" in m and "(u undo)" in m for m in toasts), toasts
        await pilot.press("u")
        await until(pilot, lambda: stage_of(demo_store.path, action) is before, what="undone")
        await until(pilot, app.settled, what="the undo settled")
        history = Store(demo_store.path).read().actions[action].history
        assert len(history) == revisions + 2  # both moves kept: nothing deleted
        assert [h.new for h in history[-2:]] == ["done", before.value]
        assert any("Undone" in n.message for n in app._notifications)
        await pilot.press("u")  # once only
        await pilot.pause()
        assert any("Nothing to undo" in n.message for n in app._notifications)


async def test_undo_refuses_when_someone_moved_the_action_since(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        table = app.screen.query_one(ActionTable)
        await until(pilot, lambda: table.row_count > 0, what="the actions")
        action = first_action(app)
        await pilot.press("m")
        await until(pilot, app.settled, what="the move")
        moved = stage_of(demo_store.path, action)
        ops.move_action(Store(demo_store.path), action)  # a teammate moves it on
        after = stage_of(demo_store.path, action)
        await until(
            pilot,
            lambda: app.snapshot is not None and app.snapshot.actions[action].stage is after,
            what="the teammate's move loaded",
        )
        assert after is not moved
        await pilot.press("u")
        await pilot.pause()
        assert stage_of(demo_store.path, action) is after
        assert any("Not undone" in n.message for n in app._notifications)


async def test_a_double_click_on_a_tile_opens_its_detail(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        tile = tile_named(app, "Scrap cost")
        await pilot.click(f"#{tile.id}", times=2)
        await until(pilot, lambda: screen_open(app.screen, DetailScreen), what="the detail")
        screen = app.screen
        assert isinstance(screen, DetailScreen) and tile.view is not None
        assert screen.kpi_id == tile.view.kpi.id


async def test_a_single_click_on_a_tile_only_focuses_it(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        tile = tile_named(app, "Daily output")
        await pilot.click(f"#{tile.id}")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen) and app.screen.focused is tile


# --- 5. forms that survive a burst of keys ----------------------------------------------------


def burst(app: TeamboardApp, keys: list[str]) -> None:
    """Every key into the app's queue at once, as a read over SSH delivers them: no pause, no
    waiting for the app between keys (Pilot.press waits for idle after each key)."""
    driver = app._driver
    assert driver is not None
    chars = {"tab": "\t", "enter": "\r", "space": " ", "minus": "-", "full_stop": ".",
             "shift+tab": None}
    for key in keys:
        event = events.Key(key, chars.get(key, key))
        event.set_sender(app)
        driver.send_message(event)


def typed(text: str) -> list[str]:
    return ["space" if c == " " else "minus" if c == "-" else c for c in text]


async def test_a_burst_of_keys_lands_in_the_right_fields(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        tile_named(app, "Scrap cost").focus()
        await pilot.press("a")
        await until(pilot, lambda: screen_open(app.screen, ActionForm), what="the action form")
        form = app.screen
        assert isinstance(form, ActionForm)
        form.query_one("#field-owner", Input).value = ""  # the burst types the owner
        form.query_one("#field-title", Input).focus()
        await pilot.pause()
        title = "Add a second de-icing pad"
        burst(app, [*typed(title), "tab", *"dana", "enter"])

        def saved() -> bool:
            snap = Store(demo_store.path).read()
            return any(a.title == title for a in snap.actions.values())

        await until(pilot, saved, what=f"the action saved ({form.result()})")
        snap = Store(demo_store.path).read()
        action = next(a for a in snap.actions.values() if a.title == title)
        assert action.owner == "dana"
        assert not any(a.title.endswith("dana") for a in snap.actions.values())


async def test_a_burst_with_tab_back_and_forth_keeps_each_field(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the record form")
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-date", Input).value = ""
        form.query_one("#field-value", Input).focus()
        await pilot.pause()
        burst(app, ["4", "2", "full_stop", "5", "tab", *"today", "tab", "tab",
                    *typed("late truck"), "shift+tab", "4", "0"])
        await until(pilot, lambda: form.value("plan") == "40", what=f"the plan ({form.result()})")
        assert form.result() == {"value": "42.5", "date": "today", "plan": "40",
                                 "note": "late truck"}


# --- 6. focus and help ------------------------------------------------------------------------


async def test_start_focuses_the_first_red_tile_so_a_acts_on_it(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        await until(pilot, lambda: isinstance(app.screen.focused, KpiTile), what="a focus")
        focused = app.screen.focused
        assert isinstance(focused, KpiTile) and focused.view is not None
        reds = [t for t in tiles(app) if t.view is not None and t.view.status is Status.RED]
        assert focused is reds[0]
        await pilot.press("a")
        await until(pilot, lambda: screen_open(app.screen, ActionForm), what="the action form")
        form = app.screen
        assert isinstance(form, ActionForm)
        assert form.kpi == focused.view.kpi.id
        assert form.value("owner") == focused.view.kpi.owner != ""


async def test_start_focuses_the_first_tile_when_none_is_red(store_path: Path) -> None:
    store = Store(store_path)
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "Output", None, 100.0)
    ops.add_kpi(store, "Yield", None, 90.0)
    app = make_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        await until(pilot, lambda: app.screen.focused is tiles(app)[0], what="the first tile")


async def test_question_mark_lists_every_key_and_the_legend(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        board = app.screen
        await pilot.press("question_mark")
        await until(pilot, lambda: screen_open(app.screen, HelpScreen), what="the help")
        text = str(app.screen.query_one("#help-keys").render())
        for key in board.active_bindings:
            binding = board.active_bindings[key].binding
            if key == "ctrl+c":
                continue
            assert (binding.description or binding.action.replace("_", " ")) in text, key
        assert "undo" in text.lower() and "Help" in text
        legend = str(app.screen.query_one("#help-legend").render())
        for word in ("✔ green", "▲ amber", "✖ red", "? stale", "red, no action",
                     "counter-metric red", "stale since", "⣿"):
            assert word in legend, word
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is board, what="the help closed")


# --- 7. honest charts -------------------------------------------------------------------------


def entries(values: list[float]) -> list[Entry]:
    start = date(2025, 11, 21)
    return [Entry(i + 1, 1, date.fromordinal(start.toordinal() + i), v)
            for i, v in enumerate(values)]


@pytest.mark.parametrize("limit", [20, 60, 120, 239])
def test_downsampling_keeps_the_worst_and_the_best_day(limit: int) -> None:
    values = [90 + math.sin(i / 9) for i in range(365)]
    values[200] = 23.2  # one terrible day
    values[40] = 140.0  # and one great one
    kept = downsample(entries(values), limit)
    assert len(kept) <= limit
    assert 23.2 in [e.value for e in kept] and 140.0 in [e.value for e in kept]
    assert kept[0].id == 1 and kept[-1].id == 365
    assert [e.day for e in kept] == sorted(e.day for e in kept)


def test_met_and_missed_bars_differ_by_more_than_colour() -> None:
    data = SparkData((5.0, 5.0, 5.0), 4.0, (True, False, False), (False, True, False))
    [met, amber, missed] = spark_row(data, 3, 1, 0)
    assert met[1] == "trend-spark--met" and amber[1] == "trend-spark--amber"
    assert missed[1] == "trend-spark--missed"
    assert met[0] != missed[0] and missed[0] in DOTS and amber[0] in DOTS


def test_amber_periods_come_from_the_rules(demo_store: Store) -> None:
    snap = demo_store.read()
    from store.rules import entry_status, view_kpis

    kpis = list(snap.kpis.values())
    views = view_kpis(kpis, {k.id: snap.entries.get(k.id, []) for k in kpis},
                      list(snap.actions.values()), {b.id: b.name for b in snap.boards.values()},
                      TODAY)
    delivery = next(v for v in views if v.kpi.name == "On-time delivery")
    assert len(delivery.amber) == len(delivery.met) and any(delivery.amber)
    tail = delivery.history[-len(delivery.amber):]
    assert delivery.amber == tuple(entry_status(delivery.kpi, e) is Status.AMBER for e in tail)


# --- 1. the wall ------------------------------------------------------------------------------


TEXTS = TileTexts("First-pass yield", "✖ red", "93.6", "%", "target 98% · −4.4 (−4.5%)",
                  ("⚑ red, no action",), "↘ worsening · chen · leading")


@pytest.mark.parametrize("size", [(24, 3), (34, 5), (37, 12), (74, 27), (118, 30)])
def test_the_wall_plan_never_hides_the_status_value_name_or_flags(size: tuple[int, int]) -> None:
    p = plan(TEXTS, *size)
    assert p.fits
    # Whatever the size: the status, the value (never cut), the name and every flag show.
    rows = (3 * len(p.name_big) if p.name_big else 1) + (1 if p.status_own_row else 0)
    assert rows + (1 if p.value_scale == 0 else 3) + 1 <= size[1]  # no row is cut off
    if p.value_scale == 0:
        assert len(TEXTS.value + " " + TEXTS.unit) <= size[0]


def test_the_sparkline_shrinks_first() -> None:
    roomy, tight = plan(TEXTS, 74, 27), plan(TEXTS, 74, 14)
    assert roomy.status_scale == 2 and roomy.value_scale == 2 and roomy.spark > 0
    assert tight.status_scale >= 1 and tight.value_scale >= 1 and tight.spark < roomy.spark
    assert tight.meta or not roomy.meta


def test_a_value_of_the_same_widths_is_not_planned_again() -> None:
    """The wall plans every tile at every column count on each reload: a new value of the
    same widths reuses the plans; one of other widths, or a new flag, is planned afresh."""
    same = replace(TEXTS, value="93.8", target="target 98% · −4.2 (−4.3%)")
    assert plans(same, 74, 27) is plans(TEXTS, 74, 27)
    wider = replace(TEXTS, value="100.5")
    assert plans(wider, 74, 27) is not plans(TEXTS, 74, 27)
    flagged = replace(TEXTS, flags=(*TEXTS.flags, "⚑ counter-metric red"))
    assert plans(flagged, 74, 27) != plans(TEXTS, 74, 27)


def test_the_big_font_draws_every_character_of_a_name() -> None:
    for scale, rows in ((1, 3), (2, 5)):
        lines = big_lines("Units per hour 93.6%", scale)
        assert len(lines) == rows
        assert {len(line) for line in lines} == {width_of("Units per hour 93.6%", scale)}
    assert wrap_big("First-pass yield", 40, 2) == ["First-pass", "yield"]
    assert wrap_big("Supercalifragilistic", 20, 2) is None


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 50), (240, 67)])
async def test_the_wall_shows_every_tiles_status_value_and_flags(
    demo_store: Store, size: tuple[int, int]
) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly", wall=True)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app)
        await pilot.pause()
        shown = tiles(app)
        assert shown and all(isinstance(t, WallTile) for t in shown)
        for tile in shown:
            assert isinstance(tile, WallTile)
            p = tile.plan
            assert p.fits, (tile.view and tile.view.kpi.name, tile.content_size, p)
            region = tile.content_region
            for child in tile.query("*"):
                if child.display and child.region.area and child.parent is not None:
                    assert region.contains_region(child.region) or child.region.area == 0, child
        if size[0] >= 120:
            assert all(t.plan.meta and t.plan.target for t in shown if isinstance(t, WallTile))
        if size == (240, 67):
            assert all(t.plan.status_scale == 2 and t.plan.value_scale == 2 and t.plan.name_big
                       for t in shown if isinstance(t, WallTile))


# --- 1. the huddle at a laptop's size and at a big one -----------------------------------------


@pytest.fixture
def who(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("store.db.whoami", lambda: "dara")
    monkeypatch.setattr("store.huddle.logged_in", lambda: ["ben", "dara"])


async def huddle_started(pilot: Pilot[int], app: TeamboardApp) -> HuddleScreen:
    await until(
        pilot,
        lambda: screen_open(app.screen, HuddleScreen) and app.screen.item is not None,
        10,
        "the huddle's first item",
    )
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, HuddleScreen)
    return screen


async def test_the_huddle_at_80x24_shows_end_and_its_whole_progress(
    demo_store: Store, who: None
) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly", huddle=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await huddle_started(pilot, app)
        progress = screen.progress
        text = str(progress.render())
        assert text.startswith("Huddle 1 of") and "Line 2 Assembly" in text
        assert progress.size.width >= len(text)  # not cut to "Huddle 1 of 3 · r…"
        footer = screen.query_one(Footer)
        await until(pilot, lambda: bool(footer.query(FooterKey)), what="the footer's keys")
        await pilot.pause()
        right = footer.region.right
        keys = footer.query(FooterKey)
        shown = {k.key for k in keys if k.region.width and k.region.right <= right}
        assert "escape" in shown and "n" in shown, shown  # `esc End` is not pushed off the screen


async def test_the_huddle_at_160x50_shows_its_action_rows(demo_store: Store, who: None) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly", huddle=True)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await huddle_started(pilot, app)
        table = screen.actions
        await until(pilot, lambda: table.row_count > 0, what="the item's actions")
        await pilot.pause()
        assert table.size.height >= table.header_height + table.row_count
