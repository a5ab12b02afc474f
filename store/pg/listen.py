"""Following a PostgreSQL store: LISTEN on the store's channel, on the caller's asyncio loop.

Every write notifies channel `teamboard` (schema.sql's trigger, whoever writes). A listener
calls `changed()` once after every (re)connect (notifications sent while it was away are gone,
so it must assume it missed some), then once per notification; the caller coalesces bursts (the
app's `request_reload` merges the requests that come while a load runs). A lost connection (a
server restart) is retried every `RETRY_S` seconds until `stop` is set; `lost(reason)` is told
each time, so the app can say so while it keeps its last good data. Snapshots are read on
another connection: `notifies()` holds this one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

CHANNEL = "teamboard"
RETRY_S = 1.0
WAKE_S = 0.5  # how often a quiet listener looks at `stop`


async def follow_pg(
    url: str,
    changed: Callable[[], None],
    stop: asyncio.Event,
    lost: Callable[[str], None] | None = None,
    boards: Callable[[], set[int] | None] | None = None,
) -> None:
    """Call `changed()` after each (re)connect and each notification until `stop` is set.

    `boards()`, when given, names the boards the caller shows (None: all); a notification for
    another board is ignored (one for the store as a whole, an empty payload, never is).
    """
    import psycopg

    while not stop.is_set():
        try:
            conn = await psycopg.AsyncConnection.connect(
                url, autocommit=True, application_name="teamboard-listen"
            )
        except psycopg.OperationalError as exc:
            if lost is not None:
                lost(_first_line(exc))
            await _sleep_or_stop(stop, RETRY_S)
            continue
        try:
            async with conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                changed()  # whatever happened while not listening
                while not stop.is_set():
                    async for note in conn.notifies(timeout=WAKE_S):
                        shown = boards() if boards is not None else None
                        if shown is None or not note.payload or _board(note.payload) in shown:
                            changed()
                        if stop.is_set():
                            break
        except psycopg.OperationalError as exc:
            if lost is not None:
                lost(_first_line(exc))
            await _sleep_or_stop(stop, RETRY_S)


def _board(payload: str) -> int | None:
    try:
        return int(payload)
    except ValueError:
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
