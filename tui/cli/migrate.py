"""`teamboard migrate --to STORE`: move a team's store to another engine (issue 14), e.g. a
file into PostgreSQL, keeping every document with who wrote it and when."""

from __future__ import annotations

from pathlib import Path

from store import pg
from store.errors import BadInput

from .base import Ctx, Sub, command, store_flag


def cmd_migrate(ctx: Ctx) -> int:
    from store.db import Store
    from store.pg.migrate import migrate

    to = ctx.args.to
    if not to or "\0" in to:
        raise BadInput("--to STORE names the new store: a file, or postgresql://HOST/DATABASE")
    if pg.is_url(to):
        target = pg.open_store(to, ctx.waiting, ctx.lock_timeout)
    else:
        target = Store(Path(to), on_wait=ctx.waiting, lock_timeout=ctx.lock_timeout)
    if str(target) == str(ctx.store):
        raise BadInput("--to names the store itself: name a new, empty store")
    counts = migrate(ctx.store, target)
    done = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    ctx.print(f"migrated {done or 'an empty store'} from {ctx.store} into {target}")
    ctx.print(f"use it with: teamboard {store_flag(str(target))}status")
    return 0


def register(sub: Sub) -> None:
    c = command(
        sub, "migrate",
        "copy the store, every entry and its history with who and when, into a new store "
        "(a file, or postgresql://...)",
        cmd_migrate,
    )  # fmt: skip
    c.add_argument("--to", required=True, metavar="STORE",
                   help="the new, empty store: a file path, or a postgresql:// URL")  # fmt: skip
