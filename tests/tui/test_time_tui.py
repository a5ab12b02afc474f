"""Time on the board: a live board that changes with the clock and no write (midnight, a due
time, an action's due date, a clock that jumps), and a board as of a past day that is read-only.

The clock is a `StepClock` the test moves by hand; the app's one time timer looks at it every
50 ms here (`time_check_s`), so the real timer picks up each step. Every wait is on a condition.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY, fingerprint, loaded, screen_open, seeded, tile_named, tiles, until
from textual.app import App
from textual.coordinate import Coordinate
from textual.widgets import Input, Label

from store import Store, ops, plans
from store.csvio import import_csv
from store.model import Direction, Status
from tui import timekeeping
from tui.app import TeamboardApp
from tui.board_screen import BoardScreen
from tui.detail_screen import DetailScreen
from tui.forms import FormScreen
from tui.huddle_screen import HuddleScreen
from widgets.action_table import ActionTable

pytestmark = pytest.mark.anyio

YESTERDAY = TODAY - timedelta(days=1)
TOMORROW = TODAY + timedelta(days=1)


class StepClock:
    """A frozen clock that a test moves: `clock.now = ...`."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone()

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: date, hour: int, minute: int = 0, second: int = 0) -> None:
        self.now = datetime(day.year, day.month, day.day, hour, minute, second).astimezone()


def notices(app: App[Any]) -> list[str]:
    return [n.message for n in app._notifications]


def live_timers(app: TeamboardApp) -> int:
    """The app's time timers still waiting to fire: never more than one."""
    return sum(
        1
        for t in app._timers
        if t.name == "keep-time" and t._task is not None and not t._task.done()
    )


async def one_timer(pilot: Any, app: TeamboardApp) -> None:
    """Exactly one time timer waits, never two. A timer that fired hands `keep_time` to the
    app's queue (`call_next`) and is done before the next one is set, so for that moment none
    is live: wait that moment out, failing on a pile-up at any point."""

    def settled() -> bool:
        live = live_timers(app)
        assert live <= 1, f"{live} time timers at once"
        return live == 1

    await until(pilot, settled, what="the one time timer")


def header_counts(app: TeamboardApp) -> str:
    return " ".join(
        str(label.render()) for label in app.screen.query(".count").results(Label)
        if label.display
    )


def overdue_cells(app: TeamboardApp) -> list[str]:
    table = app.screen.query_one(ActionTable)
    cells = (str(table.get_cell_at(Coordinate(row, 5))) for row in range(table.row_count))
    return [c for c in cells if "⚠" in c]


def kept_store(path: Path) -> Store:
    """Output (daily, target 100) green with yesterday's 105; an action due today."""
    store = seeded(path)
    ops.record(store, "Output", 105.0, YESTERDAY, TODAY)
    ops.add_action(store, "Clean the feeder", board="Line", kpi="Output", due=TODAY)
    return store


def keeping_time(path: Path, clock: StepClock, **kw: Any) -> TeamboardApp:
    app = TeamboardApp(path, clock=clock, **kw)
    app.time_check_s = 0.05
    return app


# --- pure -------------------------------------------------------------------------------------


def test_next_midnight_delay_and_staleness() -> None:
    clock = StepClock(datetime(2026, 11, 20, 23, 59, 30))
    midnight = timekeeping.next_midnight(clock())
    assert midnight == datetime(2026, 11, 21).astimezone()
    assert timekeeping.delay(midnight, clock(), 3600) == pytest.approx(30.0)
    assert timekeeping.delay(midnight, clock()) == 30.0  # within the minute: to the moment
    assert timekeeping.delay(midnight + timedelta(hours=5), clock()) == timekeeping.CHECK_S
    assert timekeeping.delay(midnight, midnight + timedelta(seconds=1)) == 0.001  # overdue: now
    assert not timekeeping.stale(clock(), midnight, clock())
    assert timekeeping.stale(clock(), midnight, midnight)  # the change has come
    assert timekeeping.stale(clock(), midnight, clock() - timedelta(hours=1))  # jumped back


async def test_a_due_date_at_the_calendars_end_does_not_stop_the_clock(store_path: Path) -> None:
    """An action due 9999-12-31 has no "day after": the board still keeps time (midnight)."""
    store = kept_store(store_path)
    ops.add_action(store, "Someday", board="Line", due=date(9999, 12, 31))
    clock = StepClock(datetime(TODAY.year, TODAY.month, TODAY.day, 23, 59, 50))
    assert timekeeping.next_change(store.read(), clock()) == timekeeping.next_midnight(clock())
    app = keeping_time(store_path, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot, app, 1)
        clock.at(TOMORROW, 0, 0, 1)
        await until(pilot, lambda: tile_named(app, "Output").view.status is Status.STALE,  # type: ignore[union-attr]
                    what="stale after midnight")
        assert app.is_running


# --- a live board keeps time --------------------------------------------------------------------


async def test_board_rolls_over_at_midnight_with_no_write(store_path: Path) -> None:
    kept_store(store_path)
    clock = StepClock(datetime(TODAY.year, TODAY.month, TODAY.day, 23, 59, 50))
    app = keeping_time(store_path, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot, app, 1)
        tile = tile_named(app, "Output")
        assert tile.view is not None and tile.view.status is Status.GREEN
        assert "✔ 1 green" in header_counts(app)
        assert overdue_cells(app) == []  # due today: not overdue yet
        before, reloads = fingerprint(store_path), app.reloads

        clock.at(TOMORROW, 0, 0, 1)
        await until(pilot, lambda: tile_named(app, "Output").view.status is Status.STALE,  # type: ignore[union-attr]
                    what="stale after midnight")
        await until(pilot, lambda: "? 1 stale" in header_counts(app), what="the header's count")
        assert "✔ 0 green" in header_counts(app)
        await until(pilot, lambda: bool(overdue_cells(app)), what="the action marked overdue")
        view = tile_named(app, "Output").view
        assert view is not None and view.today == TOMORROW
        assert fingerprint(store_path) == before  # nothing written
        assert app.reloads == reloads  # and nothing re-read: the views came from the snapshot
        await one_timer(pilot, app)


async def test_a_clock_that_jumps_back_and_forth_is_followed_with_one_timer(
    store_path: Path,
) -> None:
    kept_store(store_path)
    clock = StepClock(datetime(TODAY.year, TODAY.month, TODAY.day, 12, 0))
    app = keeping_time(store_path, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot, app, 1)

        def status() -> Status | None:
            view = tile_named(app, "Output").view
            return view.status if view else None

        for _ in range(3):  # an NTP step, a suspend over a night, a hand-set date
            clock.at(TODAY + timedelta(days=3), 8, 0)
            await until(pilot, lambda: status() is Status.STALE, what="stale days later")
            clock.at(TODAY, 12, 0)
            await until(pilot, lambda: status() is Status.GREEN, what="green again, back")
        await one_timer(pilot, app)  # no pile-up however often it fired


async def test_time_timer_waits_for_the_next_change_at_most_a_minute(store_path: Path) -> None:
    kept_store(store_path)
    clock = StepClock(datetime(TODAY.year, TODAY.month, TODAY.day, 23, 59, 30))
    app = TeamboardApp(store_path, clock=clock)  # the real check interval
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot, app, 1)
        timer = app._time_timer  # scheduled by the load, for the snapshot it brought
        assert timer is not None and live_timers(app) == 1
        assert timer._interval == pytest.approx(30.0)  # to midnight, not a fixed poll
        clock.at(TODAY, 9, 0)  # went back: the next change is far off, so it looks in a minute
        app.keep_time()
        assert app._time_timer is not timer and live_timers(app) == 1
        assert app._time_timer is not None
        assert app._time_timer._interval == pytest.approx(timekeeping.CHECK_S)


# --- a board as of a past day -------------------------------------------------------------------


PAST = date(2013, 12, 31)


def past_store(path: Path) -> Store:
    """A year that ended long ago: Output red on its last day, with no action."""
    store = seeded(path)
    for n in range(10):
        day = PAST - timedelta(days=9 - n)
        ops.record(store, "Output", 80.0 if day == PAST else 101.0, day, TODAY)
    ops.add_action(store, "Old action", board="Line", due=date(2013, 12, 1))
    return store


async def test_as_of_board_says_so_and_writes_nothing(store_path: Path) -> None:
    past_store(store_path)
    clock = StepClock(datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0))
    app = keeping_time(store_path, clock, as_of=PAST)
    assert app.read_only == "as of Tue 31 Dec 2013"
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await loaded(pilot, app, 1)
        clock_label = app.screen.query_one(".clock", Label)
        await until(pilot, lambda: "as of Tue 31 Dec 2013" in str(clock_label.render()),
                    what="the header's as-of")
        assert "read-only" in str(clock_label.render())
        assert live_timers(app) == 0  # a past day does not keep time
        view = tile_named(app, "Output").view
        assert view is not None and view.status is Status.RED and view.today == PAST
        before = fingerprint(store_path)
        tiles(app)[0].focus()
        for key in ("r", "a", "m", "d"):
            app._notifications.clear()
            await pilot.press(key)
            await until(pilot, lambda: "read-only: as of Tue 31 Dec 2013" in notices(app),
                        what=f"{key} refused")
            assert len(notices(app)) == 1
            assert isinstance(app.screen, BoardScreen)  # no form opened
        clock.at(TODAY + timedelta(days=2), 9, 0)  # time passes: the past board stays put
        await pilot.pause(0.2)
        view = tile_named(app, "Output").view
        assert view is not None and view.today == PAST and view.status is Status.RED
        assert fingerprint(store_path) == before
        reloads = app.reloads
        ops.record(Store(store_path), "Output", 120.0, TODAY, TODAY)  # someone records today
        await until(pilot, lambda: app.reloads > reloads and app.settled(), what="the reload")
        view = tile_named(app, "Output").view  # the reload does not carry it into today
        assert view is not None and view.today == PAST and view.status is Status.RED
        assert view.latest is not None and view.latest.day == PAST and view.latest.value == 80.0


async def test_as_of_huddle_shows_the_day_and_saves_no_minutes(store_path: Path) -> None:
    past_store(store_path)
    app = keeping_time(store_path, StepClock(datetime(2026, 11, 20, 9, 0)), as_of=PAST,
                       huddle=True)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = app.screen
        assert isinstance(screen, HuddleScreen)
        await until(pilot, lambda: screen.session is not None, what="the huddle")
        progress = screen.query_one("#progress", Label)
        await until(pilot, lambda: "as of Tue 31 Dec 2013" in str(progress.render()),
                    what="the as-of in the huddle's bar")
        assert screen.item is not None and screen.item.name == "Output"
        await until(pilot, lambda: "read-only (as of Tue 31 Dec 2013)" in str(
            screen.gate.render()), what="the gate says nothing can be added")
        before = fingerprint(store_path)
        await pilot.press("a")
        await until(pilot, lambda: "read-only: as of Tue 31 Dec 2013" in notices(app),
                    what="a refused")
        await pilot.press("S")  # the gate lets the facilitator move on
        await until(pilot, lambda: screen.item is None, what="the wrap-up")
        await until(pilot, lambda: "no minutes are kept" in str(screen.wrapup.render()),
                    what="the wrap-up says no minutes are kept")
        await pilot.press("escape")
        await until(pilot, lambda: any("minutes are not saved" in n for n in notices(app)),
                    what="no minutes")
        await until(pilot, app.settled)
        assert fingerprint(store_path) == before


# --- a due time: grace after midnight, then late, counting up, then stale ------------------------


def due_store(path: Path) -> Store:
    """Output (daily, due 07:00, ben's) last recorded for the day before yesterday."""
    store = seeded(path)
    ops.edit_kpi(store, "Output", owner="ben", due=time(7, 0))
    ops.record(store, "Output", 105.0, TODAY - timedelta(days=2), TODAY)
    return store


def flags(app: TeamboardApp, name: str = "Output") -> str:
    return str(tile_named(app, name).flags_label.render())


async def test_a_due_time_turns_late_then_stale_with_no_write(store_path: Path) -> None:
    due_store(store_path)
    clock = StepClock(datetime(TODAY.year, TODAY.month, TODAY.day, 6, 59, 50))
    app = keeping_time(store_path, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot, app, 1)
        view = tile_named(app, "Output").view
        assert view is not None and view.status is Status.GREEN  # yesterday's is not due yet
        assert flags(app) == ""
        before, reloads = fingerprint(store_path), app.reloads

        clock.at(TODAY, 7, 0, 5)
        await until(pilot, lambda: "late 0 min · ben" in flags(app), what="late at 07:00")
        clock.at(TODAY, 7, 35, 10)
        await until(pilot, lambda: "late 35 min · ben" in flags(app), what="late 35 min")
        assert "◷ 1 late" in header_counts(app) and "✔ 1 green" in header_counts(app)
        view = tile_named(app, "Output").view
        assert view is not None and view.status is Status.GREEN  # late keeps its colour

        await pilot.press("h")  # the huddle's agenda lists the late KPI
        await until(pilot, lambda: screen_open(app.screen, HuddleScreen), what="the huddle")
        huddle = app.screen
        assert isinstance(huddle, HuddleScreen)
        await until(pilot, lambda: huddle.session is not None, what="its agenda")
        assert huddle.session is not None
        assert [(i.kind.value, i.name) for i in huddle.session.items] == [("late", "Output")]
        assert "late" in str(huddle.query_one("#progress", Label).render())
        huddle.ended = True  # leave without minutes: this test writes nothing
        huddle.dismiss()
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the board")

        clock.at(TOMORROW, 7, 0, 5)  # the next value is due too: stale
        await until(pilot, lambda: tile_named(app, "Output").view.status is Status.STALE,  # type: ignore[union-attr]
                    what="stale a day later")
        assert "late" not in flags(app) and "late" not in header_counts(app)
        assert fingerprint(store_path) == before and app.reloads == reloads


# --- an explanation: `t` in the huddle, the tile, the gate, and its end ---------------------------


def red_store(path: Path) -> Store:
    """Output red yesterday with no action: the huddle's gate stops on it."""
    store = seeded(path)
    ops.record(store, "Output", 80.0, YESTERDAY, TODAY)
    return store


async def test_t_explains_a_red_the_gate_opens_and_the_flag_returns_after(
    store_path: Path,
) -> None:
    red_store(store_path)
    clock = StepClock(datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0))
    app = keeping_time(store_path, clock, huddle=True)
    async with app.run_test(size=(120, 40)) as pilot:
        huddle = app.screen
        assert isinstance(huddle, HuddleScreen)
        await until(pilot, lambda: huddle.item is not None and app.settled(), what="the item")
        assert huddle.blocked()
        await pilot.press("t")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the explain form")
        form = app.screen
        assert isinstance(form, FormScreen)
        labels = " ".join(str(lb.render()) for lb in form.query(".field-label").results(Label))
        assert "empty: Sat 21 Nov" in labels  # the default: the end of the next period
        form.query_one("#field-why", Input).value = "Filler jammed; the vendor comes Monday"
        form.query_one("#field-until", Input).value = "+3"
        await pilot.pause()
        assert form.valid
        await pilot.click("#save")
        await until(pilot, lambda: not huddle.blocked() and app.settled(), what="the gate open")
        assert not huddle.gate.display
        item = huddle.item
        assert huddle.session is not None and item is not None
        assert huddle.session.has_note(item.kpi)  # the minutes say it was explained
        huddle.ended = True
        huddle.dismiss()
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the board")
        await until(pilot, lambda: bool(tiles(app)), what="the tile")
        await until(pilot, lambda: "explained: Filler jammed; the vendor comes Monday (until Mon)"
                    in flags(app), what="the tile's explanation")
        assert "red, no action" not in flags(app)
        await pilot.press("h")  # the next huddle does not stop on it again
        await until(pilot, lambda: screen_open(app.screen, HuddleScreen), what="a new huddle")
        again = app.screen
        assert isinstance(again, HuddleScreen) and again is not huddle
        await until(pilot, lambda: again.item is not None, what="its first item")
        assert not again.blocked() and not again.gate.display
        again.ended = True
        again.dismiss()
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the board")
        before = fingerprint(store_path)

        clock.at(TODAY + timedelta(days=4), 0, 0, 5)  # Tuesday: the explanation has ended
        await until(pilot, lambda: "red, no action" in flags(app) or "stale" in flags(app),
                    what="the flag back")
        assert "explained" not in flags(app)
        assert fingerprint(store_path) == before
    snap = Store(store_path).read()
    (why,) = snap.explanations[snap.kpi_named("Output").id]
    assert why.until == TODAY + timedelta(days=3) and why.since == TODAY


async def test_explain_form_refuses_a_past_until(store_path: Path) -> None:
    red_store(store_path)
    app = keeping_time(store_path, StepClock(datetime(2026, 11, 20, 9, 0)), huddle=True)
    async with app.run_test(size=(120, 40)) as pilot:
        huddle = app.screen
        assert isinstance(huddle, HuddleScreen)
        await until(pilot, lambda: huddle.item is not None and app.settled(), what="the item")
        await pilot.press("t")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the explain form")
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-why", Input).value = "why"
        form.query_one("#field-until", Input).value = "2026-11-19"
        await pilot.pause()
        assert not form.valid


# --- a year of past daily data, as of its last day ----------------------------------------------


def year_store(path: Path) -> Store:
    """A year of daily values (2013) for five KPIs, all recorded today (an import): on 31 Dec
    one is green, one amber, one red, one late-free but stale, one with an estimate."""
    store = seeded(path)
    ops.add_kpi(store, "Yield", "Line", 95.0, amber=93.0)
    ops.add_kpi(store, "Scrap", "Line", 2.0, direction=Direction.DOWN)
    ops.add_kpi(store, "Audits", "Line", 1.0)
    rows = ["board,kpi,date,value"]
    for n in range(365):
        day = date(2013, 1, 1) + timedelta(days=n)
        rows += [
            f"Line,Output,{day},{101 + n % 3}",
            f"Line,Yield,{day},{94 if day == PAST else 96}",
            f"Line,Scrap,{day},{3 if day == PAST else 1.5}",
        ]
        if day < date(2013, 12, 20):
            rows.append(f"Line,Audits,{day},1")
    import_csv(store, "\n".join(rows) + "\n", TODAY)
    return store


async def test_a_year_as_of_its_last_day(store_path: Path) -> None:
    year_store(store_path)
    app = keeping_time(store_path, StepClock(datetime(2026, 11, 20, 9, 0)), as_of=PAST)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot, app, 4)
        statuses = {t.view.kpi.name: t.view.status for t in tiles(app) if t.view}
        assert statuses == {
            "Output": Status.GREEN,
            "Yield": Status.AMBER,
            "Scrap": Status.RED,
            "Audits": Status.STALE,
        }
        assert "red, no action" in flags(app, "Scrap")
        # Dates read against the board's day (the header names its year): Fri 20 Dec 2013.
        assert "stale since Fri 20 Dec" in flags(app, "Audits")
        counts = header_counts(app)
        for part in ("✔ 1 green", "▲ 1 amber", "✖ 1 red", "? 1 stale"):
            assert part in counts


# --- estimates before the work: the detail's chart and variance ---------------------------------


async def test_detail_draws_estimates_and_the_variance_against_them(store_path: Path) -> None:
    store = seeded(store_path)
    plans.plan(store, "Output", 110.0, YESTERDAY, by="ben")
    plans.plan(store, "Output", 108.0, TOMORROW, by="ben")  # a future period
    ops.record(store, "Output", 105.0, YESTERDAY, TODAY)
    app = keeping_time(store_path, StepClock(datetime(2026, 11, 20, 9, 0)))
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(pilot, app, 1)
        assert "plan 110" in flags_and_target(app)  # the tile holds it against the estimate
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, DetailScreen), what="the detail")
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await until(pilot, lambda: detail.chart.data is not None, what="the chart")
        assert detail.chart.data is not None
        assert detail.chart.data.estimates == ((YESTERDAY, 110.0), (TOMORROW, 108.0))
        numbers = str(detail.numbers.render())
        assert "plan 110" in numbers and "−5 (−4.5%)" in numbers and "estimated by ben" in numbers
        assert str(detail.entries.get_cell_at(Coordinate(0, 2))) == "110 (est. ben)"


def flags_and_target(app: TeamboardApp) -> str:
    return str(tile_named(app, "Output").target_label.render()) + " " + flags(app)


# --- targets in time ------------------------------------------------------------------------------


async def test_a_future_target_shows_beside_the_one_in_force(store_path: Path) -> None:
    store = seeded(store_path)
    ops.add_kpi(store, "OEE", "Line", 88.0, unit="%")
    ops.set_target(store, "OEE", 92.0, date(2027, 1, 1))
    ops.record(store, "Output", 101.0, YESTERDAY, TODAY)
    ops.set_target(store, "Output", 110.0, date(2026, 12, 1))
    app = keeping_time(store_path, StepClock(datetime(2026, 11, 20, 9, 0)))
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(pilot, app, 2)
        oee = tile_named(app, "OEE")
        await until(pilot, lambda: "target 88% · 92% from 1 Jan 2027" in str(
            oee.target_label.render()), what="the no-data tile's targets")
        out = str(tile_named(app, "Output").target_label.render())
        assert out.startswith("target 100 · 110 from 1 Dec") and "+1 (+1%)" in out
        view = tile_named(app, "Output").view
        assert view is not None and view.status is Status.GREEN  # against today's 100
        tile_named(app, "Output").focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, DetailScreen), what="the detail")
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await until(pilot, lambda: "110 from 1 Dec" in str(detail.numbers.render()),
                    what="the detail's targets")
