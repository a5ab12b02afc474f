"""One browser tab's board: the app that `teamboard serve` runs per tab, under textual-serve.

Not for people: `teamboard serve` checked every value before it started serving, and passes
them here quoted. `--read-only REASON` makes every write refuse with "read-only: REASON".
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tui.serve_child")
    p.add_argument("--store", required=True)
    p.add_argument("--board")
    p.add_argument("--wall", action="store_true")
    p.add_argument("--rotate", type=float, default=0.0)
    p.add_argument("--poll", action="store_true")
    p.add_argument("--read-only", dest="read_only")
    a = p.parse_args(argv)

    from tui.app import TeamboardApp

    app = TeamboardApp(
        Path(a.store), a.board, wall=a.wall, rotate=a.rotate, poll=a.poll, read_only=a.read_only
    )
    app.run()
    return int(app.return_code or 0)


if __name__ == "__main__":
    sys.exit(main())
