"""Where each kind of write's UI-loop gap goes: Textual's layout and render passes, traced.

    .venv/bin/python bench/gap_trace.py [--root .] [--entries 100000] [--repeats 1] [--wall]

A diagnosis, not a figure for the table (gap_cases.py gives those). It runs gap_cases' probe in
this process on a fresh store (bench/make_store.py), with code from ROOT, and times, per reload
and without a profiler: the board's refresh, the tiles' draws, the stylesheet's passes, each
layout pass (`Screen._refresh_layout`: `Compositor.reflow` arranges the whole screen, then
`render_update` renders every widget whose region changed) and which widget asked for each
layout (`messages.Layout`). Calls under 1 ms are left out; milliseconds from the reload's end.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CASES = ["value", "red", "green", "action", "tile+", "tile-"]
LOG: list[tuple[float, float, str, str]] = []  # (start, ms, what, case)


def timed(owner: Any, name: str, case: list[str], least: float = 0.001) -> None:
    """Wrap owner.name so each call over `least` s is logged under the current case."""
    fn = getattr(owner, name)
    if inspect.iscoroutinefunction(fn):

        async def wrapped_async(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return await fn(*a, **k)
            finally:
                if (d := time.perf_counter() - t) > least:
                    LOG.append((t, d * 1000, f"{owner.__name__}.{name} (async)", case[0]))

        setattr(owner, name, wrapped_async)
        return

    def wrapped(*a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            if (d := time.perf_counter() - t) > least:
                LOG.append((t, d * 1000, f"{owner.__name__}.{name}", case[0]))

    setattr(owner, name, wrapped)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=str(HERE.parent), help="the tree whose code runs")
    p.add_argument("--entries", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--wall", action="store_true", help="the wall board at 240x67")
    a = p.parse_args()
    sys.path.insert(0, a.root)
    sys.path.insert(0, str(HERE))
    import gap_cases
    from make_store import make_store
    from textual import messages
    from textual._compositor import Compositor
    from textual.css.stylesheet import Stylesheet
    from textual.screen import Screen

    from tui.app import TeamboardApp
    from tui.board_screen import BoardScreen
    from widgets.action_table import ActionTable
    from widgets.kpi_tile import KpiTile
    from widgets.wall_tile import WallTile

    names = ["first load", "warm-up"] + CASES * a.repeats
    case = ["first load"]
    loaded = TeamboardApp._loaded

    def on_loaded(self: TeamboardApp) -> None:
        case[0] = names[self.reloads] if self.reloads < len(names) else f"reload {self.reloads}"
        LOG.append((time.perf_counter(), 0.0, "----", case[0]))
        loaded(self)

    TeamboardApp._loaded = on_loaded  # type: ignore[method-assign]
    for owner, name in [
        (Screen, "_refresh_layout"), (Compositor, "reflow"), (Compositor, "render_update"),
        (Stylesheet, "update_nodes"), (BoardScreen, "refresh_board"),
        (BoardScreen, "_show_tiles"), (KpiTile, "_draw"), (ActionTable, "_fill"),
        (WallTile, "_draw"), (WallTile, "_arrange"), (BoardScreen, "_wall_columns"),
    ]:  # fmt: skip
        timed(owner, name, case)
    layout_init = messages.Layout.__init__

    def on_layout(self: messages.Layout, widget: Any) -> None:
        LOG.append((time.perf_counter(), 0.0, f"layout asked by {widget!r}"[:90], case[0]))
        layout_init(self, widget)

    messages.Layout.__init__ = on_layout  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(prefix="gap-trace-") as tmp:
        store = make_store(Path(tmp) / "store.json", a.entries)
        res = asyncio.run(gap_cases.probe(a.root, store, a.repeats, a.wall))
    print("gaps (ms):", {k: [round(x * 1000) for x in v["gap"]] for k, v in res.items()})
    t0 = 0.0
    for t, ms, what, c in LOG:
        if c == "first load":
            continue
        if what == "----":
            t0 = t
            print(f"---- {c}")
            continue
        print(f"{(t - t0) * 1000:8.1f} ms {ms:6.1f} ms  {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
