"""Issue 14's 1,000-board benchmark: teamboard on PostgreSQL, each figure next to its baseline
from the same run.

    .venv/bin/python bench/bench_pg.py                      # the full size (3-5 minutes here)
    .venv/bin/python bench/bench_pg.py --boards 100 --days 90 --seconds 5   # a quick check

Starts a throwaway cluster (tests/pg_cluster.py: runs as OS user tbpg, fsync, synchronous_commit
and full_page_writes off, max_connections 400), creates a store (`ops.init`) and fills it by SQL
(bench/pg_fill.py: 1 company → 5 plants → 50 departments → 944 teams, 8 daily KPIs each, 365
days of entries, two actions per team). Then, through teamboard's own code:

1. reads: one team board's snapshot (`Store.read(scope=Scope.of([board]))` + its views) and a
   department's roll-up (the department and its teams: `read` scoped to it + `tiers.rollup`);
   baseline: a file store's `Store.read()` at 10,000 and 100,000 entries (bench/make_store.py);
2. `ops.record` (the path `teamboard record` takes, its status line included) from 1, 50 and
   200 concurrent writers, each a thread with a store of its own, spread over `--procs`
   processes (a store that records again keeps its libpq connection and prepared statements,
   as the app does: store/pg/record.py; a `teamboard record` from a shell connects once);
   each writer records on its own team board for `--seconds`; latency p50/p99, records/s,
   failures counted;
3. meanwhile 50 followers (in `--follower-procs` processes), one per board written by writers
   0-49: `store.pg.listen.follow_pg(boards=...)` on an asyncio loop, and on each notification a
   scoped read of the board in a thread of their own and its views (the tiles' values; no
   drawing), read as the app reads (one store per follower, given its last snapshot: what
   changed, store/pg/follow.py): write → tile = the time a follower holds the new value − the
   time the writer's `record` returned;
4. whole processes from a shell, interleaved: `python -c pass`, `import psycopg`, `teamboard
   record` on the database, and on the file at 10,000 and 100,000 entries;
5. with `--explain FILE`: the plans (auto_explain: ANALYZE, BUFFERS) of every query a board read,
   a record and a roll-up run, written into FILE between its generated-section markers.

Prints Markdown (`--write-docs` also puts it into docs/benchmarks.md's PostgreSQL section between
its markers). Timings, never assertions. PYTHONDONTWRITEBYTECODE is unset for the processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests"), str(ROOT)]
from pg_fill import KPI_NAMES, Org, fill, plan  # noqa: E402

PORT = 54361  # not the tests' 54329: a test run may be up at the same time
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench_pg: begin (generated) -->", "<!-- bench_pg: end -->"
EXPLAIN_BEGIN, EXPLAIN_END = "<!-- plans: begin (generated) -->", "<!-- plans: end -->"
MARK = "bench-explain:"


# --- helpers -----------------------------------------------------------------------------------


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def ms(x: float) -> str:
    if x != x:
        return "–"
    return f"{x * 1000:,.0f} ms" if x >= 0.0095 else f"{x * 1000:.1f} ms"


def proc_env() -> dict[str, str]:
    e = dict(os.environ)
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    e["PYTHONPATH"] = str(ROOT)
    return e


# --- writer processes --------------------------------------------------------------------------


def writer_proc(cfg: dict[str, Any]) -> None:
    """Threads, one per writer: `ops.record` on the writer's board until `end_at` (at least
    once). Prints READY after the imports, waits for a start line, prints one JSON result."""
    from store import ops
    from store.pg import open_store

    today = date.fromisoformat(cfg["today"])
    out: list[list[Any]] = []
    lock = threading.Lock()
    print("READY", flush=True)
    start_at, end_at = (float(x) for x in sys.stdin.readline().split())

    def run(w: int, board: int, name: str) -> None:
        store = open_store(cfg["url"])
        time.sleep(max(0.0, start_at - time.time()))
        i = 0
        while i == 0 or time.time() < end_at:
            value = float(cfg["phase"] * 10_000_000 + w * 10_000 + i)
            kpi = KPI_NAMES[i % cfg["kpis"]]
            t0 = time.perf_counter()
            err = ""
            try:
                ops.record(store, kpi, value, today, today, board=name)
            except Exception as exc:  # counted and shown: the goal is none
                err = f"{type(exc).__name__}: {str(exc)[:200]}"
            took = time.perf_counter() - t0
            with lock:
                out.append([w, board, value, time.time(), took, err])
            i += 1

    threads = [threading.Thread(target=run, args=tuple(x)) for x in cfg["writers"]]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print(json.dumps(out), flush=True)


# --- follower processes ------------------------------------------------------------------------


def follower_proc(cfg: dict[str, Any]) -> None:
    """One `follow_pg` per board on one asyncio loop; each reads its board (scoped) in a thread
    of its own on every notification (coalesced, as the app's `request_reload`), as the app
    reads: one store per follower, given its last snapshot (`read(previous, scope=...)`: what
    changed, on the follower's own connection, store/pg/follow.py). Prints READY once every
    follower has read once; stops at a line on stdin; prints one JSON result."""
    from store.pg import open_store
    from store.pg.listen import follow_pg
    from store.scope import Scope

    today = date.fromisoformat(cfg["today"])
    boards: list[int] = cfg["boards"]
    pool = ThreadPoolExecutor(max_workers=len(boards))
    seen: list[list[Any]] = []
    reads: list[float] = []
    lost: list[str] = []

    stores = {b: open_store(cfg["url"]) for b in boards}  # one per follower, as the app's
    last: dict[int, Any] = dict.fromkeys(boards)

    def tiles(board: int) -> dict[int, float]:
        snap = last[board] = stores[board].read(last[board], scope=Scope.of([board]))
        return {
            v.kpi.id: v.history[-1].value
            for v in snap.views(board, today)
            if v.history and v.history[-1].day == today
        }

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        ready = 0

        async def one(board: int) -> None:
            nonlocal ready
            wake = asyncio.Event()
            pending: list[float | None] = [None]  # when the first unread notification came

            def changed() -> None:
                if pending[0] is None:
                    pending[0] = time.time()
                wake.set()

            listen = asyncio.create_task(
                follow_pg(cfg["url"], changed, stop, lost=lost.append, boards=lambda: {board})
            )
            known: dict[int, float] | None = None
            while not stop.is_set():
                waiter = asyncio.create_task(wake.wait())
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()
                if stop.is_set():
                    break
                wake.clear()
                t_wake, pending[0] = pending[0], None
                t_start = time.time()
                t0 = time.perf_counter()
                vals = await loop.run_in_executor(pool, tiles, board)
                now = time.time()
                reads.append(time.perf_counter() - t0)
                if known is None:
                    known = vals
                    ready += 1
                    if ready == len(boards):
                        print("READY", flush=True)
                    continue
                for k, v in vals.items():
                    if known.get(k) != v:
                        seen.append([board, v, now, t_wake, t_start])
                known = vals
            await listen

        tasks = [asyncio.create_task(one(b)) for b in boards]
        await loop.run_in_executor(None, sys.stdin.readline)
        stop.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    pool.shutdown()
    print(json.dumps({"seen": seen, "reads": reads, "lost": lost}), flush=True)


def spawn(mode: str, cfg: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), mode, json.dumps(cfg)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=proc_env(),
    )


def wait_ready(p: subprocess.Popen[str], what: str) -> None:
    assert p.stdout is not None
    line = p.stdout.readline()
    if line.strip() != "READY":
        raise RuntimeError(f"{what} did not start: {line!r} (exit {p.poll()})")


def finish(p: subprocess.Popen[str], line: str = "\n") -> Any:
    out, _ = p.communicate(line, timeout=900)
    last = [x for x in out.splitlines() if x.strip()]
    if p.returncode != 0 or not last:
        raise RuntimeError(f"a child failed (exit {p.returncode})")
    return json.loads(last[-1])


# --- the phases --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "nproc": os.cpu_count(),
        "mem": mem,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load": os.getloadavg(),
    }


def pg_settings(conn: Any) -> dict[str, str]:
    names = (
        "server_version",
        "fsync",
        "synchronous_commit",
        "full_page_writes",
        "shared_buffers",
        "work_mem",
        "max_connections",
        "effective_cache_size",
    )
    return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}


def reads(url: str, org: Org, today: date, repeats: int, full_max: int) -> dict[str, Any]:
    """A team board's scoped snapshot and a department's roll-up, in this process."""
    from store.pg import open_store
    from store.scope import Scope
    from store.tiers import rollup

    store = open_store(url)
    team, dept = org.teams[0], org.departments[0]
    res: dict[str, Any] = {
        "team": org.name(team),
        "dept": org.name(dept),
        "dept_boards": 1 + len(org.children(dept)),
    }
    # Does the engine honour the scope? One scoped read says (a full read holds every entry).
    probe = store.read(scope=Scope.of([team]))
    held = sum(len(v) for v in probe.entries.values())
    res["scoped"] = held < org.entries
    res["held_entries_board"] = held
    if not res["scoped"] and org.entries > full_max:
        res["skipped"] = (
            f"the engine's read ignores the scope (a full read of "
            f"{org.entries:,} entries); skipped above {full_max:,}"
        )
        return res
    for label, board in (("board", team), ("rollup", dept)):
        rd, vw = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            snap = store.read(scope=Scope.of([board]))
            t1 = time.perf_counter()
            if label == "board":
                views = snap.views(board, today)
                assert len(views) == org.kpis_per_board
            else:
                rows = rollup(snap, board, today)
                assert len(rows) == len(org.children(dept))
            rd.append(t1 - t0)
            vw.append(time.perf_counter() - t1)
        res[label] = {
            "read": rd,
            "views": vw,
            "entries": sum(len(v) for v in snap.entries.values()),
        }
    return res


def file_reads(stores: dict[int, Path], repeats: int) -> dict[int, list[float]]:
    from store import Store

    out: dict[int, list[float]] = {}
    for n, p in stores.items():
        xs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            Store(p).read()
            xs.append(time.perf_counter() - t0)
        out[n] = xs
    return out


def writers_and_followers(
    url: str,
    org: Org,
    today: date,
    levels: list[int],
    seconds: float,
    procs: int,
    n_followers: int,
    follower_procs: int,
    pause: float = 10.0,
) -> dict[str, Any]:
    followed = org.teams[: min(n_followers, len(org.teams))]
    fprocs = []
    per = max(1, -(-len(followed) // follower_procs))
    for i in range(0, len(followed), per):
        fprocs.append(
            spawn(
                "_followers",
                {"url": url, "today": today.isoformat(), "boards": followed[i : i + per]},
            )
        )
    t0 = time.perf_counter()
    for p in fprocs:
        wait_ready(p, "a follower process")
    res: dict[str, Any] = {
        "followers": len(followed),
        "follower_procs": len(fprocs),
        "followers_ready_s": time.perf_counter() - t0,
        "levels": [],
    }
    writes: list[list[Any]] = []
    try:
        for phase, n in enumerate(levels, start=1):
            boards = [org.teams[w % len(org.teams)] for w in range(n)]
            nproc = min(n, procs)
            wprocs = []
            for j in range(nproc):
                mine = [[w, boards[w], org.name(boards[w])] for w in range(j, n, nproc)]
                wprocs.append(
                    spawn(
                        "_writers",
                        {
                            "url": url,
                            "today": today.isoformat(),
                            "phase": phase,
                            "kpis": org.kpis_per_board,
                            "writers": mine,
                        },
                    )
                )
            for p in wprocs:
                wait_ready(p, "a writer process")
            start = time.time() + 0.5
            line = f"{start} {start + seconds}\n"
            got: list[list[Any]] = []
            for p in wprocs:
                got += finish(p, line)
            done = max(g[3] for g in got)
            lat = [g[4] for g in got if not g[5]]
            fails = [g[5] for g in got if g[5]]
            res["levels"].append(
                {
                    "writers": n,
                    "procs": nproc,
                    "records": len(lat),
                    "failed": len(fails),
                    "fail_examples": sorted(set(fails))[:3],
                    "wall": done - start,
                    "p50": pct(lat, 0.5),
                    "p99": pct(lat, 0.99),
                    "max": max(lat, default=float("nan")),
                }
            )
            writes += [[phase, *g] for g in got if not g[5]]
            # Let the followers' last reads land: the next level's first writes to the same
            # boards would otherwise replace values before anyone read them.
            time.sleep(pause)
    finally:
        results = [finish(p) for p in fprocs]
    seen = {(s[0], s[1]): s[2:] for r in results for s in r["seen"]}
    follower_reads = [x for r in results for x in r["reads"]]
    for lvl_i, lvl in enumerate(res["levels"], start=1):
        mine = [w for w in writes if w[0] == lvl_i and w[2] in followed]
        hits = [(seen[(w[2], w[3])], w[4]) for w in mine if (w[2], w[3]) in seen]
        lat = [s[0] - done for s, done in hits]
        # the parts: notified (the follower's loop got the notification − record returned),
        # queued (behind the follower's read in progress), read (scoped read + views)
        lvl["parts_p50"] = [
            pct([s[1] - done for s, done in hits if s[1] is not None], 0.5),
            pct([s[2] - s[1] for s, _ in hits if s[1] is not None], 0.5),
            pct([s[0] - s[2] for s, _ in hits], 0.5),
        ]
        lvl["tile_writes"], lvl["tile_seen"] = len(mine), len(lat)
        lvl["tile_p50"], lvl["tile_p99"] = pct(lat, 0.5), pct(lat, 0.99)
        lvl["tile_max"] = max(lat, default=float("nan"))
    res["follower_reads"] = {
        "n": len(follower_reads),
        "p50": pct(follower_reads, 0.5),
        "p99": pct(follower_reads, 0.99),
    }
    res["lost"] = [x for r in results for x in r["lost"]][:3]
    return res


def processes(url: str, org: Org, files: dict[int, Path], repeats: int) -> dict[str, list[float]]:
    """Whole processes from a shell, interleaved round by round."""
    exe = shutil.which("teamboard", path=str(Path(sys.executable).parent)) or "teamboard"
    team = org.name(org.teams[-1])
    cases: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import psycopg'": [sys.executable, "-c", "import psycopg"],
        "teamboard record, PostgreSQL": [
            exe,
            "--store",
            url,
            "record",
            "Output",
            "{v}",
            "--board",
            team,
        ],
    }
    for n, p in files.items():
        cases[f"teamboard record, file of {n:,} entries"] = [
            exe,
            "--store",
            str(p),
            "record",
            "Output",
            "{v}",
        ]
    e = proc_env()
    times: dict[str, list[float]] = {k: [] for k in cases}
    for r in range(repeats + 1):
        for label, argv in cases.items():
            argv = [a.replace("{v}", str(50 + r)) for a in argv]
            t0 = time.perf_counter()
            done = subprocess.run(argv, env=e, capture_output=True, text=True, check=False)
            took = time.perf_counter() - t0
            if done.returncode != 0:
                raise RuntimeError(f"{label}: exit {done.returncode}: {done.stderr[-300:]}")
            if r:  # the first round warms caches and .pyc files
                times[label].append(took)
    return times


def explain(
    url: str, admin: str, db: str, log: Path, org: Org, today: date
) -> dict[str, list[tuple[float, str]]]:
    """Every query a board read, a record and a roll-up run, with its plan (auto_explain,
    ANALYZE and BUFFERS), from the server's log."""
    import psycopg

    from store import ops
    from store.pg import open_store
    from store.scope import Scope
    from store.tiers import rollup

    on = {
        "session_preload_libraries": "auto_explain",
        "auto_explain.log_min_duration": "0",
        "auto_explain.log_analyze": "on",
        "auto_explain.log_buffers": "on",
        "auto_explain.log_nested_statements": "on",
        "auto_explain.log_timing": "on",
    }
    with psycopg.connect(admin, autocommit=True) as conn:
        for k, v in on.items():
            conn.execute(f"ALTER DATABASE {db} SET {k} = '{v}'")
    start = log.stat().st_size
    store = open_store(url)
    team, dept = org.teams[1], org.departments[0]

    def mark(label: str) -> None:
        with psycopg.connect(url) as conn:
            conn.execute(f"SELECT '{MARK}{label}'")

    try:
        mark("board read")
        store.read(scope=Scope.of([team])).views(team, today)
        mark("record")
        ops.record(store, "Output", 77.0, today, today, board=org.name(team))
        mark("roll-up read")
        rollup(store.read(scope=Scope.of([dept])), dept, today)
        mark("end")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for k in on:
                conn.execute(f"ALTER DATABASE {db} RESET {k}")
    time.sleep(0.5)
    with open(log, encoding="utf-8", errors="replace") as f:
        f.seek(start)
        text = f.read()
    out: dict[str, list[tuple[float, str]]] = {}
    current = ""
    for entry in re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text):
        m = re.search(r"duration: ([\d.]+) ms\s+plan:\n(.*)", entry, re.S)
        if not m:
            continue
        body = m.group(2)
        hit = re.search(re.escape(MARK) + r"([\w -]+)", body)
        if hit and "Query Text: SELECT '" in body:
            current = hit.group(1)
            continue
        if current and current != "end":
            out.setdefault(current, []).append((float(m.group(1)), body.rstrip()))
    return out


def explain_md(plans: dict[str, list[tuple[float, str]]]) -> str:
    lines = []
    for label, items in plans.items():
        total = sum(d for d, _ in items)
        lines += [f"### {label}: {len(items)} statements, {total:.1f} ms in the server", ""]
        for d, body in items:
            lines += [
                f"{d:.3f} ms:",
                "",
                "```",
                *(x.replace("\t", "  ", 1) for x in body.splitlines()),
                "```",
                "",
            ]
    return "\n".join(lines)


# --- the report --------------------------------------------------------------------------------


def report(r: dict[str, Any]) -> str:
    m, s, o = r["machine"], r["settings"], r["org"]
    L = [
        f"Run on {r['when']}, {r['seconds_total']:.0f} s in all; `nproc` {m['nproc']}, "
        f"{m['mem']} memory, Python {m['python']}; 1-minute load average {m['load'][0]:.2f} "
        f"before, {r['load_after'][0]:.2f} after (`uptime`). PostgreSQL {s['server_version']}, "
        f"a throwaway cluster as OS user tbpg on a unix socket: fsync={s['fsync']}, "
        f"synchronous_commit={s['synchronous_commit']}, full_page_writes={s['full_page_writes']} "
        f"(no durability: a crash loses the cluster), shared_buffers={s['shared_buffers']}, "
        f"work_mem={s['work_mem']}, max_connections={s['max_connections']}.",
        "",
        f"Store: {o['boards']:,} boards (1 company, {o['plants']} plants, {o['depts']} "
        f"departments, {o['teams']:,} teams) × {o['kpis']} KPIs × {o['days']} days = "
        f"{o['entries']:,} entries, {o['actions']:,} actions; {r['db_mb']:,.0f} MB in the "
        f"database; filled by SQL in {r['fill_s']:.1f} s (VACUUM ANALYZE included).",
        "",
    ]
    for name, err in r.get("errors", {}).items():
        L += [f"**{name} failed:** {err}", ""]
    rd = r.get("reads")
    if rd:
        L += _reads_md(r, rd, o)
    w = r.get("writers")
    if w:
        L += _writers_md(r, w)
    p = r.get("processes")
    if p:
        L += _processes_md(r, p)
    L += _goals_md(r)
    return "\n".join(L)


def _goals_md(r: dict[str, Any]) -> list[str]:
    """Issue 14's goals against this run's figures (met / not met; no judgement of the load)."""
    out: list[str] = []

    def mark(ok: bool) -> str:
        return "met" if ok else "**not met**"

    levels = r.get("writers", {}).get("levels", [])
    if levels:
        top = levels[-1]
        failed = sum(x["failed"] for x in levels)
        out.append(f"- 0 failed writes at every level: {failed} failed: {mark(failed == 0)}")
        ok = top["tile_p50"] <= 0.1 and top["tile_p99"] <= 0.5
        out.append(
            f"- write → tile at {top['writers']} writers, p50 ≤ 100 ms and p99 ≤ 500 ms: "
            f"{ms(top['tile_p50'])} / {ms(top['tile_p99'])}: {mark(ok)}"
        )
    p = r.get("processes", {})
    xs = p.get("teamboard record, PostgreSQL")
    if xs:
        med = statistics.median(xs)
        out.append(f"- `teamboard record` from a shell ≤ 300 ms: {ms(med)}: {mark(med <= 0.3)}")
    return ["", "Goals (issue 14) in this run:", "", *out] if out else []


def _reads_md(r: dict[str, Any], rd: dict[str, Any], o: dict[str, Any]) -> list[str]:
    L: list[str] = []
    L += [
        "**Reads** (in one process; median of "
        f"{r['args']['repeats']}; the engine {'honours' if rd['scoped'] else 'IGNORES'} the "
        f"scope: a board's scoped snapshot held {rd['held_entries_board']:,} of "
        f"{o['entries']:,} entries):",
        "",
    ]
    L += [
        "| read | entries held | read (median) | min | views / roll-up |",
        "|---|---:|---:|---:|---:|",
    ]
    if "skipped" in rd:
        L.append(f"| board, roll-up | | {rd['skipped']} | | |")
    else:
        for key, label in (
            ("board", f"one team board ({rd['team']})"),
            ("rollup", f"roll-up of {rd['dept']} ({rd['dept_boards']} boards)"),
        ):
            x = rd[key]
            L.append(
                f"| {label} | {x['entries']:,} | {ms(statistics.median(x['read']))} | "
                f"{ms(min(x['read']))} | {ms(statistics.median(x['views']))} |"
            )
    for n, xs in r["file_reads"].items():
        L.append(
            f"| baseline: the file's `Store.read()`, {int(n):,} entries | {int(n):,} | "
            f"{ms(statistics.median(xs))} | {ms(min(xs))} | |"
        )
    return L


def _writers_md(r: dict[str, Any], w: dict[str, Any]) -> list[str]:
    L: list[str] = []
    L += [
        "",
        f"**Concurrent `record`** (`ops.record`, the command's path, each writer a thread "
        f"with its own store, which keeps its connection from its second record on, spread "
        f"over up to {r['args']['procs']} processes; "
        f"{r['args']['seconds']:g} s per level) **and write → tile** ({w['followers']} "
        f"followers in {w['follower_procs']} processes, `follow_pg(boards=…)` + a scoped read "
        "+ the board's views on each notification; latency = follower holds the value − the "
        "writer's `record` returned; no drawing; a followed write not seen was committed but "
        "replaced on its KPI by a later one before its follower read):",
        "",
    ]
    L += [
        "| writers | processes | records | failed | records/s | record p50 | p99 | max | "
        "followed writes seen | write → tile p50 | p99 | max |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for x in w["levels"]:
        L.append(
            f"| {x['writers']} | {x['procs']} | {x['records']:,} | {x['failed']} | "
            f"{x['records'] / x['wall']:.1f} | {ms(x['p50'])} | {ms(x['p99'])} | {ms(x['max'])} "
            f"| {x['tile_seen']} / {x['tile_writes']} | {ms(x['tile_p50'])} | "
            f"{ms(x['tile_p99'])} | {ms(x['tile_max'])} |"
        )
    L += [
        "",
        "Write → tile in parts (p50): the follower's loop had the notification (− record "
        "returned; negative: before the writer's COMMIT reply reached it) / waited for its read "
        "in progress / its scoped read + views:",
        "",
    ]
    for x in w["levels"]:
        a, b, c = x.get("parts_p50", [float("nan")] * 3)
        L.append(f"- {x['writers']} writers: {ms(a)} / {ms(b)} / {ms(c)}")
    fr = w["follower_reads"]
    L += [
        "",
        f"Followers' reads (scoped read + views): {fr['n']:,}, p50 {ms(fr['p50'])}, p99 "
        f"{ms(fr['p99'])}; all {w['followers']} followers connected and read once in "
        f"{w['followers_ready_s']:.1f} s.",
    ]
    for x in w["levels"]:
        if x["fail_examples"]:
            L.append(f"Failures at {x['writers']} writers: {'; '.join(x['fail_examples'])}")
    if w["lost"]:
        L.append(f"Followers lost their connection: {'; '.join(w['lost'])}")
    return L


def _processes_md(r: dict[str, Any], p: dict[str, list[float]]) -> list[str]:
    L: list[str] = []
    base = statistics.median(p["python -c pass"])
    L += [
        "",
        f"**Whole processes from a shell** (interleaved, {r['args']['repeats']} rounds "
        "after a warm-up):",
        "",
        "| command | median | p90 | ÷ `python -c pass` |",
        "|---|---:|---:|---:|",
    ]
    for label, xs in p.items():
        med = statistics.median(xs)
        L.append(f"| {label} | {ms(med)} | {ms(pct(xs, 0.9))} | {med / base:.1f} |")
    return L


def put_between(path: Path, begin: str, end: str, body: str) -> None:
    text = path.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        raise SystemExit(f"{path}: no {begin!r} … {end!r} markers to write between")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{body}\n{end}{tail}", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", type=int, default=1000)
    ap.add_argument("--kpis", type=int, default=8)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--writers", default="1,50,200", help="concurrency levels")
    ap.add_argument("--seconds", type=float, default=20.0, help="per level")
    ap.add_argument("--procs", type=int, default=4, help="writer processes at most")
    ap.add_argument("--followers", type=int, default=50)
    ap.add_argument("--follower-procs", type=int, default=2)
    ap.add_argument("--file-sizes", default="10000,100000")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument(
        "--full-read-max",
        type=int,
        default=300_000,
        help="without a scoped engine, skip the reads above this many entries",
    )
    ap.add_argument("--explain", help="write the plans into this Markdown file (its markers)")
    ap.add_argument("--write-docs", action="store_true", help="into docs/benchmarks.md")
    ap.add_argument("--json", help="also write the raw figures here")
    ap.add_argument("--port", type=int, default=PORT)
    a = ap.parse_args()

    import psycopg
    from make_store import make_store
    from pg_cluster import cluster

    from store import ops
    from store.pg import open_store

    t_all = time.perf_counter()
    res: dict[str, Any] = {
        "machine": machine(),
        "args": vars(a),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    today = date.today()
    org = plan(a.boards, a.kpis, a.days, today)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    try:
        files = {}
        for n in (int(x) for x in a.file_sizes.split(",") if x):
            files[n] = make_store(tmp / f"s{n}.json", n, today)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tui.cli",
                    "--store",
                    str(files[n]),
                    "record",
                    "Output",
                    "1",
                ],
                env=proc_env(),
                capture_output=True,
                check=True,
            )
        res["file_reads"] = file_reads(files, 3)
        with cluster(a.port, {"max_connections": "400"}) as c:
            with psycopg.connect(c.url(), autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench")
            url = c.url("bench")
            ops.init(open_store(url))
            t0 = time.perf_counter()
            with psycopg.connect(url) as conn:
                counts = fill(conn, org)
                res["fill_s"] = time.perf_counter() - t0
                res["settings"] = pg_settings(conn)
                got = conn.execute("SELECT pg_database_size('bench')").fetchone()
                res["db_mb"] = int(got[0]) / 1e6 if got else 0.0
            res["org"] = {
                "boards": org.boards,
                "plants": len(org.plants),
                "depts": len(org.departments),
                "teams": len(org.teams),
                "kpis": a.kpis,
                "days": a.days,
                "entries": counts["entries"],
                "actions": counts["actions"],
            }
            print(f"filled: {counts} in {res['fill_s']:.1f} s", file=sys.stderr)

            def phase(name: str, run: Any) -> None:
                """One phase; a failure is reported with the figures, not instead of them."""
                t = time.perf_counter()
                try:
                    res[name] = run()
                except Exception as exc:
                    res.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:400]
                print(f"{name}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
                if a.json:
                    Path(a.json).write_text(json.dumps(res, indent=1, default=str))

            phase("reads", lambda: reads(url, org, today, a.repeats, a.full_read_max))
            n_followers = a.followers
            if res.get("reads", {}).get("skipped"):
                n_followers = 0  # without scoped reads, 50 full reads per write: not a measure
            levels = [int(x) for x in a.writers.split(",") if x]
            phase(
                "writers",
                lambda: writers_and_followers(
                    url, org, today, levels, a.seconds, a.procs, n_followers, a.follower_procs
                ),
            )
            phase("processes", lambda: processes(url, org, files, a.repeats))
            if a.explain:
                log = Path(c.sockdir).parent / "log"
                phase("explain", lambda: explain(url, c.url(), "bench", log, org, today))
                if "explain" in res:
                    md = explain_md(res["explain"])
                    put_between(Path(a.explain), EXPLAIN_BEGIN, EXPLAIN_END, md)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res["load_after"] = os.getloadavg()
    res["seconds_total"] = time.perf_counter() - t_all
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1, default=str))
    md = report(res)
    print(md)
    if a.write_docs:
        put_between(DOCS, BEGIN, END, md)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "_writers":
        writer_proc(json.loads(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "_followers":
        follower_proc(json.loads(sys.argv[2]))
    else:
        sys.exit(main())
