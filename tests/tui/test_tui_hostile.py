"""The app against hostile store text, values, dates and files (issue 7).

A teammate can write anything into the shared file. Here every text field holds markup and
control characters, numbers sit at the edges of a float, dates at the edges of the calendar,
and the file turns into something that is not a document at all. The app must show the text
literally, never crash, keep the last good data under a banner, and always quit on `q`.
Every wait is on a condition with a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY, screen_open, until
from textual.app import App, ComposeResult
from textual.command import CommandList, CommandPalette
from textual.content import Content
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Select, Static
from textual.widgets._toast import Toast

from store import Store, ops
from store.errors import StoreCorrupt
from store.model import Entry, Kpi, Target
from store.rules import view_kpis
from store.validate import printable
from tui.app import SLOW_READ_S, TeamboardApp
from tui.board_screen import BoardScreen
from tui.detail_screen import DetailScreen
from tui.forms import ActionForm, FormScreen
from tui.huddle_screen import HuddleScreen
from widgets.action_table import ActionTable
from widgets.banner import Banner
from widgets.board_header import BoardHeader
from widgets.kpi_tile import KpiTile
from widgets.trend_chart import ChartData, TrendChart
from widgets.trend_spark import SparkData, TrendSpark, spark_row
from widgets.wall_tile import WallTile

pytestmark = pytest.mark.anyio

NINE = datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0)

# Markup of every kind Textual knows, closing tags that close nothing, an action link, a
# variable, and a trailing backslash (which would escape whatever markup followed it).
MARKUP = "[b]x[/b] [/] [/foo] [@click=app.quit]q[/] [link='https://e.x']l[/link] [$accent]v \\"
CONTROL = "a\x1b[2Jb\x07c\u202ed\x9b"  # ESC, BEL, a right-to-left override, a C1 CSI
FIELDS = ("Board", "Kpi", "Unit", "Owner", "Goal", "Desc", "Note", "Title", "Who")


def hostile(field: str) -> str:
    return f"{field} {MARKUP} {CONTROL}"


def shown(field: str) -> str:
    """What the screen must say for `hostile(field)`: the same text, control characters visible."""
    return printable(hostile(field))




def clock() -> datetime:
    return NINE.astimezone()


def make_app(path: Path, **kw: Any) -> TeamboardApp:
    return TeamboardApp(path, clock=clock, **kw)


# --- building hostile stores ------------------------------------------------------------------


def rewrite(path: Path, change: Any) -> None:
    """Edit the file by hand, as a teammate with an editor would: no validation, one rename."""
    doc = json.loads(path.read_text())
    change(doc)
    tmp = path.with_name(".by-hand.tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, path)


def swap_strings(doc: Any, mapping: dict[str, str]) -> Any:
    if isinstance(doc, dict):
        return {k: swap_strings(v, mapping) for k, v in doc.items()}
    if isinstance(doc, list):
        return [swap_strings(v, mapping) for v in doc]
    if isinstance(doc, str):
        return mapping.get(doc, doc)
    return doc


def hostile_store(path: Path) -> Store:
    """A board, a red KPI with an entry, a note and an action; then every text made hostile."""
    store = Store(path)
    ops.init(store)
    ops.add_board(store, "BOARD")
    ops.add_kpi(store, "KPI", "BOARD", target=10.0, unit="UNIT", owner="OWNER", goal="GOAL",
                description="DESC")
    ops.record(store, "KPI", 5.0, TODAY - timedelta(days=1), TODAY, note="NOTE")
    ops.add_action(store, "TITLE", board="BOARD", kpi="KPI", owner="OWNER",
                   due=TODAY + timedelta(days=7))
    mapping = {f.upper(): hostile(f) for f in FIELDS}

    def change(doc: dict[str, Any]) -> None:
        new = swap_strings(doc, mapping)
        for table in ("entries", "actions", "kpis", "boards"):
            for d in new.get(table, {}).values():
                d["who"] = hostile("Who")
        new["meta"]["1"]["last_change"]["who"] = hostile("Who")
        doc.clear()
        doc.update(new)

    rewrite(path, change)
    return store


def plain(widget: Widget) -> str:
    return str(widget.render())


def literal_in(widget: Widget, text: str, whole: bool = False) -> None:
    """`text` is on `widget` as typed, with no style, link or action on any part of it; with
    `whole`, a style of the widget's own may cover all of it (the tile's dim unit)."""
    rendered = widget.render()
    assert isinstance(rendered, Content)
    start = rendered.plain.find(text)
    assert start >= 0, (text, rendered.plain)
    for span in rendered.spans:
        if whole and span.start <= start and span.end >= start + len(text):
            assert str(span.style) == "dim", span
            continue
        assert span.end <= start or span.start >= start + len(text), span
        assert "@click" not in str(span.style) and "link" not in str(span.style), span


def no_escapes(app: App[Any]) -> None:
    """Nothing from the store reaches the terminal as a control: what the screen would send,
    less Textual's own colours and cursor moves, holds no ESC, BEL, CSI or bidi override."""
    shot = app.export_screenshot()
    assert "\x1b" not in shot and "\x07" not in shot and "\u202e" not in shot
    sent = app.screen._compositor.render_full_update().render_segments(app.console)
    rest = re.sub(r"\x1b\[[0-9;:]*m|\x1b\[\d+;\d+H", "", sent)
    assert not [c for c in rest if c in "\x1b\x07\x9b\u202e"], rest[:200]


async def loaded(pilot: Pilot[Any], app: TeamboardApp, tiles: int = 1) -> None:
    await until(pilot, lambda: app.reloads >= 1, what="the first load")
    await until(
        pilot,
        lambda: len(list(app.screen.query(KpiTile))) == tiles
        and all(t.children for t in app.screen.query(KpiTile)),
        what=f"{tiles} tiles",
    )
    await pilot.pause()


def notices(app: App[Any]) -> list[str]:
    return [n.message for n in app._notifications]


async def toast_says(pilot: Pilot[Any], app: App[Any], text: str) -> None:
    """A notification says `text` literally: in the record and on a toast, with no link."""
    await until(pilot, lambda: any(text in m for m in notices(app)), what=f"a notice {text!r}")
    assert all(not n.markup for n in app._notifications)
    await until(pilot, lambda: any(text in plain(t) for t in app.screen.query(Toast)),
                what="the toast drawn")
    literal_in(next(t for t in app.screen.query(Toast) if text in plain(t)), text)


# --- store text is literal everywhere -----------------------------------------------------------


@pytest.mark.parametrize("wall", [False, True], ids=["laptop", "wall"])
async def test_board_shows_every_field_literally(store_path: Path, wall: bool) -> None:
    hostile_store(store_path)
    app = make_app(store_path, wall=wall)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot, app)
        tile = app.screen.query_one(KpiTile)
        literal_in(tile.query_one(".name", Label), shown("Kpi"))
        literal_in(tile.query_one(".unit" if wall else ".value", Label), shown("Unit"), whole=True)
        literal_in(tile.query_one(".meta", Label), shown("Owner"))
        header = app.screen.query_one(BoardHeader)
        literal_in(header.query_one(".title", Label), shown("Board"))
        literal_in(header.query_one(".changed", Label), shown("Who"))
        table = app.screen.query_one(ActionTable)
        row = table.get_row_at(0)
        assert row[2].plain.startswith(shown("Title")[:20])  # the title column is trimmed
        assert row[3].plain.startswith(shown("Kpi")[:6]) and row[4].plain.startswith("Own")
        assert all(not cell.spans for cell in row[2:5])
        no_escapes(app)
        assert app.is_running


async def test_detail_shows_every_field_literally(store_path: Path) -> None:
    hostile_store(store_path)
    app = make_app(store_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await loaded(pilot, app)
        app.screen.query_one(KpiTile).focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, DetailScreen), what="the detail")
        await pilot.pause()
        screen = app.screen
        literal_in(screen.query_one("#summary .title", Label), shown("Kpi"))
        literal_in(screen.query_one("#summary .title", Label), shown("Board"))
        literal_in(screen.query_one("#numbers", Label), shown("Unit"))
        about = screen.query_one("#about", Label)
        for field in ("Owner", "Goal", "Desc"):
            literal_in(about, shown(field))
        entry = screen.query_one("#entries", DataTable).get_row_at(0)
        assert entry[3].plain.startswith(shown("Note")[:30]) and not entry[3].spans
        assert entry[4].plain == shown("Who")
        no_escapes(app)
        assert app.is_running


async def test_palette_hits_are_literal_and_work(store_path: Path) -> None:
    hostile_store(store_path)
    app = make_app(store_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot, app)
        app.action_command_palette()
        await until(pilot, lambda: screen_open(app.screen, CommandPalette), what="the palette")

        def prompts() -> list[str]:
            options = app.screen.query_one(CommandList)
            return [str(options.get_option_at_index(i).prompt)
                    for i in range(options.option_count)]

        await pilot.press(*"kpi")
        await until(pilot, lambda: any(shown("Kpi") in p for p in prompts()), what="the KPI hit")
        hit = next(p for p in prompts() if shown("Kpi") in p)
        assert shown("Board") in hit
        options = app.screen.query_one(CommandList)
        for i in range(options.option_count):
            prompt = options.get_option_at_index(i).prompt
            assert isinstance(prompt, Content)
            for span in prompt.spans:
                assert "@click" not in str(span.style) and "link" not in str(span.style)
        options.highlighted = next(i for i, p in enumerate(prompts()) if p.startswith("KPI: "))
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, DetailScreen), what="the KPI opened")
        no_escapes(app)
        assert app.is_running


async def test_forms_show_labels_titles_choices_and_errors_literally(store_path: Path) -> None:
    hostile_store(store_path)
    app = make_app(store_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot, app)
        app.screen.query_one(KpiTile).focus()
        await pilot.press("r")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the record form")
        form = app.screen
        literal_in(form.query_one(".form-title", Label), shown("Kpi"))
        literal_in(form.query_one(".form-title", Label), shown("Unit"))
        value = form.query_one("#field-value", Input)
        value.value = MARKUP  # the message echoes what was typed
        await until(pilot, lambda: "not a number" in plain(form.query_one("#error-value")),
                    what="the error")
        literal_in(form.query_one("#error-value", Label), "[/] [/foo] [@click=app.quit]")
        assert form.query_one("#save", Button).disabled
        await pilot.press("escape")
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the board")

        app.screen.query_one(KpiTile).focus()
        await pilot.press("a")
        await until(pilot, lambda: screen_open(app.screen, ActionForm), what="the action form")
        form = app.screen
        assert form.query_one("#field-owner", Input).value == shown("Owner")  # visibly
        literal_in(form.query_one(".form-title", Label), shown("Board"))
        select = form.query_one("#field-kpi", Select)
        kpi = app.snapshot.kpi_named(hostile("Kpi")) if app.snapshot else None
        assert kpi is not None and select.value == kpi.id  # the choice is the KPI's id
        current = select.query_one("SelectCurrent Static#label", Static)
        literal_in(current, shown("Kpi"))
        no_escapes(app)
        await pilot.press("escape")
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the board")
        assert app.is_running


async def test_writes_on_a_hostile_kpi_say_what_happened_literally(store_path: Path) -> None:
    """Record on the hostile KPI: the notice names it as stored, control characters visible."""
    hostile_store(store_path)
    app = make_app(store_path)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        app.screen.query_one(KpiTile).focus()
        await pilot.press("r")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the record form")
        app.screen.query_one("#field-value", Input).value = "7"
        app.screen.query_one("#field-note", Input).value = MARKUP
        await until(pilot, lambda: not app.screen.query_one("#save", Button).disabled,
                    what="Save enabled")
        await pilot.click("#save")
        await until(pilot, lambda: bool(notices(app)), what="a notice")
        assert notices(app) == [f"Recorded {shown('Kpi')}: ✖ red"]
        await toast_says(pilot, app, f"Recorded {shown('Kpi')}: ✖ red")
        no_escapes(app)
        assert app.is_running


async def test_a_board_tree_thousands_of_levels_deep(store_path: Path) -> None:
    store = Store(store_path)
    ops.init(store)
    ops.add_board(store, "B1")

    def deepen(doc: dict[str, Any]) -> None:
        first = doc["boards"]["1"]
        for i in range(2, 1201):
            doc["boards"][str(i)] = {**first, "id": i, "name": f"B{i}", "parent": i - 1}
        doc["meta"]["1"]["seq"]["boards"] = 1200

    rewrite(store_path, deepen)
    app = make_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.reloads >= 1 and app.board_id == 1, what="the top board")
        assert app.boards_in_order() == list(range(1, 1201))
        await pilot.press("b")
        await until(pilot, lambda: app.board_id == 2, what="the next board")
        assert app.board_position() == "board 2 of 1200"
        assert app.is_running


# --- the crashes of issue 7 -------------------------------------------------------------------


def small_store(path: Path, kpi: str) -> Store:
    store = Store(path)
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, kpi, "Line", target=10.0, owner="ana")
    ops.record(store, kpi, 5.0, TODAY - timedelta(days=1), TODAY)
    return store


async def test_record_on_a_kpi_named_with_a_closing_tag(store_path: Path) -> None:
    small_store(store_path, "y[/]")
    app = make_app(store_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        app.screen.query_one(KpiTile).focus()
        await pilot.press("r")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the record form")
        app.screen.query_one("#field-value", Input).value = "12"
        await until(pilot, lambda: not app.screen.query_one("#save", Button).disabled,
                    what="Save enabled")
        await pilot.click("#save")
        await toast_says(pilot, app, "Recorded y[/]: ")
        snap = Store(store_path).read()
        assert [e.value for e in snap.entries[snap.kpi_named("y[/]").id]][-1] == 12.0
        await pilot.pause(0.2)
        assert app.is_running


async def test_an_action_titled_with_markup_is_added_and_shown(store_path: Path) -> None:
    small_store(store_path, "Output")
    title = "fix [/] [b]x[/b] [@click=app.quit]quit[/]"
    app = make_app(store_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        app.screen.query_one(KpiTile).focus()
        await pilot.press("a")
        await until(pilot, lambda: screen_open(app.screen, ActionForm), what="the action form")
        app.screen.query_one("#field-title", Input).value = title
        await until(pilot, lambda: not app.screen.query_one("#save", Button).disabled,
                    what="Save enabled")
        await pilot.click("#save")
        await toast_says(pilot, app, f": {title}")
        table = app.screen.query_one(ActionTable)
        await until(pilot, lambda: table.row_count == 1, what="the action in the list")
        assert table.get_row_at(0)[2].plain == title
        # A click on the toast only dismisses it: there is no link in it to follow.
        toast = app.screen.query(Toast).first()
        await pilot.click(toast)
        await pilot.pause(0.2)
        assert app.is_running


async def test_skip_in_the_huddle_on_a_kpi_named_with_a_bad_tag(store_path: Path) -> None:
    small_store(store_path, "x[/foo]")
    app = make_app(store_path, huddle=True)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await until(pilot, lambda: screen_open(app.screen, HuddleScreen)
                    and app.screen.session is not None, what="the huddle")
        huddle = app.screen
        assert isinstance(huddle, HuddleScreen)
        await until(pilot, lambda: huddle.blocked(), what="the gate")
        literal_in(huddle.query_one("#gate", Static), "x[/foo] is red")
        await pilot.press("S")
        await toast_says(pilot, app, "Skipped x[/foo]: it goes in the minutes.")
        literal_in(huddle.query_one("#wrapup", Static), "x[/foo]")
        await pilot.press("escape")
        await until(pilot, lambda: bool(Store(store_path).read().huddles), what="the minutes")
        assert app.is_running
    minutes = Store(store_path).read().huddles[0]
    assert minutes["skips"][0]["name"] == "x[/foo]"


async def test_attendance_with_markup_is_shown_and_kept(store_path: Path) -> None:
    small_store(store_path, "Output")
    app = make_app(store_path, huddle=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: screen_open(app.screen, HuddleScreen)
                    and app.screen.session is not None, what="the huddle")
        huddle = app.screen
        await pilot.press("w")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the form")
        app.screen.query_one("#field-attendees", Input).value = "[b]a[/b], [/], [@click=app.quit]"
        await until(pilot, lambda: not app.screen.query_one("#save", Button).disabled,
                    what="Save enabled")
        await pilot.click("#save")
        await until(pilot, lambda: app.screen is huddle, what="back in the huddle")
        literal_in(huddle.query_one("#attendance", Label), "[b]a[/b], [/], [@click=app.quit]")
        await pilot.press("escape")
        await until(pilot, lambda: bool(Store(store_path).read().huddles), what="the minutes")
        assert app.is_running
    assert Store(store_path).read().huddles[0]["attendees"][-3:] == [
        "[b]a[/b]", "[/]", "[@click=app.quit]"]


async def test_huddle_shows_every_field_literally(store_path: Path) -> None:
    hostile_store(store_path)
    rewrite(store_path, lambda d: d["actions"].clear())  # red with no action: on the agenda
    app = make_app(store_path, huddle=True)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: screen_open(app.screen, HuddleScreen)
                    and app.screen.item is not None, what="the first item")
        huddle = app.screen
        assert isinstance(huddle, HuddleScreen)
        literal_in(huddle.query_one("#title", Label), shown("Kpi"))
        literal_in(huddle.query_one("#progress", Label), shown("Board"))
        literal_in(huddle.query_one("#gate", Static), shown("Kpi"))
        literal_in(huddle.query_one("#numbers", Label), shown("Unit"))
        for field in ("Owner", "Goal"):
            literal_in(huddle.query_one("#about", Label), shown(field))
        literal_in(huddle.query_one("#notes", Static), shown("Note"))
        no_escapes(app)
        await pilot.press("S")
        await until(pilot, lambda: huddle.item is None, what="the wrap-up")
        literal_in(huddle.query_one("#wrapup", Static), shown("Kpi")[:12])
        no_escapes(app)
        await pilot.press("escape")
        await until(pilot, lambda: bool(Store(store_path).read().huddles), what="the minutes")
        assert app.is_running


async def test_huddle_forms_show_store_values_visibly(store_path: Path) -> None:
    """The owner and due form, the note form: prefilled store text never reaches the terminal."""
    hostile_store(store_path)
    app = make_app(store_path, huddle=True)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: screen_open(app.screen, HuddleScreen)
                    and app.screen.item is not None, what="the first item")
        huddle = app.screen
        huddle.query_one("#item-actions", ActionTable).focus()
        await pilot.press("e")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the edit form")
        assert app.screen.query_one("#field-owner", Input).value == shown("Owner")
        no_escapes(app)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is huddle, what="back in the huddle")
        await pilot.press("t")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the note form")
        literal_in(app.screen.query_one(".form-title", Label), shown("Kpi"))
        no_escapes(app)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is huddle, what="back in the huddle")
        assert app.is_running


# --- dates out of range -------------------------------------------------------------------------

BAD_DAYS = ["-1000000", "+9999999", "-" + "9" * 5000, "+" + "9" * 5000, "+²", "-²", "0000-01-01",
            "10000-01-01", "9999-12-32", MARKUP]


async def check_field(pilot: Pilot[Any], form: FormScreen, key: str, text: str) -> None:
    form.query_one(f"#field-{key}", Input).value = text
    error = form.query_one(f"#error-{key}", Label)
    await until(pilot, lambda: plain(error) != "", what=f"an error for {text[:20]!r}")
    assert "\n" not in plain(error).strip() and "Traceback" not in plain(error)
    assert form.query_one("#save", Button).disabled
    form.query_one(f"#field-{key}", Input).focus()
    await pilot.press("enter")  # submitting an invalid form moves on; it never saves


async def test_out_of_range_dates_are_one_line_in_the_forms(store_path: Path) -> None:
    small_store(store_path, "Output")
    app = make_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        app.screen.query_one(KpiTile).focus()
        await pilot.press("r")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the record form")
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-value", Input).value = "1"
        for text in BAD_DAYS:
            await check_field(pilot, form, "date", text)
        form.query_one("#field-date", Input).value = "-1000000"
        await until(pilot, lambda: "year 1" in plain(form.query_one("#error-date")),
                    what="the message about the year 1")
        await pilot.press("escape")
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the board")

        app.screen.query_one(KpiTile).focus()
        await pilot.press("a")
        await until(pilot, lambda: screen_open(app.screen, ActionForm), what="the action form")
        form = app.screen
        assert isinstance(form, ActionForm)
        form.query_one("#field-title", Input).value = "a title"
        for text in BAD_DAYS:
            await check_field(pilot, form, "due", text)
        form.query_one("#field-due", Input).value = "+9999999"
        await until(pilot, lambda: "year 9999" in plain(form.query_one("#error-due")),
                    what="the message about the year 9999")
        form.query_one("#field-due", Input).value = "+3"
        await until(pilot, lambda: not form.query_one("#save", Button).disabled, what="valid")
        await pilot.click("#save")
        await until(pilot, lambda: any(a.due == TODAY + timedelta(days=3)
                                       for a in Store(store_path).read().actions.values()),
                    what="the action due in 3 days")
        assert app.is_running
    assert Store(store_path).read().entries[1][-1].value == 5.0  # nothing recorded


async def test_huddle_due_date_form_refuses_out_of_range_dates(store_path: Path) -> None:
    small_store(store_path, "Output")
    ops.add_action(Store(store_path), "Fix it", board="Line", kpi="Output", owner="ana",
                   due=TODAY - timedelta(days=2))
    app = make_app(store_path, huddle=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: screen_open(app.screen, HuddleScreen)
                    and app.screen.item is not None, what="the first item")
        huddle = app.screen
        huddle.query_one("#item-actions", ActionTable).focus()
        await pilot.press("e")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the edit form")
        form = app.screen
        assert isinstance(form, FormScreen)
        for text in BAD_DAYS:
            await check_field(pilot, form, "due", text)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is huddle, what="back in the huddle")
        assert app.is_running


async def test_a_day_at_the_end_of_the_calendar_has_no_default_due_date(
    store_path: Path,
) -> None:
    small_store(store_path, "Output")
    app = TeamboardApp(store_path, clock=lambda: datetime(9999, 12, 30, 9).astimezone())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.reloads >= 1 and bool(app.screen.query(KpiTile)),
                    what="the board")
        app.screen.query_one(KpiTile).focus()
        await pilot.press("a")
        await until(pilot, lambda: screen_open(app.screen, ActionForm), what="the action form")
        assert app.screen.query_one("#field-due", Input).value == ""
        assert app.is_running


# --- times at the edges of the calendar ------------------------------------------------------


@pytest.fixture
def west_of_greenwich(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """New York time, where 0001-01-01T00:00Z is in the year 0 and `astimezone` overflows."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def test_timestamps_before_the_year_1_in_local_time(
    store_path: Path, west_of_greenwich: None
) -> None:
    small_store(store_path, "Output")

    def first_moment(doc: dict[str, Any]) -> None:
        doc["meta"]["1"]["last_change"]["at"] = "0001-01-01T00:00:00Z"
        for e in doc["entries"].values():
            e["at"] = "0001-01-01T00:00:00Z"

    rewrite(store_path, first_moment)
    app = make_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        header = app.screen.query_one(BoardHeader)
        await until(pilot, lambda: "0001-01-01" in plain(header.query_one(".changed")),
                    what="the stamp as stored")
        app.screen.query_one(KpiTile).focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, DetailScreen), what="the detail")
        row = app.screen.query_one("#entries", DataTable).get_row_at(0)
        assert row[5].plain == "0001-01-01T00:00:00Z"
        await pilot.pause(1.2)  # the header ticks once a second: it must keep ticking
        assert app.is_running


# --- extreme values ------------------------------------------------------------------------------

HUGE = [1e308, -1e308, float("inf"), float("-inf"), float("nan"), 5e-324, 0.0]


def kpi_with(values: list[float], target: float = 10.0) -> tuple[Kpi, list[Entry]]:
    kpi = Kpi(id=1, board=1, name="K", targets=(Target(target),), unit="u")
    start = TODAY - timedelta(days=len(values))
    entries = [Entry(id=i + 1, kpi=1, day=start + timedelta(days=i), value=v,
                     plan=v if i % 2 else None, note="n" if i % 3 == 0 else "")
               for i, v in enumerate(values)]
    return kpi, entries


class Widgets(App[None]):
    """The board's widgets alone, fed values no store may hold any more."""

    def __init__(self, kpi: Kpi, entries: list[Entry]) -> None:
        super().__init__()
        self.kpi, self.entries = kpi, entries

    def compose(self) -> ComposeResult:
        view = view_kpis([self.kpi], {1: self.entries}, [], {1: "B"}, TODAY)[0]
        yield KpiTile(view, id="small")
        yield WallTile(view, id="big")
        yield TrendSpark(id="tall")
        yield TrendChart()

    def on_mount(self) -> None:
        self.query_one("#tall", TrendSpark).styles.height = 4
        self.query_one(WallTile).styles.height = 12  # a wall's tile takes its cell's height
        self.query_one(TrendChart).data = ChartData(self.kpi, tuple(self.entries))


@pytest.mark.parametrize(
    ("values", "target"),
    [
        ([-1e308, 1e308], 10.0),  # issue 7: NaN in the sparkline, the variance and the trend
        ([1e308, 1e308], 1e308),
        ([1e308, -1e308, 1e308], -1e308),
        (HUGE, 10.0),
        ([float("nan")] * 3, float("nan")),
        ([1.0, 2.0], float("inf")),
    ],
)
async def test_widgets_draw_huge_and_non_finite_numbers(values: list[float], target: float) -> None:
    kpi, entries = kpi_with(values, target)
    app = Widgets(kpi, entries)
    async with app.run_test(size=(120, 60)) as pilot:
        spark = app.query_one("#tall", TrendSpark)
        spark.data = SparkData(tuple(values), target, tuple(v > 0 for v in values))
        await pilot.pause()
        shot = app.export_screenshot()  # every widget rendered, the chart drawn by plotext
        drawable = any(v == v and abs(v) != float("inf") for v in values)
        assert ("K&#160;(u)" if drawable else "no&#160;entry&#160;can&#160;be&#160;drawn") in shot
        for tile in app.query(KpiTile):
            for y in range(tile.query_one(TrendSpark).size.height):
                tile.query_one(TrendSpark).render_line(y)
        lines = [spark.render_line(y) for y in range(4)]
        assert len(lines) == 4
        assert app.is_running


@pytest.mark.parametrize("values", [HUGE, [1.0, 2.0, 3.0], []])
def test_the_sparkline_math_fills_every_row_without_an_app(values: list[float]) -> None:
    data = SparkData(tuple(values), 2.0, tuple(v > 0 for v in values))
    rows = [spark_row(data, 20, 4, y) for y in range(4)]
    assert all(sum(len(text) for text, _ in row) == 20 for row in rows)
    if not values:
        assert rows[-1] == [("·" * 20, "trend-spark--empty")]
    if values == [1.0, 2.0, 3.0]:  # tall: the target's row is dotted where a bar is lower
        assert any(part == "trend-spark--target" for row in rows for _, part in row)
    assert spark_row(data, 0, 4, 0) == []


def test_the_chart_keeps_the_calendar_edges_and_scales_huge_values() -> None:
    from widgets.trend_chart import plottable, unit_of

    _kpi, entries = kpi_with([1.0, 2.0, 3.0])
    edges = [Entry(9, 1, date(1, 1, 1), 1.0), Entry(10, 1, date(9999, 12, 31), 1.0),
             Entry(11, 1, TODAY, float("nan"))]
    assert plottable([*entries, *edges]) == entries
    assert unit_of([1.0, 1e11]) == 1.0
    assert unit_of([1.0, -1e308]) == 1e305
    assert unit_of([float("inf"), float("nan"), 3.0]) == 1.0


async def test_a_store_with_extreme_values_never_crashes_the_board(store_path: Path) -> None:
    """1e308 and -1e308 the day before: the store refuses them now, or the board draws them."""
    small_store(store_path, "K")
    ops.record(Store(store_path), "K", 6.0, TODAY, TODAY)

    def extreme(doc: dict[str, Any]) -> None:
        first, second = sorted(doc["entries"].values(), key=lambda e: e["date"])
        first["value"], second["value"] = -1e308, 1e308

    rewrite(store_path, extreme)
    app = make_app(store_path, huddle=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.reloads >= 1, what="the first load")
        await pilot.pause()
        if app.snapshot is None:  # refused: the banner says why
            assert app.banner is not None
        else:
            await until(pilot, lambda: screen_open(app.screen, HuddleScreen)
                        and app.screen.session is not None, what="the huddle")
        app.export_screenshot()
        await pilot.press("escape")
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the board")
        app.export_screenshot()
        assert app.is_running


# --- files that are not documents ------------------------------------------------------------


def banner_text(app: TeamboardApp) -> str:
    banner = app.screen.query_one(Banner)
    return plain(banner) if banner.has_class("-shown") else ""


def demo(path: Path) -> None:
    from store.demo import build

    build(Store(path), TODAY)


MALFORMED = [
    {"meta": {"1": {"schema": "x"}}},
    {"meta": {"1": {"schema": 2}}, "entries": []},
    [],
    "a string",
    {"meta": {"1": {"schema": 2, "last_change": {"who": 1}}}},
]


async def test_a_malformed_document_keeps_the_last_good_data(store_path: Path) -> None:
    demo(store_path)
    good = store_path.read_bytes()
    app = make_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 3)
        for n, doc in enumerate(MALFORMED):
            before = app.reloads
            tmp = store_path.with_name(f".bad{n}")
            tmp.write_text(json.dumps(doc))
            os.replace(tmp, store_path)
            await until(pilot, lambda b=before: app.reloads > b and banner_text(app) != "",  # type: ignore[misc]
                        timeout=10, what=f"the banner for {doc!r}")
            assert "Showing the last good data" in banner_text(app)
            assert len(list(app.screen.query(KpiTile))) == 3
            tmp.write_bytes(good)
            os.replace(tmp, store_path)
            await until(pilot, lambda: banner_text(app) == "", timeout=10, what="recovery")
        assert app.is_running


async def test_any_error_while_reading_is_a_banner_naming_its_type(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a broken document raises (not only a StoreError), the board goes on."""
    demo(store_path)
    app = make_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 3)

        def broken(self: Store, previous: object = None) -> object:
            raise KeyError("schema")

        monkeypatch.setattr(Store, "read", broken)
        app.request_reload()
        await until(pilot, lambda: "KeyError" in banner_text(app), what="the banner")
        assert "Showing the last good data" in banner_text(app)
        assert len(list(app.screen.query(KpiTile))) == 3
        monkeypatch.undo()
        app.request_reload()
        await until(pilot, lambda: banner_text(app) == "", what="recovery")
        assert app.is_running


async def test_a_read_that_never_returns_is_given_up_on(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read blocked for good (a FIFO, a hung mount) shows a banner; the next one recovers."""
    import threading

    demo(store_path)
    release = threading.Event()
    real = Store.read
    app = make_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 3)

        def stuck(self: Store, previous: Any = None) -> Any:
            release.wait(60)
            raise StoreCorrupt(str(self.path), "released")

        monkeypatch.setattr(Store, "read", stuck)
        app.request_reload()
        await until(pilot, lambda: "taken more than" in banner_text(app),
                    timeout=SLOW_READ_S + 5, what="the slow-read banner")
        assert len(list(app.screen.query(KpiTile))) == 3
        monkeypatch.setattr(Store, "read", real)
        app.request_reload()
        await until(pilot, lambda: banner_text(app) == "", what="recovery")
        release.set()  # the stale read comes back late: it must not bring the banner back
        await pilot.pause(0.3)
        assert banner_text(app) == ""
        assert app.is_running


async def test_a_big_file_gets_the_time_its_size_needs_before_it_is_called_stalled(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A million entries are over 100 MB: reading them is not a stalled mount. The slow-read
    banner waits `SLOW_READ_S` plus the file's size at `SLOW_READ_RATE`, and a big file that
    really hangs is still called out after that."""
    import threading

    import tui.app

    demo(store_path)
    monkeypatch.setattr(tui.app, "SLOW_READ_S", 0.2)
    # As if the file were big: its size needs one second more than SLOW_READ_S.
    monkeypatch.setattr(tui.app, "SLOW_READ_RATE", store_path.stat().st_size / 1.0)
    release = threading.Event()
    real = Store.read
    app = make_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 3)

        def slow(self: Store, previous: Any = None, **kw: Any) -> Any:
            release.wait(60)
            raise StoreCorrupt(str(self.path), "released")

        monkeypatch.setattr(Store, "read", slow)
        app.request_reload()
        first = app._slow
        await until(pilot, lambda: app._slow is not first, what="the timer given more time")
        assert banner_text(app) == ""  # past SLOW_READ_S: a small file would be called stalled
        await until(pilot, lambda: "taken more than" in banner_text(app), timeout=5,
                    what="the slow-read banner after the file's time")  # fmt: skip
        monkeypatch.setattr(Store, "read", real)
        app.request_reload()
        await until(pilot, lambda: banner_text(app) == "", what="recovery")
        release.set()
        assert len(list(app.screen.query(KpiTile))) == 3


def unblock(fifo: Path) -> None:
    """Open the FIFO for writing so a reader blocked on it (if any) can finish."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    os.close(fd)


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_device(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null


def make_folder(path: Path) -> None:
    path.mkdir()


def put(odd: Path, path: Path) -> None:
    """Move `odd` to `path` in one step where the file system allows it (not a folder)."""
    if odd.is_dir():
        path.unlink()
    os.replace(odd, path)


@pytest.mark.parametrize("make", [make_fifo, make_device, make_folder])
async def test_a_store_that_becomes_no_file_keeps_the_board_and_q_quits(
    store_path: Path, make: Any
) -> None:
    demo(store_path)
    good = store_path.read_bytes()
    odd = store_path.with_name("odd")
    make(odd)
    app = make_app(store_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(pilot, app, 3)
            put(odd, store_path)
            await until(pilot, lambda: banner_text(app) != "", timeout=SLOW_READ_S + 10,
                        what="the banner")
            assert len(list(app.screen.query(KpiTile))) == 3
            if make is make_fifo:
                unblock(store_path)
            if store_path.is_dir():
                store_path.rmdir()
            else:
                store_path.unlink()
            tmp = store_path.with_name(".good")
            tmp.write_bytes(good)
            os.replace(tmp, store_path)
            await until(pilot, lambda: banner_text(app) == "", timeout=10, what="recovery")
            make(odd)  # and again: this time, quit while the banner is up
            put(odd, store_path)
            await until(pilot, lambda: banner_text(app) != "", timeout=SLOW_READ_S + 10,
                        what="the banner again")
            await pilot.press("q")
            await until(pilot, lambda: not app.is_running, what="q to quit")
    finally:
        if store_path.exists() and stat.S_ISFIFO(store_path.lstat().st_mode):
            unblock(store_path)


async def test_ctrl_c_in_a_huddle_on_a_broken_store_still_quits(store_path: Path) -> None:
    """The minutes cannot be saved (the file is broken): the notice says so, and the app ends."""
    small_store(store_path, "Output")
    app = make_app(store_path, huddle=True)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await until(pilot, lambda: screen_open(app.screen, HuddleScreen)
                    and app.screen.session is not None, what="the huddle")
        before = app.reloads
        tmp = store_path.with_name(".broken")
        tmp.write_text('{"meta": {"1": {"schema": "x"}}}')
        os.replace(tmp, store_path)
        await until(pilot, lambda: app.reloads > before and app.banner is not None, timeout=10,
                    what="the banner")
        await pilot.press("ctrl+c")
        await until(pilot, lambda: not app.is_running, timeout=10, what="ctrl+c to quit")
    assert any(n.title == "Not saved" for n in app._notifications)


async def test_ctrl_c_in_a_huddle_saves_the_minutes(store_path: Path) -> None:
    small_store(store_path, "Output")
    app = make_app(store_path, huddle=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: screen_open(app.screen, HuddleScreen)
                    and app.screen.session is not None, what="the huddle")
        await pilot.press("ctrl+c")
        await until(pilot, lambda: not app.is_running, timeout=10, what="ctrl+c to quit")
    assert len(Store(store_path).read().huddles) == 1


# --- q and Ctrl+C end a real process whose store hangs ----------------------------------------

BLOCKING_RUN = """
import sys, threading
from pathlib import Path
from store.db import Store
from tui.app import TeamboardApp

never = threading.Event()
Store.read = lambda self, previous=None: never.wait()  # a read that never comes back
sys.exit(TeamboardApp(Path(sys.argv[1])).run() or 0)
"""


def run_in_pty(
    argv: list[str], key: bytes, then: Any = None, timeout: float = 20.0
) -> tuple[int, bytes]:
    """Start `argv` on a terminal, wait until it has drawn its footer, call `then()`, give the
    board time to notice, press `key`, and return its exit code; a process still running
    `timeout` seconds after the key fails the test."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none"}
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, cwd=Path(__file__).parents[2])
    os.close(slave)
    seen = b""

    def pump(until_s: float) -> None:
        nonlocal seen
        ready, _, _ = select.select([master], [], [], until_s)
        if ready:
            with contextlib.suppress(OSError):  # the child is gone: nothing more to read
                seen += os.read(master, 65536)

    try:
        deadline = time.monotonic() + timeout
        while b"Quit" not in seen and proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"no footer after {timeout} s: {seen[-400:]!r}")
            pump(0.1)
        if then is not None:
            then()
        deadline = time.monotonic() + SLOW_READ_S + 1  # long enough for the slow-read banner
        while time.monotonic() < deadline and proc.poll() is None:
            pump(0.1)
        os.write(master, key)
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"still running {timeout} s after {key!r}")
            pump(0.1)
        return proc.returncode, seen
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)


@pytest.mark.parametrize("key", [b"q", b"\x03"], ids=["q", "ctrl+c"])
def test_q_and_ctrl_c_end_a_board_whose_read_never_returns(store_path: Path, key: bytes) -> None:
    demo(store_path)
    code, seen = run_in_pty([sys.executable, "-c", BLOCKING_RUN, str(store_path)], key)
    assert code == 0, seen[-400:]


@pytest.mark.parametrize("key", [b"q", b"\x03"], ids=["q", "ctrl+c"])
def test_q_and_ctrl_c_end_a_board_whose_store_becomes_a_fifo(
    store_path: Path, key: bytes
) -> None:
    demo(store_path)
    fifo = store_path.with_name("fifo")
    os.mkfifo(fifo)
    teamboard = Path(sys.executable).with_name("teamboard")
    try:
        code, seen = run_in_pty([str(teamboard), "--store", str(store_path), "show"], key,
                                then=lambda: os.replace(fifo, store_path))
    finally:
        unblock(store_path)
    assert code == 0, seen[-400:]
