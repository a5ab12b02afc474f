"""`teamboard serve`'s checks: each bad value is one line and an exit code, before anything
listens, and nothing is written. (The served board itself: tests/browser/.)"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import fingerprint, seeded

from tui.cli import main
from tui.cli.serve import TOKEN_ENV


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "team.json"
    seeded(path)
    return path


@pytest.fixture
def busy_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield int(sock.getsockname()[1])
    sock.close()


def serve(
    store: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    before = fingerprint(store)
    code = main(["--store", str(store), "serve", *args])
    out, err = capsys.readouterr()
    assert fingerprint(store) == before  # nothing written
    assert out == ""  # nothing said to be served
    assert err.count("\n") == 1 and err.startswith("teamboard: "), err  # one line
    assert "Traceback" not in err
    return code, out, err


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--port", "99999"], 2, "--port must be between 0 and 65535"),
        (["--port", "eighty"], 2, "--port 'eighty' is not a whole number"),
        (["--port", "-1"], 2, "--port"),
        (["--host", "no-such-host.invalid"], 2, "is not an address or a name this machine knows"),
        (["--host", "192.0.2.1"], 2, "is not an address of this machine"),
        (["--host", ""], 2, "--host needs an address"),
        (["--token", "short"], 2, "--token must be 16 to 128 letters"),
        (["--token", "has spaces in it, sixteen+"], 2, "--token must be"),
        (["--rotate", "-5"], 2, "--rotate"),
        (["--board", "Nope"], 2, "Nope"),
    ],
)
def test_a_bad_value_is_one_line(
    store: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, says: str
) -> None:
    got, _, err = serve(store, capsys, "--port", "0", *args)
    assert got == code, err
    assert says in err, err


def test_a_port_in_use_is_one_line_and_exit_1(
    store: Path, capsys: pytest.CaptureFixture[str], busy_port: int
) -> None:
    code, _, err = serve(store, capsys, "--port", str(busy_port))
    assert code == 1
    assert f"port {busy_port} on 127.0.0.1 is in use" in err and "--port" in err


def test_a_bad_token_in_the_environment_names_it(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "nope")
    code, _, err = serve(store, capsys, "--port", "0")
    assert code == 2 and f"${TOKEN_ENV} must be" in err


def test_a_missing_store_is_exit_1_before_anything_listens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], busy_port: int
) -> None:
    code = main(["--store", str(tmp_path / "none.json"), "serve", "--port", str(busy_port)])
    err = capsys.readouterr().err
    assert code == 1 and "in use" not in err and err.count("\n") == 1
    assert not (tmp_path / "none.json").exists()


def test_the_command_line_loads_no_web_server() -> None:
    """`teamboard record` must not pay for aiohttp or textual-serve (only `serve` loads them)."""
    code = (
        "import sys, tui.cli\n"
        "print([m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'textual_serve')\n"
        "       or m in ('tui.serve', 'tui.serve_child')])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
