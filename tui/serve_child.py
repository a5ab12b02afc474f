"""One browser tab's board: the app that `teamboard serve` runs per tab, under textual-serve.

Not for people: `teamboard serve` checked every value before it started serving, and passes
them here quoted. `--read-only REASON` makes every write refuse with "read-only: REASON".
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.app import TeamboardApp


def main(argv: Sequence[str] | None = None) -> int:
    app = app_of(argv)
    app.run()
    return int(app.return_code or 0)


def app_of(argv: Sequence[str] | None = None) -> TeamboardApp:
    """The tab's app, as the server's command line asks for it."""
    p = argparse.ArgumentParser(prog="python -m tui.serve_child")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--store")
    where.add_argument("--store-from-env", action="store_true", help="a database's URL")
    p.add_argument("--board")
    p.add_argument("--wall", action="store_true")
    p.add_argument("--rotate", type=float, default=0.0)
    p.add_argument("--poll", action="store_true")
    p.add_argument("--read-only", dest="read_only")
    p.add_argument("--parent", type=int, help="the server's pid: end when it does")
    a = p.parse_args(argv)

    if a.parent is not None:
        end_with(a.parent)
    from tui.app import TeamboardApp
    from tui.serve import STORE_ENV

    store: Path | str = os.environ.get(STORE_ENV, "") if a.store_from_env else Path(a.store)
    return TeamboardApp(
        store, a.board, wall=a.wall, rotate=a.rotate, poll=a.poll, read_only=a.read_only
    )


def end_with(parent: int) -> None:
    """Die with the server, however it ends: a tab's app left behind would spin on its closed
    pipes (seen: 100% of a core each). Linux tells us at once; elsewhere a thread looks."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="teamboard-parent", daemon=True).start()
    if os.getppid() != parent:  # it died before we asked: nobody will read this app
        sys.exit(0)


if __name__ == "__main__":
    sys.exit(main())
