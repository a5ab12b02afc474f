"""What the command line does differently for a store that is not a file (PostgreSQL, issue 14):
`init` refuses a database that has a store already; the app follows a database by its URL
(`--as-of` too, read-only); `serve`, not ready there yet, says so in one line."""

from __future__ import annotations

from pathlib import Path

from store import ops
from store.errors import BadInput, StoreError

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


def refuse_screen(ctx: Ctx, command: str) -> None:
    """The live screens follow a file; on another engine they say so (exit 2)."""
    if not is_file(ctx):
        raise BadInput(
            f"`teamboard {command}` follows a store file; on {ctx.store.engine} it is not "
            "ready yet: use `teamboard status` (or `export`) for now"
        )


def app_store(ctx: Ctx) -> Path | str:
    """What the app opens: the file's path, or the database's URL (with its password)."""
    return ctx.store.path if is_file(ctx) else str(getattr(ctx.store, "url"))  # noqa: B009
