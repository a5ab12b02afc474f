"""A throwaway PostgreSQL cluster for the tests: made as a throwaway OS user, on a unix socket in a
temp folder, fsync off, peer authentication (`peer`); stopped (immediately) and removed at the end.

`initdb` refuses root, and tests run as root: the cluster runs as `tbpg` (created here, without a
home, left for the next run). Without root the cluster runs as the current user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_USER = "tbpg"
PORT = 54329
DEBIAN_BIN = "/usr/lib/postgresql/15/bin"  # Debian keeps the server's binaries off the PATH


class NoServer(Exception):
    """No PostgreSQL can be had here: the reason, printed by the skip."""


@dataclass(frozen=True)
class Cluster:
    sockdir: str
    port: int

    def url(self, dbname: str = "postgres") -> str:
        """A libpq URL to `dbname` over the unix socket, as the superuser `postgres`."""
        return f"postgresql://postgres@/{dbname}?host={self.sockdir}&port={self.port}"


def binaries() -> dict[str, str]:
    """initdb, pg_ctl and postgres: on the PATH, else in Debian's folder; raises NoServer."""
    found: dict[str, str] = {}
    for name in ("initdb", "pg_ctl", "postgres"):
        path = shutil.which(name) or shutil.which(name, path=DEBIAN_BIN)
        if path is None:
            raise NoServer(
                f"no {name} on the PATH nor in {DEBIAN_BIN}: install Debian's `postgresql` "
                "package (.ci/run does)"
            )
        found[name] = path
    return found


def _runner() -> list[str]:
    """How to run as the cluster's owner: `runuser -u tbpg --` as root, nothing otherwise."""
    if os.getuid() != 0:
        return []
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        nologin = shutil.which("nologin") or "/bin/false"
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", nologin, PG_USER],
            capture_output=True,
            check=True,
        )
    return ["runuser", "-u", PG_USER, "--"]


def peer(data: Path, run_as: list[str]) -> None:
    """Peer authentication on the unix socket, as a real server has it (README, "When to move
    to PostgreSQL"): an OS login connects as the database role of its own name, and only so.
    The OS user that runs the tests (root) and the cluster's owner map to the superuser
    `postgres`, the path the tests' fixtures take."""
    me = pwd.getpwuid(os.getuid()).pw_name
    admins = sorted({me, PG_USER if run_as else me})
    (data / "pg_hba.conf").write_text("local all all peer map=tb\n", encoding="utf-8")
    lines = [f"tb {name} postgres" for name in admins] + ["tb /^(.*)$ \\1"]
    (data / "pg_ident.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextmanager
def cluster(port: int = PORT, settings: dict[str, str] | None = None) -> Iterator[Cluster]:
    """initdb (no sync), start on a socket in a temp folder, yield, stop immediately, remove.
    `settings`: more server settings (`-c name=value`), e.g. bench/bench_pg.py's
    max_connections."""
    bins = binaries()
    run_as = _runner()
    top = Path(tempfile.mkdtemp(prefix="tbpg-"))
    data, sock = top / "data", top / "sock"
    sock.mkdir()
    if run_as:
        shutil.chown(top, PG_USER)
        shutil.chown(sock, PG_USER)
        top.chmod(0o755)
    pg_bin = os.path.dirname(bins["postgres"])
    env = {**os.environ, "PATH": f"{pg_bin}:{os.environ.get('PATH', '')}", "LC_ALL": "C.UTF-8"}

    def run(*args: str) -> None:
        done = subprocess.run([*run_as, *args], capture_output=True, text=True, env=env, cwd=top)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr or done.stdout}")

    try:
        run(bins["initdb"], "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        peer(data, run_as)
        opts = (
            f"-c listen_addresses='' -k {sock} -p {port} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        opts += "".join(f" -c {k}={v}" for k, v in (settings or {}).items())
        run(bins["pg_ctl"], "-D", str(data), "-w", "-l", str(top / "log"), "-o", opts, "start")
        try:
            yield Cluster(str(sock), port)
        finally:
            run(bins["pg_ctl"], "-D", str(data), "-m", "immediate", "stop")
    finally:
        shutil.rmtree(top, ignore_errors=True)
