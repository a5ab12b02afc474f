"""Following the store file for changes made by any process.

watchfiles watches the store's *folder*, filtered on the file's name: a watch on the file itself
dies after the first atomic rename (watchfiles issue 127). The default 1,600 ms debounce would
leave the wall board behind; 50 ms keeps it within a blink while still merging a burst.
`--poll` is for network filesystems, where inotify sees nothing from other hosts; it compares
(inode, mtime_ns, size) itself, because watchfiles' polling sees only whole seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path

DEBOUNCE_MS = 50
STEP_MS = 10
POLL_SECONDS = 0.5


def fingerprint(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


async def follow_store(
    path: Path, changed: Callable[[], None], stop: asyncio.Event, poll: bool = False
) -> None:
    """Call `changed()` (on this event loop) after each burst of changes to `path`."""
    if poll:
        await _poll(path, changed, stop)
        return
    from watchfiles import awatch

    name = path.name

    def only_the_store(_change: object, changed_path: str) -> bool:
        return os.path.basename(changed_path) == name

    while not stop.is_set():
        if not path.parent.is_dir():
            # The folder itself is gone: wait for it to come back rather than die.
            await _sleep_or_stop(stop, 1.0)
            if path.parent.is_dir():
                changed()
            continue
        try:
            async for _ in awatch(
                path.parent,
                watch_filter=only_the_store,
                debounce=DEBOUNCE_MS,
                step=STEP_MS,
                recursive=False,
                stop_event=stop,
                rust_timeout=1000,
                yield_on_timeout=False,
            ):
                changed()
        except FileNotFoundError:
            continue


async def _poll(path: Path, changed: Callable[[], None], stop: asyncio.Event) -> None:
    last = fingerprint(path)
    while not stop.is_set():
        await _sleep_or_stop(stop, POLL_SECONDS)
        now = fingerprint(path)
        if now != last:
            last = now
            changed()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
