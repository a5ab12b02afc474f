"""What the command line does differently for a store that is not a file (PostgreSQL, issue 14):
`init` refuses a database that has a store already; the app follows a database by its URL
(`--as-of` and `serve` too: `app_store`)."""

from __future__ import annotations

from pathlib import Path

from store import ops
from store.errors import StoreError

from .base import Ctx


def is_file(ctx: Ctx) -> bool:
    return ctx.store.engine == "file"


def init(ctx: Ctx) -> int:
    """`teamboard init` on a database: create the schema (refusing an existing store)."""
    shown = str(ctx.store)
    if ctx.store.exists():
        raise StoreError(
            f"{shown} has a teamboard store already; teamboard will not create it again. Name "
            "another database with --store, or use this one as it is"
        )
    if ctx.args.demo:
        from store.demo import build

        build(ctx.store, ctx.today)
        ctx.print(f"created a demo store at {shown}")
    else:
        ops.init(ctx.store)
        ctx.print(f"created an empty store at {shown}")
    ctx.print(f"next: teamboard {ctx.store_flag()}board add NAME")
    return 0


def app_store(ctx: Ctx) -> Path | str:
    """What the app opens: the file's path, or the database's URL (with its password)."""
    return ctx.store.path if is_file(ctx) else str(getattr(ctx.store, "url"))  # noqa: B009
