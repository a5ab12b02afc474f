"""The PostgreSQL engine (issue 14). This package's `__init__` stays free of the driver: the
command line asks `is_url` for every store, and psycopg costs ~230 ms to import."""

from __future__ import annotations

import sys
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
    from importlib.util import find_spec

    try:
        found = find_spec("psycopg") is not None
    except ValueError:  # in sys.modules without a spec (a test's stand-in)
        found = "psycopg" in sys.modules and sys.modules["psycopg"] is not None
    if not found:
        from .refusals import no_driver

        raise no_driver(ImportError(name="psycopg"))
    from .engine import PgStore  # psycopg itself loads when first used (`engine.driver`)

    return PgStore(url, on_wait=on_wait, lock_timeout=lock_timeout, refuse=refuse)
