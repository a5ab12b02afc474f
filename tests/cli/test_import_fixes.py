"""Imports that land right (issue 11): KPI columns for `--create`, the defaults and the exact
fixes, re-imports that skip what the store holds, and a repeated error reported once."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tui.cli import main

TODAY = date(2026, 11, 20)


def run(path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--store", str(path), *argv], today=TODAY)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "team.json"
    assert run(path, capsys, "init")[0] == 0
    return path


def write(tmp_path: Path, text: str) -> str:
    f = tmp_path / "in.csv"
    f.write_text(text)
    return str(f)


def test_create_takes_the_kpi_columns(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(
        tmp_path,
        "board,kpi,date,value,unit,direction,target,amber,frequency,owner,kind\n"
        "North,Cancellations,2013-01-01,12,%,down,10,15,daily,ben,lagging\n"
        "North,Cancellations,2013-01-02,14,,,,,,,\n",
    )
    code, out, err = run(store, capsys, "import", csv, "--create")
    assert code == 0, err
    assert "created KPI Cancellations on North with target 10% (from the file)" in out
    assert "defaults chosen" not in out and "fix:" not in out
    code, out, _ = run(store, capsys, "kpi", "list", "--json")
    k = json.loads(out)["kpis"][0]
    assert (k["unit"], k["direction"], k["target"], k["amber"], k["owner"]) == (
        "%",
        "down",
        10,
        15,
        "ben",
    )
    code, out, _ = run(store, capsys, "status", "North", "--as-of", "2013-01-02", "--json")
    assert json.loads(out)["kpis"][0]["status"] == "amber"  # 14: worse than 10, within 15


def test_absent_columns_print_the_defaults_and_the_exact_fixes(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(
        tmp_path,
        "board,kpi,date,value,direction\n"
        "North,Calls,2013-03-01,10,\n"
        "North,Calls,2013-02-01,20,up\n",
    )
    code, out, err = run(store, capsys, "import", csv, "--create")
    assert code == 0, err
    assert "created KPI Calls on North with target 15 (the mean of its values)" in out
    assert "values 2013-02-01 to 2013-03-01" in out
    assert "defaults chosen: no unit, no amber band, daily, no owner, lagging" in out
    assert (
        f"fix: teamboard --store {store} target Calls VALUE --from 2013-02-01 --board North" in out
    )
    assert "kpi edit Calls --board North --unit UNIT --amber A" in out
    assert "--direction" not in out  # given in the file


def test_reimport_skips_what_the_store_holds_and_force_records_it(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(tmp_path, "board,kpi,date,value\nN,K,2013-01-01,1\nN,K,2013-01-02,2\n")
    assert run(store, capsys, "import", csv, "--create")[0] == 0
    before = store.read_bytes()
    code, out, _ = run(store, capsys, "import", csv)
    assert code == 0 and out.startswith("imported 0 entries")
    assert "skipped 2 rows repeating values already in the store (rows 2, 3)" in out
    assert "--force" in out
    assert store.read_bytes() == before  # nothing written
    changed = write(tmp_path, "board,kpi,date,value\nN,K,2013-01-01,1\nN,K,2013-01-02,5\n")
    code, out, _ = run(store, capsys, "import", changed)
    assert "imported 1 entry" in out and "skipped 1 row" in out
    code, out, _ = run(store, capsys, "import", changed, "--force")
    assert out == "imported 2 entries\n"
    code, out, _ = run(store, capsys, "history", "K", "--json")
    assert len(json.loads(out)["entries"]) == 5  # 2 + 1 + 2: every version kept


def test_a_repeated_error_is_reported_once_with_a_count(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "".join(f"Site A,Calls,2013-01-{d:02d},{d}\n" for d in range(1, 31))
    csv = write(tmp_path, "board,kpi,date,value\n" + rows + "Site A,Calls,2013-02-30,1\n")
    before = store.read_bytes()
    code, out, err = run(store, capsys, "import", csv)
    lines = err.splitlines()
    assert code == 2 and out == "" and len(lines) == 3
    assert "no board named 'Site A'" in lines[0] and "(30 rows: 2, 3, 4, 5, 6, …)" in lines[0]
    assert "not a date" in lines[1]
    assert "31 of 31 rows rejected" in lines[2]
    assert store.read_bytes() == before


def test_bad_kpi_columns_are_refused_and_nothing_is_written(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = store.read_bytes()
    for body, problem in (
        ("N,K,2013-01-01,1,sideways,\n", "direction"),
        ("N,K,2013-01-01,1,up,\nN,K,2013-01-02,1,down,\n", "differs from up on row 2"),
        ("N,K,2013-01-01,1,up,200\n", "amber 200 for KPI 'K' must be below its target"),
    ):
        csv = write(tmp_path, "board,kpi,date,value,direction,amber\n" + body)
        code, out, err = run(store, capsys, "import", csv, "--create")
        assert code == 2 and out == "" and problem in err, err
        assert store.read_bytes() == before
