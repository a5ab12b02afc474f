"""Who may write what, enforced by the database (schema 3, store/pg/v3_roles.sql), tried by real
OS users over peer authentication: tbalice is a member of Line A, tbmallory of Line M, tbbob a
leader of Plant (above both). Every process here runs as that login (`runuser`), so who it is
comes from the socket, never from a name it sends. Mallory tries to break in through teamboard
and through raw SQL; the allowed paths must work.

Needs root (to run as other users) and PostgreSQL; skips, saying why, without either.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from store import ops
from store.pg import open_store
from store.pg.access import grant
from store.pg.engine import PgStore

DAY = date(2026, 11, 20)
REPO = Path(__file__).resolve().parents[2]
LOGINS = ("tbalice", "tbbob", "tbmallory")
# Mallory's child imports what it needs before it may have to drop to her (see `_command`).
IMPORTS = "import json, os, sys\nimport psycopg\nfrom tui.cli import main\n"


def _system_python() -> str | None:
    """A Python other users may run, of this one's version (ours lives under /root)."""
    found = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}",
                         path="/usr/bin:/usr/local/bin")  # fmt: skip
    return found


@pytest.fixture(scope="module")
def logins() -> tuple[str, ...]:
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs root and runuser to run teamboard as other OS users")
    for name in LOGINS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True,
                           capture_output=True)  # fmt: skip
    return LOGINS


def _command(login: str, body: str) -> list[str]:
    """`python -c IMPORTS+body` as `login`: Debian's Python with our code and packages on its
    path when that Python can import them as the login, else ours, which imports as root and
    then becomes the login (os.setres*id) before `body` runs. Either way the process's uid is
    the login's when it connects."""
    py = _system_python()
    paths = [str(REPO), *(p for p in sys.path if p.endswith("site-packages"))]
    env = ["env", f"PYTHONPATH={os.pathsep.join(paths)}", "PYTHONDONTWRITEBYTECODE=1"]
    if py is not None and _usable(login, py, env):
        return ["runuser", "-u", login, "--", *env, py, "-c", IMPORTS + body]
    pw = pwd.getpwnam(login)
    drop = (f"os.setgroups([]); os.setresgid({pw.pw_gid}, {pw.pw_gid}, {pw.pw_gid}); "
            f"os.setresuid({pw.pw_uid}, {pw.pw_uid}, {pw.pw_uid})\n")  # fmt: skip
    first = IMPORTS + "import store.pg.access, store.pg.engine\n"
    return [sys.executable, "-c", first + drop + body]


_checked: dict[str, bool] = {}


def _usable(login: str, py: str, env: list[str]) -> bool:
    if login not in _checked:
        done = subprocess.run(["runuser", "-u", login, "--", *env, py, "-c", IMPORTS],
                              capture_output=True, cwd="/", timeout=60, check=False)  # fmt: skip
        _checked[login] = done.returncode == 0
    return _checked[login]


@dataclass(frozen=True)
class Team:
    """The store as its owner (the superuser `postgres`, as root) sees it, and the URL the
    logins use: no user in it, so libpq sends the OS login and peer authentication checks it."""

    store: PgStore
    url: str

    def teamboard(self, login: str, *argv: str, url: str | None = None) -> tuple[int, str, str]:
        """`teamboard --store URL ARGV...` as `login`, a real process."""
        args = ["--store", url or self.url, *argv]
        body = f"sys.exit(main({args!r}))\n"
        done = subprocess.run(_command(login, body), capture_output=True, text=True, cwd="/",
                              timeout=120, check=False)  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr
        return done.returncode, done.stdout, done.stderr

    def refused(self, login: str, *argv: str) -> str:
        """A write the database refuses: exit 1, one line that says what and how, nothing
        written."""
        before = state(self.store)
        code, out, err = self.teamboard(login, *argv)
        assert code == 1, (code, out, err)
        assert err.count("\n") == 1 and err.startswith("teamboard: "), err
        assert state(self.store) == before
        return err

    def sql(self, login: str, statements: list[str]) -> list[dict[str, Any]]:
        """Each statement in its own transaction as `login` (psql-like, through psycopg): what
        it did (rows) or the error (SQLSTATE and message)."""
        body = (
            f"out = []\nconn = psycopg.connect({self.url!r}, autocommit=True)\n"
            f"for s in {statements!r}:\n"
            "    try:\n"
            "        with conn.transaction():\n"
            "            cur = conn.execute(s)\n"
            "        out.append({'sql': s, 'rows': cur.rowcount})\n"
            "    except psycopg.Error as exc:\n"
            "        out.append({'sql': s, 'state': exc.sqlstate, 'error': str(exc)})\n"
            "print(json.dumps(out))\n"
        )
        done = subprocess.run(_command(login, body), capture_output=True, text=True, cwd="/",
                              timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        got: list[dict[str, Any]] = json.loads(done.stdout)
        return got


def state(store: PgStore) -> list[Any]:
    """Everything a refused write must leave as it was: every table's rows, and the grants."""
    tables = ["meta", "boards", "goals", "kpis", "targets", "entries", "actions",
              "action_history", "reviews", "estimates", "explanations", "huddles", "changes",
              "access", "access_history", "board_changes"]  # fmt: skip
    with psycopg.connect(store.url) as conn:
        return [
            conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
            if conn.execute("SELECT to_regclass(%s)", (t,)).fetchone() != (None,)
            else None  # a schema 1 store has no access tables
            for t in tables
        ]


@pytest.fixture
def team(pg_url: str, pg_cluster: object, logins: tuple[str, ...]) -> Iterator[Team]:
    """Plant, with Line A (Alice's: KPI Yield, action #1) and Line M (Mallory's: KPI Output,
    action #2) below it; Bob leads Plant."""
    from pg_cluster import Cluster

    assert isinstance(pg_cluster, Cluster)
    s = open_store(pg_url)
    assert isinstance(s, PgStore)
    ops.init(s)
    ops.add_board(s, "Plant")
    ops.add_board(s, "Line A", parent="Plant")
    ops.add_board(s, "Line M", parent="Plant")
    ops.add_kpi(s, "Yield", board="Line A", target=98.0)
    ops.add_kpi(s, "Output", board="Line M", target=100.0)
    ops.record(s, "Yield", 97.0, DAY, DAY)
    ops.add_action(s, "Fix the filler", board="Line A", kpi="Yield", owner="tbalice")
    ops.add_action(s, "Sort the bins", board="Line M", kpi="Output", owner="tbmallory")
    grant(s, "tbalice", "member", "Line A")
    grant(s, "tbmallory", "member", "Line M")
    grant(s, "tbbob", "leader", "Plant")
    db = urlsplit(pg_url).path.lstrip("/")
    yield Team(s, f"postgresql:///{db}?host={pg_cluster.sockdir}&port={pg_cluster.port}")


def test_who_wrote_is_the_os_login_and_the_wall_sees_it(team: Team) -> None:
    with psycopg.connect(team.store.url, autocommit=True) as listener:
        listener.execute("LISTEN teamboard")
        code, out, err = team.teamboard("tbalice", "record", "Yield", "96.5", "--date",
                                        "2026-11-21")  # fmt: skip
        assert code == 0 and "96.5" in out, err
        got = [n.payload for n in listener.notifies(timeout=10, stop_after=1)]
    assert got[0] == "2"  # her write notified its board, Line A, as anyone's does
    latest = team.store.read().entries[1][-1]
    assert (latest.value, latest.who) == (96.5, "tbalice")
    grant(team.store, "tbmallory", "wall")  # a wall's login (mallory reads every board too)
    code, out, err = team.teamboard("tbmallory", "history", "Yield", "--json")
    assert code == 0, err
    assert [(e["value"], e["who"]) for e in json.loads(out)["entries"]][-1] == (96.5, "tbalice")


@pytest.mark.anyio
async def test_a_wall_follows_a_members_write_live(team: Team) -> None:
    """The wall's board (its role set at connection, as the superuser may) reads every board
    through the policies and redraws on the notification of Alice's write."""
    import asyncio

    from conftest import clock, loaded, tile_text, tiles, until

    from tui.app import TeamboardApp

    grant(team.store, "tbwall", "wall")
    url = team.store.url + "&options=-crole%3Dtbwall"
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("tbwall",)
    app = TeamboardApp(url, board="Line A", wall=True, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, 1)
        assert not any("93.25" in tile_text(t) for t in tiles(app))
        code, _, err = await asyncio.to_thread(team.teamboard, "tbalice", "record", "Yield",
                                               "93.25", "--date", "2026-11-20")  # fmt: skip
        assert code == 0, err
        await until(pilot, lambda: any("93.25" in tile_text(t) for t in tiles(app)),
                    timeout=15, what="Alice's write on the wall")  # fmt: skip


def test_a_client_cannot_claim_another_name(team: Team) -> None:
    before = state(team.store)
    for url in (team.url.replace(":///", "://tbbob@/"), team.url + "&user=postgres"):
        code, _, err = team.teamboard("tbalice", "record", "Yield", "1", url=url)
        assert code == 1 and err.count("\n") == 1, err
        assert "Peer authentication failed" in err and "leave user= out" in err
    assert state(team.store) == before


def test_mallory_cannot_write_alices_board_through_teamboard(team: Team) -> None:
    fix = "`teamboard access grant tbmallory --board 'Line A' --as member`"
    err = team.refused("tbmallory", "record", "Yield", "1", "--board", "Line A")
    assert "tbmallory may not write entries on board Line A" in err and fix in err
    assert "nothing was written" in err and "(postgres)" in err  # who to ask: the owner
    assert "may not change actions on board Line A" in team.refused(
        "tbmallory", "action", "move", "1", "next")  # fmt: skip
    assert "actions" in team.refused("tbmallory", "action", "add", "x", "--board", "Line A")
    assert "KPIs on board Line A" in team.refused("tbmallory", "target", "Yield", "1")
    assert "KPIs on board Line A" in team.refused("tbmallory", "kpi", "edit", "Yield",
                                                 "--owner", "tbmallory")  # fmt: skip
    assert "only the store's owner" in team.refused("tbmallory", "board", "add", "Mine")
    assert "leader" in team.refused("tbmallory", "review", "Line A")
    # Her own board is hers.
    code, _, err = team.teamboard("tbmallory", "record", "Output", "90")
    assert code == 0, err


def test_mallory_cannot_break_in_with_raw_sql(team: Team) -> None:
    """Everything she tries fails or touches no row; the store is as it was, but for what is
    hers (her own entry, stamped with her name and the time, whatever she sent)."""
    before = state(team.store)
    got = team.sql("tbmallory", [
        # another board's KPI, and append-only rows
        "INSERT INTO entries (id, kpi, date, value) VALUES (90, 1, '2026-11-20', 1)",
        "UPDATE entries SET value = 0",
        "DELETE FROM entries",
        "TRUNCATE entries",
        # Alice's action: change it, take it to her board, or move hers onto Alice's
        "UPDATE actions SET title = 'pwned' WHERE id = 1",
        "UPDATE actions SET board = 3 WHERE id = 1",
        "UPDATE actions SET board = 2 WHERE id = 2",
        "INSERT INTO actions (id, title, board, kpi, stage) VALUES (91, 'gate', 3, 1, 'plan')",
        # a forged answer to her own escalation (answering is a leader's above)
        "UPDATE actions SET escalation = '{\"to\": 1, \"origin\": 3, \"why\": \"x\", "
        "\"who\": \"tbmallory\", \"at\": \"2026-11-20T00:00:00Z\", \"answer\": \"yes\", "
        "\"answered_by\": \"tbbob\", \"answered_at\": \"2026-11-20T00:00:00Z\"}' WHERE id = 2",
        # her action raised to Alice's board (not above hers): it would wait at the top there
        "UPDATE actions SET escalation = '{\"to\": 2, \"origin\": 3, \"why\": \"x\", "
        "\"who\": \"tbmallory\", \"at\": \"2026-11-20T00:00:00Z\"}' WHERE id = 2",
        # grant herself, become someone else, change the structure or the rules
        "INSERT INTO access (login, board, kind) VALUES ('tbmallory', 2, 'member')",
        "UPDATE access SET board = 2 WHERE login = 'tbmallory'",
        "SET ROLE tbbob",
        "SET ROLE postgres",
        "UPDATE boards SET parent = 3 WHERE id = 2",
        "INSERT INTO boards (id, name, parent) VALUES (9, 'Mine', NULL)",
        "CREATE FUNCTION public.teamboard_writes(b bigint, usr text) RETURNS boolean "
        "LANGUAGE sql AS 'SELECT true'",
        "ALTER TABLE entries DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE entries DISABLE TRIGGER ALL",
        "DROP POLICY teamboard_insert ON entries",
        "SET session_replication_role = replica",
        "UPDATE meta SET schema_version = 1",
        # a leader's review of a board she does not lead
        "INSERT INTO reviews (id, board, note) VALUES (92, 2, 'fine')",
        # the definer helper asked about someone else (it would name their board)
        "SELECT teamboard_may('tbbob', 2, 'write', 'x')",
        # Alice's board's last change (the header), and the ids everyone's records take
        "INSERT INTO board_changes (board, n, who, at, what) "
        "VALUES (2, 999, 'tbalice', now(), 'pwned')",
        "UPDATE board_changes SET what = 'pwned'",
        "ALTER SEQUENCE entries_id_seq RESTART WITH 1",
    ])  # fmt: skip
    for r in got:
        assert "state" in r or r["rows"] == 0, r
        assert r.get("state") in (None, "42501", "23514"), r  # privilege; not above
    assert state(team.store) == before
    # Shadowing what the checks read (a temporary pg_class or kpis first on her path) changes
    # nothing: the checks and the who trigger pin theirs. Her entry is hers, stamped now.
    got = team.sql("tbmallory", [
        "SET search_path = pg_temp, public, pg_catalog",
        "CREATE TEMP TABLE pg_class AS SELECT c.oid, (SELECT oid FROM pg_roles "
        "WHERE rolname = current_user) AS relowner FROM pg_catalog.pg_class c",
        "CREATE TEMP TABLE kpis AS SELECT id, 3::bigint AS board FROM public.kpis",
        "SET teamboard.restore = 'on'",
        "INSERT INTO public.entries (id, kpi, date, value) VALUES (93, 1, '2026-11-20', 1)",
        "INSERT INTO public.entries (id, kpi, date, value, who, at) "
        "VALUES (94, 2, '2026-11-20', 5, 'tbalice', '2020-01-01')",
        "UPDATE public.meta SET last_who = 'tbalice', last_at = '2020-01-01', last_what = 'x'",
        "INSERT INTO public.board_changes (board, n, who, at, what) "
        "VALUES (3, 7, 'tbalice', '2020-01-01', 'x')",
    ])  # fmt: skip
    assert [r.get("state") for r in got] == [None, None, None, None, "42501", None, None, None], got
    with psycopg.connect(team.store.url) as conn:
        row = conn.execute("SELECT who, at > now() - interval '1 hour' FROM entries "
                           "WHERE id = 94").fetchone()  # fmt: skip
        assert row == ("tbmallory", True)
        assert conn.execute("SELECT count(*) FROM entries WHERE id = 93").fetchone() == (0,)
        meta = conn.execute("SELECT last_who, last_at > now() - interval '1 hour' FROM meta")
        assert meta.fetchone() == ("tbmallory", True)
        change = conn.execute("SELECT who, at > now() - interval '1 hour' FROM board_changes "
                              "WHERE board = 3").fetchone()  # fmt: skip
        assert change == ("tbmallory", True)


def test_a_wall_only_reads(team: Team) -> None:
    grant(team.store, "tbbob", "wall")
    from store.pg.access import revoke

    revoke(team.store, "tbbob", "leader", "Plant")
    code, out, err = team.teamboard("tbbob", "status", "Line A", "--json")
    assert code == 0 and "Yield" in out, err
    assert "may not write entries on board Line A" in team.refused("tbbob", "record", "Yield", "1")
    before = state(team.store)
    got = team.sql("tbbob", [
        "INSERT INTO entries (id, kpi, date, value) VALUES (90, 1, '2026-11-20', 1)",
        "INSERT INTO huddles (id, board_id, date, minutes) VALUES (90, 2, '2026-11-20', '{}')",
        "INSERT INTO changes (id, tbl, ref, field) VALUES (90, 'kpis', 1, 'x')",
        "UPDATE kpis SET name = 'x'",
        "UPDATE meta SET last_what = 'x'",
    ])  # fmt: skip
    assert all(r.get("state") == "42501" or r.get("rows") == 0 for r in got), got
    assert state(team.store) == before


def test_a_role_without_access_is_told_whom_to_ask(team: Team) -> None:
    from store.pg.access import revoke

    revoke(team.store, "tbalice", "member", "Line A")
    code, out, err = team.teamboard("tbalice", "status")
    assert code == 1 and out == "" and err.count("\n") == 1, err
    assert "tbalice has no access" in err and "access grant tbalice --as wall" in err


def test_the_leader_answers_and_takes_escalations_from_the_teams_below(team: Team) -> None:
    code, _, err = team.teamboard("tbalice", "action", "escalate", "1", "--why", "budget")
    assert code == 0, err
    # Neither the team itself nor another team answers it: a leader above does.
    assert "--as leader" in team.refused("tbalice", "action", "answer", "1", "--note", "ok")
    assert "Line A" in team.refused("tbmallory", "action", "answer", "1", "--note", "ok")
    code, _, err = team.teamboard("tbbob", "action", "answer", "1", "--note", "approved")
    assert code == 0, err
    code, _, err = team.teamboard("tbbob", "review", "Line A", "--note", "why red?")
    assert code == 0, err
    snap = team.store.read()
    e = snap.actions[1].escalation
    assert e is not None and (e.who, e.answered_by, e.answer) == ("tbalice", "tbbob", "approved")
    assert [(r.board, r.who) for r in snap.reviews] == [(2, "tbbob")]
    # From above, a leader answers and takes over; the team's own work stays the team's.
    assert "Line A" in team.refused("tbbob", "record", "Yield", "1")
    assert "Line A" in team.refused("tbbob", "action", "move", "1", "next")
    # A goal of the leader's board, served by a team's KPI: renaming it renames it there too.
    from store import goals

    goals.add_goal(team.store, "Quality first", "Plant")
    ops.edit_kpi(team.store, "Yield", board="Line A", goal="Quality first")
    code, _, err = team.teamboard("tbbob", "goal", "edit", "Quality first", "--board", "Plant",
                                  "--name", "Quality always")  # fmt: skip
    assert code == 0, err
    assert team.store.read().kpis[1].goal == "Quality always"
    assert "Line A" in team.refused("tbbob", "kpi", "edit", "Yield", "--owner", "tbbob")
    got = team.sql("tbbob", ["UPDATE kpis SET goal = 'pwned' WHERE id = 1",
                             "UPDATE kpis SET archived = true WHERE id = 1"])  # fmt: skip
    assert [r.get("state") for r in got] == ["42501", "42501"], got
    code, _, err = team.teamboard("tbmallory", "action", "escalate", "2", "--why", "people")
    assert code == 0, err
    code, _, err = team.teamboard("tbbob", "action", "take", "2")
    assert code == 0, err
    taken = team.store.read().actions[2]
    assert (taken.board, taken.owner) == (1, "tbbob")


def test_access_is_managed_by_the_owner_only(team: Team) -> None:
    from tui.cli import main

    code, out, err = team.teamboard("tbalice", "access", "grant", "tbalice", "--board", "Plant",
                                    "--as", "leader")  # fmt: skip
    assert code == 1 and "only its owner (postgres)" in err, err
    code, out, err = team.teamboard("tbalice", "access", "list", "--json")
    assert code == 0, err  # anyone with access may see who may do what
    listed = json.loads(out)
    assert listed["owner"] == "postgres"
    assert {(g["login"], g["as"], g["board"]) for g in listed["access"]} == {
        ("tbalice", "member", "Line A"), ("tbmallory", "member", "Line M"),
        ("tbbob", "leader", "Plant"),
    }  # fmt: skip
    assert main(["--store", team.store.url, "access", "grant", "tbx", "--as", "wall",
                 "--board", "Plant"]) == 2  # fmt: skip
    assert main(["--store", team.store.url, "access", "grant", "tbx", "--as", "member"]) == 2
    assert main(["--store", team.store.url, "access", "revoke", "tbbob", "--as", "wall"]) == 2
    assert main(["--store", team.store.url, "access", "revoke", "tbmallory", "--board",
                 "Line M", "--as", "member"]) == 0  # fmt: skip
    assert "tbmallory has no access" in team.refused("tbmallory", "record", "Output", "1")


def test_on_a_file_access_is_the_file_systems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.cli import main

    assert main(["--store", str(tmp_path / "team.json"), "access", "grant", "ann", "--as",
                 "wall"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "file system's: its group and mode" in err


def test_a_schema_1_store_is_upgraded_by_its_owner_only(
    pg_url: str, pg_cluster: object, logins: tuple[str, ...]
) -> None:
    """A store made before the roles: its writers are told to ask the owner, whose `access
    list` upgrades it; then the grants decide."""
    from pg_cluster import Cluster

    from store.pg import schema as pg_schema
    from tui.cli import main

    assert isinstance(pg_cluster, Cluster)
    with psycopg.connect(pg_url) as conn:  # a store that a teamboard of schema 1 made
        conn.execute(pg_schema.schema_sql())
        conn.execute("INSERT INTO meta (id, schema_version) VALUES (1, 1)")
        conn.execute("INSERT INTO boards (id, name) VALUES (1, 'Line A')")
        conn.execute(
            "INSERT INTO kpis (id, board, name, direction, frequency, kind) "
            "VALUES (1, 1, 'Yield', 'up', 'daily', 'lagging')"
        )
        conn.execute("INSERT INTO targets (kpi, value) VALUES (1, 98)")
    s = open_store(pg_url)
    assert isinstance(s, PgStore)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'tbalice'").fetchone() is None:
            conn.execute("CREATE ROLE tbalice LOGIN")
        conn.execute("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO tbalice")
    db = urlsplit(pg_url).path.lstrip("/")
    team = Team(s, f"postgresql:///{db}?host={pg_cluster.sockdir}&port={pg_cluster.port}")
    err = team.refused("tbalice", "record", "Yield", "97")
    assert "schema 1" in err and "its owner (postgres) upgrades it once" in err, err
    assert main(["--store", pg_url, "access", "list"]) == 0
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT schema_version FROM meta").fetchone() == (pg_schema.VERSION,)
    assert "tbalice has no access" in team.refused("tbalice", "record", "Yield", "97")
    grant(s, "tbalice", "member", "Line A")
    code, _, err = team.teamboard("tbalice", "record", "Yield", "97")
    assert code == 0, err
