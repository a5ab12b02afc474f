"""The loader process answers what `Store.read` answers, from a delta; killed, it comes back."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from conftest import TODAY, loaded, make_app, tile_named, tile_text, until

from store import Store, ops
from store.errors import StoreError
from store.loader import Reader, delta
from tui.loader import Loader


@pytest.fixture
def loader(demo_store: Store) -> Iterator[Loader]:
    it = Loader(demo_store)
    yield it
    it.close()


def on_tile(app: object, kpi: str, value: str) -> bool:
    return value in tile_text(tile_named(app, kpi))  # type: ignore[arg-type]


def hand_edit(path: Path, raw: dict[str, object]) -> None:
    tmp = path.with_name(".edit.tmp")
    tmp.write_bytes(orjson.dumps(raw))
    os.replace(tmp, path)


def age(path: Path, seconds: float = 60) -> None:
    """Make the file look untouched for a while: only then may its identity vouch for it."""
    then = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(then, then))


def test_the_loader_answers_what_store_read_answers(demo_store: Store, loader: Loader) -> None:
    age(demo_store.path)
    first = loader.read(None)
    assert first == demo_store.read()
    assert loader.read(first) is first  # the file did not change: nothing is read or sent
    ops.record(demo_store, "Scrap cost", 4.0, TODAY, TODAY)
    second = loader.read(first)
    assert second == demo_store.read()
    unchanged = next(k for k in first.entries if k != second.kpi_named("Scrap cost").id)
    assert second.entries[unchanged] is first.entries[unchanged]  # untouched lists are reused
    # A hand edit of an old entry, and one removed: not an append, so the whole file is checked.
    raw = orjson.loads(demo_store.path.read_bytes())
    keys = list(raw["entries"])
    raw["entries"][keys[0]]["value"] = 12345.0
    del raw["entries"][keys[1]]
    hand_edit(demo_store.path, raw)
    third = loader.read(second)
    assert third == demo_store.read()
    assert loader.starts == 1


def test_the_loader_parses_only_what_a_record_appended(demo_store: Store, loader: Loader) -> None:
    """The process reads a record's file from the bytes it appended (`store.reread`), and a
    hand edit of an old entry whole; every answer is `Store.read`'s."""
    last = loader.read(None)
    for value in (4.0, 5.0, 6.0):
        ops.record(demo_store, "Scrap cost", value, TODAY, TODAY, note='"},"entries":{"1":{}}')
        last = loader.read(last)
        assert last == demo_store.read()
    assert loader.how == "spliced"
    raw = orjson.loads(demo_store.path.read_bytes())
    next(iter(raw["entries"].values()))["value"] = 54321.0
    hand_edit(demo_store.path, raw)
    last = loader.read(last)
    assert last == demo_store.read()
    assert loader.how != "spliced"
    ops.record(demo_store, "Scrap cost", 7.0, TODAY, TODAY)
    assert loader.read(last) == demo_store.read()
    assert loader.how == "spliced"


def test_a_broken_file_is_the_same_error_and_the_next_good_one_is_read(
    demo_store: Store, loader: Loader
) -> None:
    good = loader.read(None)
    blob = demo_store.path.read_bytes()
    demo_store.path.write_bytes(b'{"meta": ')
    with pytest.raises(StoreError) as expected:
        demo_store.read()
    with pytest.raises(StoreError) as got:
        loader.read(good)
    assert str(got.value) == str(expected.value)
    demo_store.path.write_bytes(blob)
    assert loader.read(good) == demo_store.read()


def test_a_write_in_place_within_one_timestamp_tick_is_still_read(
    demo_store: Store, loader: Loader
) -> None:
    """Same inode, same size, same mtime (an editor writing in place within the filesystem's
    tick): the identity cannot tell, so a file changed just before a read is read again."""
    path = demo_store.path
    now = time.time_ns()
    os.utime(path, ns=(now, now))
    first = loader.read(None)
    raw = orjson.loads(path.read_bytes())
    board = next(iter(raw["boards"].values()))
    board["name"] = board["name"][::-1]  # the same length, so the same size
    blob = orjson.dumps(raw)
    with open(path, "r+b") as f:
        f.write(blob)
    os.utime(path, ns=(now, now))
    second = loader.read(first)
    assert second == demo_store.read()
    assert second != first


def test_a_killed_loader_is_started_again(demo_store: Store, loader: Loader) -> None:
    first = loader.read(None)
    assert loader.proc is not None
    pid = loader.proc.pid
    loader.proc.kill()
    loader.proc.wait()
    ops.record(demo_store, "Scrap cost", 5.0, TODAY, TODAY)
    again = loader.read(first)
    assert again == demo_store.read()
    assert loader.starts == 2
    assert loader.proc is not None and loader.proc.pid != pid


def test_the_reader_appends_only_new_entries_and_the_delta_names_them(
    demo_store: Store,
) -> None:
    reader = Reader(demo_store)
    first = reader.read()
    assert delta(None, first)[1] != []
    done = ops.record(demo_store, "Scrap cost", 6.0, TODAY, TODAY)
    second = reader.read()
    assert second == demo_store.read()
    removed, added = delta(first, second)
    assert (removed, [e.id for e in added]) == ([], [done.entry.id])


def test_an_id_appended_by_one_read_and_used_again_by_the_next_is_the_same_error(
    demo_store: Store,
) -> None:
    """The reader keeps the ids it has seen across appends: an entry appended in the last read
    whose id a hand edit then uses again is refused as `Store.read` refuses it."""
    reader = Reader(demo_store)
    reader.read()
    ops.record(demo_store, "Scrap cost", 6.0, TODAY, TODAY)
    reader.read()  # an append: its id joins those already seen
    raw = orjson.loads(demo_store.path.read_bytes())
    entries = raw["entries"]
    last = list(entries.values())[-1]
    entries[str(int(max(entries, key=int)) + 1)] = dict(last)  # the same "id" again
    hand_edit(demo_store.path, raw)
    with pytest.raises(StoreError) as here:
        demo_store.read()
    with pytest.raises(StoreError) as there:
        reader.read()
    assert str(there.value) == str(here.value)


@pytest.mark.anyio
async def test_the_board_follows_writes_through_the_loader_and_after_it_is_killed(
    demo_store: Store,
) -> None:
    app = make_app(demo_store.path)
    kpi = "On-time delivery"
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        assert app.loader is not None
        for value in ("91.5", "92.5"):
            await until(
                pilot,
                lambda: app.loader is not None and app.loader.proc is not None,
                what="the loader started",
            )
            ops.record(demo_store, kpi, float(value), TODAY, TODAY)
            await until(
                pilot,
                functools.partial(on_tile, app, kpi, value),
                timeout=10,
                what=f"{value} on the tile",
            )
            assert app.snapshot == demo_store.read()
            app.loader.proc.kill()  # type: ignore[union-attr]
        assert app.loader.starts == 2


@pytest.mark.anyio
async def test_the_board_shows_records_the_loader_read_from_their_bytes_alone(
    demo_store: Store,
) -> None:
    app = make_app(demo_store.path)
    kpi = "On-time delivery"
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        await until(
            pilot,
            lambda: app.loader is not None and app.loader.proc is not None,
            what="the loader started",
        )
        for value in ("91.5", "92.5", "93.5"):
            ops.record(demo_store, kpi, float(value), TODAY, TODAY)
            await until(
                pilot,
                functools.partial(on_tile, app, kpi, value),
                timeout=10,
                what=f"{value} on the tile",
            )
            assert app.snapshot == demo_store.read()
        assert app.loader is not None and app.loader.how == "spliced"
        assert app.loader.starts == 1
