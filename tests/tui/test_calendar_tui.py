"""The SQCDP calendar screen driven through the Pilot, and its pictures at 80x24, 120x40 and
240x67. The demo is built for TODAY (Fri 20 Nov 2026) and the clock is frozen."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import SETTLE_S, TODAY, clock, loaded, make_app, screen_open, still, until
from textual.command import CommandList
from textual.pilot import Pilot

from store import Store, calendar, ops
from tui.app import TeamboardApp
from tui.board_screen import BoardScreen
from tui.calendar_screen import CalendarScreen, shift_month
from widgets.calendar import CategoryCalendar, RedDaysPanel

SnapCompare = Callable[..., bool]
pytestmark = pytest.mark.usefixtures("utc")


def shown(app: TeamboardApp) -> CalendarScreen | None:
    screen = app.screen
    return screen if isinstance(screen, CalendarScreen) and screen.calendar else None


def blocks(app: TeamboardApp) -> list[CategoryCalendar]:
    return list(app.screen.query(CategoryCalendar))


def letters(app: TeamboardApp) -> list[str]:
    return [b.data.month.letter for b in blocks(app) if b.data is not None]


def text_of(widget: CategoryCalendar | RedDaysPanel) -> str:
    return str(widget.render())


async def open_calendar(pilot: Pilot[int], app: TeamboardApp) -> CalendarScreen:
    await loaded(pilot, app)
    await pilot.press("c")
    await until(pilot, lambda: shown(app) is not None and bool(blocks(app)), what="the calendar")
    screen = shown(app)
    assert screen is not None
    return screen


# --- driving it ----------------------------------------------------------------------------------

pilot_test = pytest.mark.anyio


@pilot_test
async def test_c_opens_the_boards_calendar_and_escape_returns(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_calendar(pilot, app)
        assert letters(app) == ["Q", "C", "D"]
        assert "Line 2 Assembly · SQCDP calendar · November 2026" in str(
            screen.title_label.render()
        )
        snap = demo_store.read()
        board = snap.board_named("Line 2 Assembly")
        want = calendar.build(board.name, snap.kpis_of(board.id), snap.entries, TODAY, TODAY)
        quality = text_of(blocks(app)[0])
        assert f"Q Quality · {want.categories[0].red_days} red days" in quality
        assert "16✖" in quality and "20·" in quality  # a red day, and today with nothing yet
        panel = text_of(screen.side)
        assert "Reasons on red days (Pareto)" in panel
        top = want.reasons[0]
        assert f"{top.count}  33% {top.text}" in panel
        await pilot.press("escape")
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the board again")


@pilot_test
async def test_help_lists_the_calendar_key_and_the_calendars_own_keys(demo_store: Store) -> None:
    from tui.help_screen import key_rows

    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        assert ("c", "Calendar") in key_rows(app.screen)  # not in the footer: no room at 80
        screen = await open_calendar(pilot, app)
        rows = dict((what, keys) for keys, what in key_rows(screen))
        assert {"Prev month", "Next month", "This month", "Board", "Back"} <= set(rows)


@pilot_test
async def test_arrows_change_the_month_and_t_comes_back(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_calendar(pilot, app)

        def title() -> str:
            return str(screen.title_label.render())

        await pilot.press("left")
        await until(pilot, lambda: "October 2026" in title(), what="October")
        assert screen.calendar is not None and screen.calendar.month == date(2026, 10, 1)
        await pilot.press("right", "right")
        await until(pilot, lambda: "December 2026" in title(), what="December")
        assert screen.calendar is not None and screen.calendar.red_days == 0  # all ahead
        await pilot.press("t")
        await until(pilot, lambda: "November 2026" in title(), what="this month again")


def test_shift_month_crosses_years_and_stops_at_the_calendars_ends() -> None:
    assert shift_month(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert shift_month(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert shift_month(date(9999, 12, 1), 1) == date(9999, 12, 1)
    assert shift_month(date(1, 1, 1), -1) == date(1, 1, 1)


@pilot_test
async def test_b_shows_the_next_boards_calendar(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 3 Assembly")  # the last board: b wraps round
    async with app.run_test(size=(120, 40)) as pilot:
        await open_calendar(pilot, app)
        await pilot.press("b")
        await until(pilot, lambda: letters(app) == ["S", "Q", "D"], what="Operations' calendar")
        # near misses were only just added: nothing recorded this month, said in words
        assert "S Safety · no data" in text_of(blocks(app)[0])
        assert "Q Quality · no data" in text_of(blocks(app)[1])


@pilot_test
async def test_the_palette_opens_it(demo_store: Store) -> None:
    app = make_app(demo_store.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        app.action_command_palette()
        await pilot.pause()
        await pilot.press(*"SQCDP calendar")

        def first_hit() -> str:
            hits = app.screen.query(CommandList)
            return str(hits.first().get_option_at_index(0).prompt) if hits else ""

        await until(pilot, lambda: "SQCDP" in first_hit(), what="the palette's hit")
        await pilot.press("enter")
        await until(pilot, lambda: letters(app) == ["S", "Q", "D"], what="the calendar")


@pilot_test
async def test_a_board_without_categories_says_how_to_set_one(store_path: Path) -> None:
    store = Store(store_path)
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "OEE", None, 85.0)
    app = make_app(store_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        await pilot.press("c")
        await until(pilot, lambda: screen_open(app.screen, CalendarScreen), what="the screen")
        screen = app.screen
        assert isinstance(screen, CalendarScreen)
        await until(pilot, lambda: screen.empty.display, what="the empty state")
        said = str(screen.empty.render())
        assert "No KPI of Line has a category yet" in said
        assert "teamboard kpi edit NAME --category Q" in said
        assert not blocks(app)
        # a category set from the command line shows up without reopening
        ops.edit_kpi(store, "OEE", category="Quality")
        await until(pilot, lambda: letters(app) == ["Q"], timeout=10, what="the Q calendar")
        assert not screen.empty.display


@pilot_test
async def test_a_red_day_recorded_elsewhere_appears_with_its_reason(demo_store: Store) -> None:
    app = make_app(demo_store.path, board="Line 2 Assembly")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_calendar(pilot, app)
        assert screen.calendar is not None
        before = screen.calendar.categories[1].red_days  # Cost
        ops.record(demo_store, "Scrap cost", 900.0, date(2026, 11, 3), TODAY,
                   note="Pallet dropped by the forklift")  # fmt: skip

        def updated() -> bool:
            cal = screen.calendar
            return cal is not None and cal.categories[1].red_days == before + 1

        await until(pilot, updated, timeout=10, what="the new red day")
        assert "Pallet dropped by the forklift" in text_of(screen.side)
        assert " 3✖" in text_of(blocks(app)[1])


@pilot_test
async def test_store_text_is_drawn_literally(store_path: Path) -> None:
    store = Store(store_path)
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "OEE", None, 85.0)
    ops.record(store, "OEE", 10.0, date(2026, 11, 2), TODAY, note="[red]boom[/red] \x1b[2J")
    raw = orjson.loads(store_path.read_bytes())
    for doc in raw["kpis"].values():  # edited by hand: no command writes such a category
        doc["category"] = "[b]Bold[/b]"
    store_path.write_bytes(orjson.dumps(raw))
    app = make_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_calendar(pilot, app)
        assert "[b]Bold[/b]" in text_of(blocks(app)[0])
        assert "[red]boom[/red] ␛[2J" in text_of(screen.side)


# --- pictures ------------------------------------------------------------------------------------


def calendar_drawn() -> Callable[[Pilot[Any]], Any]:
    """Wait for the board, press `c`, wait for the calendar, then for a still screen."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, TeamboardApp)
        deadline = time.monotonic() + SETTLE_S
        await until(pilot, lambda: app.reloads >= 1 and app.settled(), SETTLE_S, "the board")
        await pilot.press("c")
        await until(pilot, lambda: shown(app) is not None and bool(blocks(app)), SETTLE_S,
                    "the calendar")  # fmt: skip
        await still(pilot, deadline)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (240, 67)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_calendar_picture(
    snap_compare: SnapCompare, frozen_demo: Path, size: tuple[int, int]
) -> None:
    app = TeamboardApp(frozen_demo, board="Line 2 Assembly", clock=clock)
    assert snap_compare(app, terminal_size=size, run_before=calendar_drawn())
