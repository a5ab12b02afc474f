"""Where the issues meet in the app: a read-only board (served, or as of a past day) refuses
issue 10's keys too (escalate, answer, take over, review) with one notice each, and an as-of
board draws its roll-up and tree from that day's store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import TODAY, fingerprint, loaded, make_app, screen_open, until

from store import Store
from store.present import as_of_text
from tui import flows
from tui.calendar_screen import CalendarScreen
from tui.forms import FormScreen
from tui.huddle_screen import HuddleScreen

pytestmark = pytest.mark.anyio

PAST = TODAY - timedelta(days=2)  # the demo's escalations were raised that afternoon


def notices(app: object) -> list[str]:
    return [n.message for n in app._notifications]  # type: ignore[attr-defined]


MODES: dict[str, dict[str, object]] = {
    "served": {"read_only": "served read-only"},
    "as of": {"as_of": PAST},
}


def _notice(mode: str) -> str:
    return "read-only: " + ("served read-only" if mode == "served" else as_of_text(PAST))


@pytest.mark.parametrize("mode", sorted(MODES))
async def test_issue_10s_keys_refuse_on_a_read_only_board(demo_store: Store, mode: str) -> None:
    before = fingerprint(demo_store.path)
    notice = _notice(mode)
    app = make_app(demo_store.path, **MODES[mode])
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await loaded(pilot, app)
        snap = app.snapshot
        assert snap is not None
        app.show_board(snap.board_named("Assembly").id)  # escalations wait here (y, o)
        await until(pilot, lambda: app.board_title().endswith("Assembly"), what="Assembly")
        await pilot.pause()
        for n, key in enumerate(["u", "y", "o", "v"], start=1):
            await pilot.press(key)
            await until(pilot, lambda n=n: notices(app).count(notice) == n,  # type: ignore[misc]
                        what=f"the notice for {key}")  # fmt: skip
            await pilot.pause()
            assert not isinstance(app.screen, FormScreen), key
            assert not flows.pending(app)
        assert set(notices(app)) == {notice}  # one notice each, nothing else said
        # The calendar only reads: it opens.
        await pilot.press("c")
        await until(pilot, lambda: screen_open(app.screen, CalendarScreen), what="the calendar")
    assert fingerprint(demo_store.path) == before


async def test_a_past_huddle_refuses_escalate_answer_take_and_explain(demo_store: Store) -> None:
    before = fingerprint(demo_store.path)
    notice = _notice("as of")
    app = make_app(demo_store.path, as_of=PAST, huddle=True)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await until(pilot, lambda: screen_open(app.screen, HuddleScreen), what="the huddle")
        await until(pilot, lambda: app.reloads >= 1, what="the first load")
        for n, key in enumerate(["u", "y", "o", "t"], start=1):
            await pilot.press(key)
            await until(pilot, lambda n=n: notices(app).count(notice) == n,  # type: ignore[misc]
                        what=f"the notice for {key}")  # fmt: skip
            await pilot.pause()
            assert not isinstance(app.screen, FormScreen), key
    assert fingerprint(demo_store.path) == before


async def test_an_as_of_board_rolls_up_and_draws_its_tree_from_that_day(
    demo_store: Store,
) -> None:
    """Three days ago: the department was not reviewed yet and no escalation was raised; the
    goals were there (the tree shows them)."""
    from textual.widgets import Tree

    from tui.tree_screen import TreeScreen
    from widgets.escalation_table import EscalationBox

    app = make_app(demo_store.path, as_of=TODAY - timedelta(days=3))
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await loaded(pilot, app)
        snap = app.snapshot
        assert snap is not None and snap.goals and snap.reviews
        app.show_board(snap.board_named("Assembly").id)
        await until(pilot, lambda: app.board_title().endswith("Assembly"), what="Assembly")
        header = app.screen.header  # type: ignore[attr-defined]
        await until(pilot, lambda: header.data is not None and header.data.review
                    == "never reviewed", what="the department's review as of then")  # fmt: skip
        assert app.screen.query_one(EscalationBox).lines == ()
        await pilot.press("t")
        await until(pilot, lambda: screen_open(app.screen, TreeScreen), what="the tree")
        tree = app.screen.query_one("#kpi-tree", Tree)

        def labels() -> str:
            out, stack = [], [tree.root]
            while stack:
                node = stack.pop()
                out.append(str(node.label))
                stack.extend(node.children)
            return "\n".join(out)

        await until(pilot, lambda: "Deliver every order on the promised day" in labels(),
                    what="a goal in the tree")  # fmt: skip
