"""The huddle: its agenda and log without a screen, then the whole flow through the pilot.

The demo store is built for TODAY and the clock is frozen (or stepped by hand); every wait is on
a condition with a deadline. Line 2 Assembly is the board with red KPIs: Scrap cost (red, with an
action), First-pass yield (red, no action: the gate), Changeover time (stale).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import TODAY, screen_open, until
from textual.pilot import Pilot
from textual.widgets import Input, Label, Static

from store import Store, ops
from store import huddle as hd
from store.errors import BadInput
from store.huddle import AgendaItem, HuddleLog, ItemKind, Outcome
from store.model import Stage
from store.rules import KpiView
from store.snapshot import Snapshot
from tui import cli
from tui.app import TeamboardApp
from tui.board_screen import BoardScreen
from tui.forms import ActionForm, FormScreen
from tui.huddle_screen import HuddleScreen
from widgets.action_table import ActionTable

# anyio (a dependency of Textual) brings the pytest plugin that runs the coroutines.
pytestmark = pytest.mark.anyio

LINE = "Line 2 Assembly"
NINE = datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0).astimezone()




# --- the agenda, pure -------------------------------------------------------------------------


def test_agenda_red_by_shortfall_then_stale_then_amber_then_overdue(demo_store: Store) -> None:
    snap = demo_store.read()
    line = snap.board_named(LINE).id
    items = hd.build_agenda(snap.views(line, TODAY), snap.actions_of(line), TODAY)
    assert [(i.kind, i.name) for i in items] == [
        (ItemKind.RED, "Scrap cost"),  # 62.5% over its target
        (ItemKind.RED, "First-pass yield"),  # 3.7% under
        (ItemKind.STALE, "Changeover time"),
    ]
    # Changeover time's overdue action #4 is reviewed with its KPI, not twice.
    ops_board = snap.board_named("Operations").id
    items = hd.build_agenda(snap.views(ops_board, TODAY), snap.actions_of(ops_board), TODAY)
    assert [(i.kind, i.name, i.action) for i in items] == [
        (ItemKind.AMBER, "On-time delivery", None),
        (ItemKind.OVERDUE, "Monthly complaint review with sales", 8),
    ]


def test_gate_blocks_only_a_red_kpi_without_action_or_note(demo_store: Store) -> None:
    snap = demo_store.read()
    views = {v.kpi.name: v for v in snap.views(snap.board_named(LINE).id, TODAY)}
    fpy = AgendaItem(ItemKind.RED, "First-pass yield", views["First-pass yield"].kpi.id)
    scrap = AgendaItem(ItemKind.RED, "Scrap cost", views["Scrap cost"].kpi.id)
    assert hd.blocks(fpy, views["First-pass yield"], noted=False)
    assert not hd.blocks(fpy, views["First-pass yield"], noted=True)
    assert not hd.blocks(scrap, views["Scrap cost"], noted=False)  # it has action #1
    stale = AgendaItem(ItemKind.STALE, "Changeover time", views["Changeover time"].kpi.id)
    assert not hd.blocks(stale, views["Changeover time"], noted=False)


def test_attendance_from_who_and_typed() -> None:
    who = (
        "ana      pts/0        2026-11-20 08:55 (10.0.0.7)\n"
        "ben      tty2         2026-11-20 06:01\n"
        "ana      pts/3        2026-11-20 09:00 (10.0.0.7)\n"
    )
    assert hd.parse_who(who) == ["ana", "ben"]
    assert hd.suggest_attendees("ben", hd.parse_who(who)) == ["ben", "ana"]
    assert hd.suggest_attendees("dara", []) == ["dara"]
    assert hd.parse_attendees(" ana, ben ,ana chen") == ["ana", "ben", "chen"]
    with pytest.raises(BadInput):
        hd.parse_attendees(" , ")
    with pytest.raises(BadInput):
        hd.parse_attendees("ana, b\x1bn")


def test_log_times_items_and_builds_the_minutes() -> None:
    items = [
        AgendaItem(ItemKind.RED, "A", 1, status="red"),
        AgendaItem(ItemKind.STALE, "B", 2, status="stale"),
        AgendaItem(ItemKind.OVERDUE, "Fix it", None, 7, status="overdue"),
    ]
    log = HuddleLog(2, "Line", "ana", NINE, 15, items, attendees=["ana", "ben"])
    log.show(0, NINE)
    log.skipped(items[0], "red with no countermeasure")
    log.show(1, NINE + timedelta(seconds=40))
    log.show(0, NINE + timedelta(seconds=70))  # back to A for 20 s more
    log.show(1, NINE + timedelta(seconds=90))
    log.noted(2, "B", "sensor broken")
    m = log.minutes(NINE + timedelta(minutes=16), TODAY)
    assert m["duration_s"] == 960 and m["timebox_min"] == 15
    assert [(i["name"], i["seconds"], i["outcome"]) for i in m["items"]] == [
        ("A", 60, "skipped"),
        ("B", 30 + 870, "noted"),
        ("Fix it", 0, "not reached"),
    ]
    assert log.remaining(NINE + timedelta(minutes=16)) == -60
    text = hd.markdown({**m, "id": 1})
    assert "# Huddle · Line · Fri 20 Nov 2026" in text
    assert "1:00 over" in text and "| 1 | A | red | 1:00 | skipped |" in text
    assert "## Skipped" in text and "## Notes" in text and "- B: sensor broken" in text
    assert "(2 of 3 reviewed)" in text


def test_markdown_keeps_store_text_in_its_cell() -> None:
    h = {"date": "2026-11-20", "board": "L|ne", "items": [
        {"kind": "red", "name": "a | b\nc", "status": "red", "seconds": 5, "outcome": "noted"}
    ], "notes": [{"name": "x", "text": "line one\nline two"}]}
    text = hd.markdown(h)
    assert "| 1 | a \\| b c | red | 0:05 | noted |" in text
    assert "- x: line one line two" in text


def test_timer_turns_amber_in_the_last_three_minutes() -> None:
    assert hd.amber_from(15 * 60) == 180
    assert hd.amber_from(5 * 60) == 60


# --- the screen, through the pilot ------------------------------------------------------------


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def step(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def stable_demo(path: Path) -> None:
    """The demo store, with the last change fixed (it carries the real clock and user)."""
    from store.demo import build

    build(Store(path), TODAY)
    raw = json.loads(path.read_text())
    raw["meta"]["1"]["last_change"] = {"who": "ana", "at": "2026-11-20T07:30:00Z", "what": "demo"}
    path.write_text(json.dumps(raw))


@pytest.fixture
def who(monkeypatch: pytest.MonkeyPatch) -> None:
    """The facilitator is dara; ben and dara are logged in."""
    monkeypatch.setattr("store.db.whoami", lambda: "dara")
    monkeypatch.setattr(hd, "logged_in", lambda: ["ben", "dara"])


def huddle_app(path: Path, clock: Callable[[], datetime] = lambda: NINE) -> TeamboardApp:
    return TeamboardApp(path, board=LINE, huddle=True, clock=clock)


def screen(app: TeamboardApp) -> HuddleScreen:
    assert isinstance(app.screen, HuddleScreen), app.screen
    return app.screen


def text(app: TeamboardApp, selector: str) -> str:
    widget = app.screen.query_one(selector)
    assert isinstance(widget, (Label, Static))
    return str(widget.render())


def current(app: TeamboardApp) -> str:
    item = screen(app).item
    return item.name if item else "wrap-up"


async def started(pilot: Pilot[int], app: TeamboardApp) -> None:
    await until(
        pilot,
        lambda: screen_open(app.screen, HuddleScreen) and app.screen.session is not None,
        what="the huddle to start",
    )
    await pilot.pause()


async def fill(pilot: Pilot[int], app: TeamboardApp, values: dict[str, str]) -> None:
    """Fill the form on top and save it."""
    await until(pilot, lambda: screen_open(app.screen, FormScreen), what="a form")
    form = app.screen
    for key, value in values.items():
        form.query_one(f"#field-{key}", Input).value = value
    await pilot.pause()
    assert isinstance(form, FormScreen) and form.valid, "the form should be valid"
    await pilot.click("#save")
    await until(pilot, lambda: screen_open(app.screen, HuddleScreen), what="the form to close")


async def test_the_whole_huddle(store_path: Path, who: None) -> None:
    stable_demo(store_path)
    clock = Clock(NINE)
    app = huddle_app(store_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app)
        s = screen(app)
        assert "1 of 3" in text(app, "#progress")
        assert current(app) == "Scrap cost"
        assert "Here (2): dara, ben" in text(app, "#attendance")
        assert "0:00 / 15:00" in text(app, "#timer")
        assert "owner dara" in text(app, "#about")
        assert not app.screen.query_one("#gate").display

        # Attendance: typed over the suggestion, deduplicated.
        await pilot.press("w")
        await fill(pilot, app, {"attendees": "dara, ben, chen, ben"})
        assert s.session is not None and s.session.attendees == ["dara", "ben", "chen"]

        clock.step(50)
        await pilot.press("n")
        assert current(app) == "First-pass yield"
        assert app.screen.query_one("#gate").display
        # The gate: n does not pass a red KPI without an action or a note.
        clock.step(20)
        await pilot.press("n")
        await pilot.pause()
        assert current(app) == "First-pass yield"
        assert "Not yet" in text(app, "#gate") and "a  add an action" in text(app, "#gate")
        await pilot.press("right")
        assert current(app) == "First-pass yield"

        # Add the countermeasure right there: the KPI's owner and a week from today by default.
        await pilot.press("a")
        await until(pilot, lambda: screen_open(app.screen, ActionForm), what="the action form")
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.value("owner") == "chen"
        assert form.value("due") == (TODAY + timedelta(days=7)).isoformat()
        await fill(pilot, app, {"title": "Quarantine the connector lot"})
        await until(
            pilot,
            lambda: app.snapshot is not None and any(
                a.title == "Quarantine the connector lot" for a in app.snapshot.actions.values()
            ),
            what="the new action in the snapshot",
        )
        await until(pilot, lambda: not app.screen.query_one("#gate").display, what="the gate")
        table = app.screen.query_one("#item-actions", ActionTable)
        assert table.row_count == 1
        clock.step(40)
        await pilot.press("n")
        assert current(app) == "Changeover time"

        # Quick edits on the stale KPI's actions: #4 (overdue, plan) is first.
        await until(pilot, lambda: table.selected_id == 4, what="action #4 selected")
        await pilot.press("m")
        await until(
            pilot,
            lambda: app.snapshot is not None and app.snapshot.actions[4].stage is Stage.DO,
            what="#4 moved to do",
        )
        await pilot.press("e")
        await fill(pilot, app, {"owner": "ana", "due": "2026-11-27"})
        await until(
            pilot,
            lambda: app.snapshot is not None and app.snapshot.actions[4].owner == "ana",
            what="#4's new owner",
        )
        await pilot.press("t")
        await fill(pilot, app, {"note": "Tablet arrives Monday; recording on paper until then."})
        await until(
            pilot,
            lambda: "Tablet arrives Monday" in text(app, "#notes"),
            what="the note on screen",
        )
        clock.step(90)
        await pilot.press("n")
        assert current(app) == "wrap-up"
        assert "3 of 3 reviewed" in text(app, "#progress")
        wrapup = text(app, "#wrapup")
        assert "action added" in wrapup and "Esc ends the huddle" in wrapup

        clock.step(10)
        await pilot.press("escape")
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the board")
        await until(pilot, lambda: bool(Store(store_path).read().huddles), what="the minutes")

    minutes = Store(store_path).read().huddles[-1]
    assert minutes["board"] == LINE and minutes["date"] == TODAY.isoformat()
    assert minutes["facilitator"] == "dara"
    assert minutes["attendees"] == ["dara", "ben", "chen"]
    assert minutes["duration_s"] == 210 and minutes["timebox_min"] == 15
    assert minutes["started"] == NINE.isoformat(timespec="seconds")
    assert [(i["name"], i["status"], i["seconds"], i["outcome"]) for i in minutes["items"]] == [
        ("Scrap cost", "red", 50, "reviewed"),
        ("First-pass yield", "red", 60, "action added"),
        ("Changeover time", "stale", 90, "noted"),
    ]
    acts = minutes["actions"]
    assert acts[0]["title"] == "Quarantine the connector lot"
    assert acts[0]["what"] == f"added (owner chen, due {(TODAY + timedelta(days=7)).isoformat()})"
    assert acts[1] == {"id": 4, "kpi": acts[1]["kpi"], "title": "Replace the broken line-side "
                       "tablet", "what": "plan → do"}
    assert acts[2]["what"] == "owner ben → ana; due 2026-11-19 → 2026-11-27"
    assert minutes["notes"][0]["name"] == "Changeover time"
    assert minutes["skips"] == []

    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["--store", str(store_path), "minutes", "--format", "json"], today=TODAY)
    assert code == 0
    printed = json.loads(out.getvalue())["huddles"]
    assert len(printed) == 1 and printed[0]["id"] == minutes["id"]
    assert printed[0]["items"] == minutes["items"]


async def test_an_explanation_opens_the_gate(store_path: Path, who: None) -> None:
    stable_demo(store_path)
    app = huddle_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app)
        await pilot.press("n", "n")
        assert current(app) == "First-pass yield"
        await pilot.press("t")
        await fill(pilot, app, {"why": "Waiting for the supplier's 8D; no action of ours yet."})
        await until(pilot, lambda: not app.screen.query_one("#gate").display, what="the gate")
        await pilot.press("n")
        assert current(app) == "Changeover time"
        await pilot.press("escape")
        await until(pilot, lambda: bool(Store(store_path).read().huddles), what="the minutes")
    snap = Store(store_path).read()
    fpy = snap.kpi_named("First-pass yield")
    (why,) = snap.explanations[fpy.id]  # `t` on a red KPI with no action explains it
    assert "supplier's 8D" in why.text and (why.since, why.until) == (TODAY, TODAY + timedelta(1))
    items = snap.huddles[-1]["items"]
    assert [i["outcome"] for i in items] == ["reviewed", "noted", "reviewed"]


async def test_skip_is_explicit_and_recorded(store_path: Path, who: None) -> None:
    stable_demo(store_path)
    app = huddle_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app)
        await pilot.press("n", "n", "n")
        assert current(app) == "First-pass yield"
        await pilot.press("S")
        assert current(app) == "Changeover time"
        await pilot.press("p")  # going back shows the gate again: still no countermeasure
        assert current(app) == "First-pass yield"
        assert app.screen.query_one("#gate").display
        await pilot.press("S", "escape")
        await until(pilot, lambda: bool(Store(store_path).read().huddles), what="the minutes")
    minutes = Store(store_path).read().huddles[-1]
    assert [s["name"] for s in minutes["skips"]] == ["First-pass yield", "First-pass yield"]
    assert minutes["items"][1]["outcome"] == Outcome.SKIPPED.value
    assert minutes["items"][2]["outcome"] == "reviewed"


async def test_huddle_from_the_board_and_live_changes(store_path: Path, who: None) -> None:
    """`h` on the board; a write by another process shows in the huddle at once."""
    stable_demo(store_path)
    app = TeamboardApp(store_path, board=LINE, clock=lambda: NINE)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.reloads >= 1, what="the first load")
        await pilot.pause()
        await pilot.press("h")
        await started(pilot, app)
        await pilot.press("n")
        assert app.screen.query_one("#gate").display
        ops.add_action(Store(store_path), "Sort the connector lot", board=LINE,
                       kpi="First-pass yield", owner="chen", due=date(2026, 11, 24))
        await until(pilot, lambda: not app.screen.query_one("#gate").display,
                    what="the other process's action to open the gate")
        await pilot.press("n")
        assert current(app) == "Changeover time"


async def test_each_board_is_evaluated_once_per_load(
    store_path: Path, who: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The board, the huddle's items, their counter-metrics and the ticks read the app's views:
    the rules run over a board once per load, however often the screens redraw."""
    stable_demo(store_path)
    built: list[tuple[int, int | None]] = []
    real = Snapshot.views

    def counted(
        snap: Snapshot, board_id: int | None, today: date, now: datetime | None = None
    ) -> list[KpiView]:
        built.append((id(snap), board_id))
        return real(snap, board_id, today, now)

    monkeypatch.setattr(Snapshot, "views", counted)
    app = TeamboardApp(store_path, board=LINE, clock=lambda: NINE)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.reloads >= 1, what="the first load")
        await pilot.press("h")
        await started(pilot, app)
        await pilot.press("n", "n", "p", "n", "S", "p", "n")
        app.request_reload()
        await until(pilot, lambda: app.reloads >= 2 and app.settled(), what="a second load")
        await pilot.press("n", "p")
        await pilot.pause(1.1)  # a tick of the timer and of the board's clock
        assert built, "the screens read views"
        assert len(built) == len(set(built)), built


async def test_timer_turns_amber_then_red(store_path: Path, who: None) -> None:
    stable_demo(store_path)
    clock = Clock(NINE)
    app = TeamboardApp(store_path, board=LINE, huddle=True, minutes=5, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app)
        timer = app.screen.query_one("#timer")
        clock.step(4 * 60 + 10)
        await until(pilot, lambda: timer.has_class("-amber"), what="amber")
        assert "0:50 left" in text(app, "#timer")
        clock.step(80)
        await until(pilot, lambda: timer.has_class("-red"), what="red")
        assert "0:30 over" in text(app, "#timer") and not timer.has_class("-amber")


async def test_overdue_action_item_and_done(store_path: Path, who: None) -> None:
    stable_demo(store_path)
    app = TeamboardApp(store_path, board="Operations", huddle=True, clock=lambda: NINE)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        assert "1 of 2" in text(app, "#progress")
        await pilot.press("n")
        assert "#8 Monthly complaint review" in text(app, "#title")
        assert "a board-level action" in text(app, "#numbers")
        await pilot.press("d")
        await until(pilot, lambda: app.snapshot is not None
                    and not app.snapshot.actions[8].open, what="#8 done")
        await pilot.press("n")
        assert current(app) == "wrap-up"


async def test_escape_at_once_after_a_write_keeps_it_in_the_minutes(
    store_path: Path, who: None
) -> None:
    stable_demo(store_path)
    app = huddle_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app)
        await pilot.press("n", "a")
        await until(pilot, lambda: screen_open(app.screen, ActionForm), what="the action form")
        app.screen.query_one("#field-title", Input).value = "Sort the lot"
        await pilot.press("enter", "escape")  # no wait for the write
        await until(pilot, lambda: bool(Store(store_path).read().huddles), what="the minutes")
    minutes = Store(store_path).read().huddles[-1]
    assert [a["title"] for a in minutes["actions"]] == ["Sort the lot"]
    assert minutes["items"][1]["outcome"] == "action added"


async def test_q_saves_the_minutes_then_quits(store_path: Path, who: None) -> None:
    stable_demo(store_path)
    app = huddle_app(store_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app)
        await pilot.press("q")
        await until(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert len(Store(store_path).read().huddles) == 1


async def test_a_store_without_boards_says_how_to_add_one(store_path: Path, who: None) -> None:
    ops.init(Store(store_path))
    app = huddle_app(store_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.reloads >= 1, what="the first load")
        await pilot.pause()
        assert "board add NAME" in text(app, "#wrapup")
        await pilot.press("escape")
        await until(pilot, lambda: screen_open(app.screen, BoardScreen), what="the board")
    assert Store(store_path).read().huddles == []


async def test_store_text_is_shown_literally(store_path: Path, who: None) -> None:
    store = Store(store_path)
    ops.init(store)
    ops.add_board(store, "[b]B[/b]")
    ops.add_kpi(store, "[red]Q[/]", "[b]B[/b]", target=10, owner="ana")
    ops.record(store, "[red]Q[/]", 5, TODAY - timedelta(days=1), TODAY,
               note="a [link=x]trap[/link] \x1b[2J here")
    app = TeamboardApp(store_path, huddle=True, clock=lambda: NINE)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app)
        assert "[red]Q[/]" in text(app, "#title")
        assert "[red]Q[/] is red with no countermeasure" in text(app, "#gate")
        assert "[b]B[/b]" in text(app, "#progress")
        assert "a [link=x]trap[/link] ␛[2J here" in text(app, "#notes")
