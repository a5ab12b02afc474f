"""A follower's read on PostgreSQL, in one process (issue 14's write → tile): after each
`record` on a team board, the board's read and its views, three ways, interleaved:

- `full`: a fresh store, `read(scope=Scope.of([board]))` (what bench_pg.py's follower did);
- `full+previous`: a fresh store given the last snapshot (the app's read before
  store/pg/follow.py: a full scoped read that reuses decoded entries);
- `follow`: one store for the follower, `read(previous, scope=...)` (the app's read now:
  store/pg/follow.py reads what changed).

    .venv/bin/python bench/follow_read.py                      # 1,000 boards (a minute to fill)
    .venv/bin/python bench/follow_read.py --boards 100 --days 90 --repeats 20
    .venv/bin/python bench/follow_read.py --url URL            # a store bench/pg_fill.py made

Starts its own cluster (tests/pg_cluster.py, port 54373) unless given `--url`. Prints the
medians and the ratios; timings, never assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests"), str(ROOT)]

PORT = 54373


def measure(url: str, team: int, name: str, repeats: int) -> dict[str, list[float]]:
    from store import ops
    from store.pg import open_store
    from store.scope import Scope

    today = date.today()
    scope = Scope.of([team])
    follower = open_store(url)
    last = follower.read(scope=scope)
    prev_full = last
    out: dict[str, list[float]] = {"full": [], "full+previous": [], "follow": []}
    kinds = list(out)
    for i in range(repeats + 1):
        ops.record(open_store(url), "Output", float(1000 + i), today, today, board=name)
        for kind in kinds[i % 3 :] + kinds[: i % 3]:  # interleaved, each first in turn
            t0 = time.perf_counter()
            if kind == "full":
                snap = open_store(url).read(scope=scope)
            elif kind == "full+previous":
                snap = prev_full = open_store(url).read(prev_full, scope=scope)
            else:
                snap = last = follower.read(last, scope=scope)
            views = snap.views(team, today)
            took = time.perf_counter() - t0
            assert any(v.history and v.history[-1].value == 1000 + i for v in views), kind
            if i:  # the first round warms up
                out[kind].append(took)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a store bench/pg_fill.py filled (else a cluster of our own)")
    ap.add_argument("--boards", type=int, default=1000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--port", type=int, default=PORT)
    a = ap.parse_args()
    if a.url:
        import psycopg

        with psycopg.connect(a.url) as conn:
            got = conn.execute(
                "SELECT b.id, b.name FROM boards b WHERE NOT EXISTS "
                "(SELECT 1 FROM boards c WHERE c.parent = b.id) ORDER BY b.id LIMIT 1"
            ).fetchone()
        assert got is not None, "no team board"
        return report(measure(a.url, int(got[0]), str(got[1]), a.repeats))
    import psycopg
    from pg_cluster import cluster
    from pg_fill import fill, plan

    from store import ops
    from store.pg import open_store

    org = plan(a.boards, 8, a.days, date.today())
    with cluster(a.port) as c:
        with psycopg.connect(c.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        url = c.url("bench")
        ops.init(open_store(url))
        with psycopg.connect(url) as conn:
            fill(conn, org)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        team = org.teams[0]
        return report(measure(url, team, org.name(team), a.repeats))


def report(out: dict[str, Any]) -> int:
    import os

    med = {k: statistics.median(v) for k, v in out.items()}
    for k, v in med.items():
        print(f"{k:>14}: median {v * 1000:6.1f} ms  (n={len(out[k])})")
    print(f"ratio full / follow: {med['full'] / med['follow']:.1f}x; "
          f"full+previous / follow: {med['full+previous'] / med['follow']:.1f}x; "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
