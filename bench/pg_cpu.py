"""CPU per operation on PostgreSQL (issue 14's write → tile at 200 writers is CPU queueing): the
client's and the server's CPU for one `ops.record` (what `teamboard record` runs, its status
line included) and for one follower's read + views, in one process, one at a time.

    .venv/bin/python bench/pg_cpu.py                       # 100 boards × 90 days, own cluster
    .venv/bin/python bench/pg_cpu.py --profile record      # and cProfile's top of the record

The server's CPU is the sum of utime + stime of the cluster's processes (/proc), before and
after; the client's is `time.process_time`. Timings, never assertions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests"), str(ROOT)]

PORT = 54377
TICK = os.sysconf("SC_CLK_TCK")


def server_cpu(uid: int) -> float:
    """Seconds of CPU of every process of the cluster's owner (live ones; exited backends'
    time is counted through their parent's cutime/cstime)."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields after the name: state ppid ... utime(12) stime(13) cutime(14) cstime(15)
        total += sum(int(x) for x in parts[11:15])
    return total / TICK


def measure(url: str, uid: int, team: int, name: str, n: int, profile: str) -> None:
    from store import ops
    from store.pg import open_store
    from store.scope import Scope

    today = date.today()
    scope = Scope.of([team])
    follower = open_store(url)
    last = follower.read(scope=scope)
    last.views(team, today)
    writer = open_store(url)
    names = ("Safety", "Quality", "Delivery", "Cost", "Output", "Scrap", "OEE", "Absence")
    prof = cProfile.Profile() if profile else None

    def rec(i: int) -> Any:
        return ops.record(writer, names[i % 8], float(1000 + i), today, today, board=name)

    def read(_: int) -> Any:
        nonlocal last
        last = follower.read(last, scope=scope)
        return last.views(team, today)

    from store.pg import libpq

    def connect(_: int) -> Any:
        with libpq.Conn(url) as c:
            c.query("SELECT 1")

    for label, fn in (("connect + SELECT 1", connect), ("record", rec),
                      ("follower read + views", read)):  # fmt: skip
        for i in range(3):
            fn(i)
        cl = sv = wl = 0.0
        for i in range(n):
            if label.startswith("follower"):
                rec(i)  # something to read, outside the counts
                time.sleep(0.03)  # its backend gone and counted
            s0, c0, w0 = server_cpu(uid), time.process_time(), time.perf_counter()
            if prof and profile in label:
                prof.enable()
            fn(i)
            if prof and profile in label:
                prof.disable()
            c1, w1 = time.process_time(), time.perf_counter()
            time.sleep(0.002)  # the backend's exit reaped: its time in the postmaster's
            sv += server_cpu(uid) - s0
            cl += c1 - c0
            wl += w1 - w0
        print(f"{label:>24}: client {cl / n * 1000:6.2f} ms  server {sv / n * 1000:6.2f} ms  "
              f"wall {wl / n * 1000:6.2f} ms  (n={n})")
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", type=int, default=100)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--profile", default="", help="record | follower: cProfile that part")
    ap.add_argument("--stats", action="store_true", help="pg_stat_statements' top")
    ap.add_argument("--port", type=int, default=PORT)
    a = ap.parse_args()
    import pwd

    import psycopg
    from pg_cluster import PG_USER, cluster
    from pg_fill import fill, plan

    from store import ops
    from store.pg import open_store

    uid = pwd.getpwnam(PG_USER).pw_uid if os.getuid() == 0 else os.getuid()
    org = plan(a.boards, 8, a.days, date.today())
    settings = {"shared_preload_libraries": "pg_stat_statements",
                "pg_stat_statements.track_planning": "on", "track_functions": "all"}
    with cluster(a.port, settings if a.stats else None) as c:
        with psycopg.connect(c.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        url = c.url("bench")
        ops.init(open_store(url))
        with psycopg.connect(url) as conn:
            fill(conn, org)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        team = org.teams[0]
        if a.stats:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION pg_stat_statements")
                conn.execute("SELECT pg_stat_statements_reset()")
        measure(url, uid, team, org.name(team), a.n, a.profile)
        if a.stats:
            with psycopg.connect(url, autocommit=True) as conn:
                for row in conn.execute(
                    "SELECT calls, total_plan_time / greatest(calls, 1), "
                    "total_exec_time / greatest(calls, 1), "
                    "left(regexp_replace(query, '\\s+', ' ', 'g'), 150) "
                    "FROM pg_stat_statements ORDER BY total_plan_time + total_exec_time DESC "
                    "LIMIT 20"
                ):
                    print(f"{row[0]:6} plan {row[1]:6.2f} exec {row[2]:6.2f}  {row[3]}")
                for row in conn.execute("SELECT funcname, calls, self_time / greatest(calls, 1) "
                                        "FROM pg_stat_user_functions"):
                    print(row)
        print(f"load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
