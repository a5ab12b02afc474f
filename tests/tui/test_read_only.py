"""A read-only app (`teamboard serve` without --allow-edits): every write refuses with one
notice, "read-only: <reason>", and the file is not touched (its bytes, inode and mtime)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import fingerprint, loaded, make_app, screen_open, tile_named, tiles, until

from store import Store, ops
from tui import flows
from tui.app import TeamboardApp
from tui.detail_screen import DetailScreen
from tui.forms import FormScreen
from tui.huddle_screen import HuddleScreen
from tui.read_only import ReadOnly, writes
from widgets.action_table import ActionTable

pytestmark = pytest.mark.anyio

REASON = "served read-only"
NOTICE = f"read-only: {REASON}"


def notices(app: object) -> list[str]:
    return [n.message for n in app._notifications]  # type: ignore[attr-defined]


@pytest.mark.parametrize("key", ["r", "a", "m", "d", "h"])
async def test_each_write_key_refuses_and_writes_nothing(demo_store: Store, key: str) -> None:
    before = fingerprint(demo_store.path)
    app = make_app(demo_store.path, read_only=REASON)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        if key in "md":  # on an open action, where the key would act
            table = app.screen.query_one(ActionTable)
            await until(pilot, lambda: table.row_count > 0, what="the action list")
            table.focus()
        else:
            tile_named(app, "On-time delivery").focus()
        await pilot.press(key)
        await until(pilot, lambda: NOTICE in notices(app), what="the read-only notice")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen | HuddleScreen)
        assert not flows.pending(app)
    assert fingerprint(demo_store.path) == before


async def test_a_write_started_another_way_is_refused_by_the_store(demo_store: Store) -> None:
    """A click or a key not in the list still meets `flows`' check, and under it the store,
    which refuses any transaction: two locks, the same notice, the file untouched."""
    before = fingerprint(demo_store.path)
    app = make_app(demo_store.path, read_only=REASON)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        snap = app.snapshot
        assert snap is not None
        action = next(a for a in snap.actions.values() if a.open)
        flows.move_stage(app, action.id)
        await until(pilot, lambda: NOTICE in notices(app) and not flows.pending(app),
                    what="the refusal")
        with pytest.raises(ReadOnly, match=NOTICE):
            ops.move_action(app.store, action.id)
    assert fingerprint(demo_store.path) == before


async def test_without_a_reason_the_app_writes_as_before(demo_store: Store, tmp_path: Path) -> None:
    app = make_app(demo_store.path)
    assert app.read_only is None
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        tile_named(app, "On-time delivery").focus()
        await pilot.press("r")
        await until(pilot, lambda: screen_open(app.screen, FormScreen), what="the record form")
        assert NOTICE not in notices(app)


def test_a_name_that_writes_on_one_screen_only_is_refused_there_only() -> None:
    class ActionScreen:  # the one opened action: `move` moves it a stage on
        pass

    class BoardScreen:  # the board: `move` moves the focus
        pass

    assert writes(ActionScreen(), "move") and writes(ActionScreen(), "done")
    assert not writes(BoardScreen(), "move") and not writes(BoardScreen(), "detail")
    assert writes(BoardScreen(), "record") and writes(object(), "undo")


async def test_reading_keys_still_work(demo_store: Store) -> None:
    """Arrows move between tiles, enter opens the detail: a read-only board is still browsable."""
    app = make_app(demo_store.path, read_only=REASON)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        first, second = tiles(app)[:2]
        first.focus()
        await pilot.press("right")
        await until(pilot, lambda: app.focused is second, what="the focus on the next tile")
        await pilot.press("enter")
        await until(pilot, lambda: screen_open(app.screen, DetailScreen), what="the detail")
        assert NOTICE not in notices(app)


async def test_the_palette_huddle_refuses_too(demo_store: Store) -> None:
    """A huddle writes its minutes: started from the palette, it refuses like `h`."""
    before = fingerprint(demo_store.path)
    app = make_app(demo_store.path, read_only=REASON)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        app.start_huddle()
        await until(pilot, lambda: NOTICE in notices(app), what="the read-only notice")
        assert not isinstance(app.screen, HuddleScreen)
    assert fingerprint(demo_store.path) == before


async def test_the_footer_leaves_out_the_write_keys(demo_store: Store) -> None:
    """They would only refuse; the keys that read stay."""

    async def shown(app: TeamboardApp) -> set[str]:
        async with app.run_test(size=(160, 40)) as pilot:
            await loaded(pilot, app)
            return {b.binding.key for b in app.screen.active_bindings.values()}

    writable = await shown(make_app(demo_store.path))
    read_only = await shown(make_app(demo_store.path, read_only=REASON))
    assert {"r", "a", "m", "h"} <= writable
    assert not {"r", "a", "m", "d", "h"} & read_only
    assert {"enter", "b", "q"} <= read_only
