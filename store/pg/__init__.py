"""The PostgreSQL engine (issue 14). This package's `__init__` stays free of the driver: the
command line asks `is_url` for every store, and psycopg costs ~230 ms to import."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..db import Store

SCHEMES = ("postgresql://", "postgres://")


def is_url(name: str | None) -> bool:
    """Does this store name (`--store`, `$TEAMBOARD_STORE`) select PostgreSQL?"""
    return name is not None and name.lower().startswith(SCHEMES)


def open_store(
    url: str,
    on_wait: Callable[[str], None] | None = None,
    lock_timeout: float = 120.0,
    refuse: str | None = None,
) -> Store:
    """The PostgreSQL store at `url` (imports the driver); a one-line error without it.
    With `refuse` (why), every write raises `StoreReadOnly(refuse)` and writes nothing."""
    from ..errors import StoreError

    try:
        from .engine import PgStore
    except ImportError as exc:
        # psycopg missing, or present without libpq ("no pq wrapper available").
        if exc.name in ("psycopg", "psycopg_binary", "psycopg_c") or "pq wrapper" in str(exc):
            raise StoreError(
                "a PostgreSQL store needs the driver and libpq: pip install 'teamboard[pg]' "
                "(and the system's libpq, e.g. Debian's libpq5)"
            ) from None
        raise
    return PgStore(url, on_wait=on_wait, lock_timeout=lock_timeout, refuse=refuse)
