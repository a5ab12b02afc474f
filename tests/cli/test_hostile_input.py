"""Hostile values through the command line (issue 7): numbers, dates, names, bytes that are not
UTF-8, ids, deep board trees and spreadsheet formulas. Each mistake is one line, exit 2, nothing
written, never a traceback; a fuzz test runs every command with such values to hold that."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
import time
import types
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Store, validate
from store.errors import BadInput
from tui import cli
from tui.cli import base, main, status

DAY = date(2024, 5, 10)


def run(path: Path, *argv: str, today: date = DAY) -> tuple[int, str, str]:
    """`main` in-process on the store at `path`: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--store", str(path), *argv], today=today)
    return code, out.getvalue(), err.getvalue()


def ok(path: Path, *argv: str) -> str:
    code, out, err = run(path, *argv)
    assert code == 0, err
    return out


def refused(path: Path, *argv: str, code: int = 2) -> str:
    """Run a command that must fail in one line, exit `code`, writing nothing; its message."""
    before = path.read_bytes()
    got, out, err = run(path, *argv)
    assert got == code, (argv, got, err)
    assert out == ""
    assert err.startswith("teamboard: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "internal error" not in err
    assert path.read_bytes() == before
    return err


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Board Line 3 with OEE (target 85 %, amber 80) and Scrap; one entry; action #1."""
    path = tmp_path_factory.mktemp("made") / "team.json"
    ok(path, "init")
    ok(path, "board", "add", "Line 3")
    ok(path, "kpi", "add", "OEE", "--board", "Line 3", "--target", "85", "--unit", "%",
       "--amber", "80")  # fmt: skip
    ok(path, "kpi", "add", "Scrap", "--board", "Line 3", "--target", "2", "--direction", "down")
    ok(path, "record", "OEE", "80", "--date", "-1")
    ok(path, "action", "add", "Fix the filler", "--kpi", "OEE")
    return path.read_bytes()


@pytest.fixture
def store(made: bytes, tmp_path: Path) -> Path:
    """A fresh copy of `made` (building it once keeps this file fast)."""
    path = tmp_path / "team.json"
    path.write_bytes(made)
    return path


# --- 1. numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["78,5", "1,250", "1.250,5"])
def test_a_comma_is_refused_with_how_to_write_the_number(store: Path, value: str) -> None:
    err = refused(store, "record", "OEE", value)
    assert f"'{value}' has a comma" in err and "(78.5)" in err and "(1250)" in err


def test_a_csv_comma_value_is_refused_not_read_as_785(store: Path, tmp_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text('board,kpi,date,value\nLine 3,OEE,-2,"78,5"\n')
    before = store.read_bytes()
    code, _, err = run(store, "import", str(f))
    assert code == 2 and "has a comma" in err and store.read_bytes() == before


@pytest.mark.parametrize(
    "value", ["1e308", "-1e308", "1e16", "1.0000001e15", "1e-300", "nan", "inf", "-Infinity"]
)
def test_values_stay_finite_and_bounded(store: Path, value: str) -> None:
    for argv in (
        ["record", "OEE", value],
        ["record", "OEE", "1", "--plan", value],
        ["target", "OEE", value],
        ["kpi", "add", "Yield", "--board", "Line 3", "--target", value],
        ["kpi", "edit", "OEE", "--amber", value],
    ):
        err = refused(store, *argv)
        assert "1e15" in err or "finite" in err or "1e-15" in err


def test_the_bounds_themselves_are_fine(store: Path) -> None:
    ok(store, "kpi", "add", "Big", "--board", "Line 3", "--target", "1e15")
    ok(store, "record", "Big", "-1e15", "--date", "-1")
    ok(store, "record", "Big", "1e-15")
    status = json.loads(ok(store, "status", "--json"))
    assert all(k["variance_pct"] is None or abs(k["variance_pct"]) < 1e300 for k in status["kpis"])


def test_import_create_means_cannot_overflow(store: Path, tmp_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text("board,kpi,date,value\nNew,Huge,-2,1e308\nNew,Huge,-1,1e308\n")
    code, _, err = run(store, "import", str(f), "--create")
    assert code == 2 and "too large" in err
    f.write_text("board,kpi,date,value\nNew,Huge,-2,1e15\nNew,Huge,-1,1e15\n")
    assert "target 1e15" in ok(store, "import", str(f), "--create")
    ok(store, "status", "--all", "--json")


@pytest.mark.parametrize("value", ["-1e3", "-.5", "-6.5", "-0", "-1E-3", "-12%"])
def test_negative_numbers_are_positional_values(store: Path, value: str) -> None:
    ok(store, "kpi", "add", "Temp", "--board", "Line 3", "--target", value, "--direction", "down")
    ok(store, "record", "Temp", value, "--date", "-1", "--plan", value)
    ok(store, "target", "Temp", value)
    entry = json.loads(ok(store, "history", "Temp", "--json"))["entries"][0]
    assert entry["value"] == validate.number(value)


def test_negative_infinity_is_a_value_that_is_refused_not_an_option(store: Path) -> None:
    err = refused(store, "record", "OEE", "-inf")
    assert "finite" in err


def test_unicode_digits_are_not_numbers(store: Path) -> None:
    for value in ("١٢", "１２", "²", "1_000"):
        assert "not a number" in refused(store, "record", "OEE", value)


# --- 2. dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["record", "OEE", "1", "--date", "-1000000"], "before the year 1"),
        (["record", "OEE", "1", "--date", "-" + "9" * 5000], "before the year 1"),
        (["target", "OEE", "90", "--from", "+9999999"], "after the year 9999"),
        (["action", "add", "Fix", "--due", "+9999999"], "after the year 9999"),
        (["action", "edit", "1", "--due", "-1000000"], "before the year 1"),
        (["record", "OEE", "1", "--date", "0000-01-01"], "not a date"),
        (["record", "OEE", "1", "--date", "２０２４-05-01"], "not a date"),
        (["record", "OEE", "1", "--date=-١"], "not a date"),
        (["minutes", "--date", "-1000000"], "before the year 1"),
    ],
)
def test_dates_stay_within_years_1_to_9999(store: Path, argv: list[str], words: str) -> None:
    assert words in refused(store, *argv)


def test_the_last_day_and_plus_n_are_fine(store: Path) -> None:
    ok(store, "action", "edit", "1", "--due", "9999-12-31")
    ok(store, "action", "edit", "1", "--due", "+7")
    assert json.loads(ok(store, "action", "list", "--json"))["actions"][0]["due"] == "2024-05-17"
    d = validate.day("yesterday", date(1, 1, 2))
    assert d == date(1, 1, 1)
    with pytest.raises(BadInput, match="before the year 1"):
        validate.day("yesterday", date.min)
    with pytest.raises(BadInput, match="after the year 9999"):
        validate.day("+1", date.max, future_ok=True)


def test_a_csv_date_out_of_range_is_one_line_per_row(store: Path, tmp_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text("board,kpi,date,value\nLine 3,OEE,-1000000,1\nLine 3,OEE,+99999999,1\n")
    before = store.read_bytes()
    code, out, err = run(store, "import", str(f))
    lines = err.splitlines()
    assert code == 2 and out == "" and len(lines) == 3
    assert "before the year 1" in lines[0] and "after the year 9999" in lines[1]
    assert all(line.startswith("teamboard: ") for line in lines)
    assert store.read_bytes() == before


# --- 3. names -----------------------------------------------------------------------------------


def test_names_are_stored_nfc_and_found_in_either_form(store: Path) -> None:
    nfd = "Cafe\u0301"
    ok(store, "board", "add", nfd)
    assert [b["name"] for b in json.loads(ok(store, "board", "list", "--json"))["boards"]] == [
        "Line 3",
        "Café",
    ]
    ok(store, "kpi", "add", "Déchets", "--board", nfd, "--target", "1")
    ok(store, "record", "De\u0301chets", "1", "--board", "Café")


@pytest.mark.parametrize(
    "name",
    ["\u200bOEE2", "OEE2\u200b", "O\u200dEE2", "\ufeffYield", "\u202eYield", "Yi\u2066eld",
     "Yield\u00ad", "Line\u3164", "\u0301Yield", "Yi\x00eld", "Yi\u2028eld"],
)  # fmt: skip
def test_invisible_characters_in_names_are_refused(store: Path, name: str) -> None:
    for argv in (
        ["board", "add", name],
        ["kpi", "add", name, "--board", "Line 3", "--target", "1"],
        ["kpi", "edit", "OEE", "--name", name],
        ["board", "edit", "Line 3", "--name", name],
    ):
        err = refused(store, *argv)
        assert "invisible or control character" in err or "combining mark" in err


def test_a_word_mixing_look_alike_scripts_is_refused(store: Path) -> None:
    err = refused(store, "kpi", "add", "ОEE2", "--board", "Line 3", "--target", "1")
    assert "Cyrillic 'О' among Latin letters" in err and "one alphabet" in err
    refused(store, "board", "add", "Linе 4")  # a Cyrillic е
    # Scripts that imitate nothing mix freely: ΔP, a Cyrillic name, Japanese.
    ok(store, "kpi", "add", "ΔP filter", "--board", "Line 3", "--target", "1", "--force")
    ok(store, "board", "add", "Линия 4")
    ok(store, "board", "add", "ロット数")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["kpi", "add", "ОЕЕ", "--board", "Line 3", "--target", "1"],
         "'ОЕЕ' looks like the existing KPI 'OEE' (it uses Cyrillic letters): pick a name that "
         "reads differently"),
        (["kpi", "add", "0EE", "--board", "Line 3", "--target", "1"], "looks like the existing"),
        (["kpi", "add", "ＯＥＥ", "--board", "Line 3", "--target", "1"], "looks like the existing"),
        (["kpi", "edit", "Scrap", "--name", "ОЕЕ"], "looks like the existing KPI 'OEE'"),
        (["board", "add", "Line З"], "looks like the existing board 'Line 3'"),
        (["board", "add", "Lіne 3"], "Cyrillic 'і' among Latin letters"),
    ],
)  # fmt: skip
def test_a_new_name_that_only_looks_like_one_in_use_is_refused(
    store: Path, argv: list[str], message: str
) -> None:
    assert message in refused(store, *argv)


def test_look_alikes_are_judged_on_the_same_scope(store: Path) -> None:
    ok(store, "board", "add", "Line 4")
    ok(store, "kpi", "add", "ОЕЕ", "--board", "Line 4", "--target", "1")  # another board: fine
    ok(store, "board", "add", "Line 5")
    ok(store, "board", "edit", "Line 5", "--name", "Line 6")
    assert "looks like" in refused(store, "board", "edit", "Line 6", "--name", "Line З")
    ok(store, "kpi", "edit", "OEE", "--name", "oee")  # renaming itself is not a clash


def test_import_create_refuses_look_alikes(store: Path, tmp_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text(
        "board,kpi,date,value\n"
        "Line 3,ОЕЕ,-1,1\n"  # Cyrillic, beside the existing OEE
        "New,Yield,-1,1\n"
        "New,Yiеld,-1,1\n"  # mixed: refused by the name check
        "Nеw,Yield,-1,1\n"  # mixed board name
        "Line З,Yield,-1,1\n"  # looks like the board Line 3
    )
    before = store.read_bytes()
    code, _, err = run(store, "import", str(f), "--create")
    lines = err.splitlines()
    assert code == 2 and store.read_bytes() == before
    assert "looks like the existing KPI 'OEE'" in lines[0]
    assert "among Latin letters" in lines[1] and "among Latin letters" in lines[2]
    assert "looks like the existing board 'Line 3'" in lines[3]
    assert "4 of 5 rows rejected" in lines[-1]


def test_units_and_owners_are_checked_too(store: Path) -> None:
    refused(store, "kpi", "edit", "OEE", "--unit", "%\u200b")
    refused(store, "kpi", "edit", "OEE", "--owner", "al\u200bice")
    ok(store, "kpi", "edit", "OEE", "--unit", "µm")  # symbols may mix in a unit


# --- 4. text that is not UTF-8 ------------------------------------------------------------------

BAD_UTF8 = "caf\udce9"  # what Python makes of `$'caf\xe9'` on a UTF-8 command line


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["record", "OEE", "1", "--note", BAD_UTF8], "note"),
        (["note", "OEE", BAD_UTF8], "note"),
        (["action", "add", BAD_UTF8], "action title"),
        (["action", "edit", "1", "--title", BAD_UTF8], "action title"),
        (["action", "edit", "1", "--owner", BAD_UTF8], "owner"),
        (["board", "add", BAD_UTF8], "board name"),
        (["board", "add", "B", "--description", BAD_UTF8], "description"),
        (["kpi", "add", BAD_UTF8, "--board", "Line 3", "--target", "1"], "KPI name"),
        (["kpi", "edit", "OEE", "--unit", BAD_UTF8], "unit"),
        (["kpi", "edit", "OEE", "--goal", BAD_UTF8], "goal"),
        (["kpi", "edit", "OEE", "--description", BAD_UTF8], "description"),
        (["kpi", "edit", "OEE", "--owner", BAD_UTF8], "owner"),
        (["record", BAD_UTF8, "1"], "KPI name"),
        (["status", BAD_UTF8], "board name"),
        (["record", "OEE", BAD_UTF8], "value"),
        (["record", "OEE", "1", "--date", BAD_UTF8], "date"),
    ],
)
def test_text_that_is_not_utf8_is_refused_naming_the_field(
    store: Path, argv: list[str], field: str
) -> None:
    err = refused(store, *argv)
    assert err.startswith(f"teamboard: {field} ") and "not UTF-8" in err
    err.encode("utf-8")  # the message itself can be written


def test_a_csv_that_is_not_utf8_is_one_line(store: Path, tmp_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_bytes(b"board,kpi,date,value,plan,note\nLine 3,OEE,-1,1,,caf\xe9\n")
    assert "not UTF-8" in refused(store, "import", str(f))


# --- 5. ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ident", ["²", "٣", "１", "#²", "1" * 30, "-1", "1.0", "#", ""])
def test_ids_are_ascii_digits(store: Path, ident: str) -> None:
    for argv in (["action", "move", ident, "next"], ["action", "done", ident],
                 ["action", "edit", ident, "--title", "x"]):  # fmt: skip
        assert "action id" in refused(store, *argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["huddle", "--minutes", "١٠"],
        ["huddle", "--minutes", "99999999999999999999"],
        ["board", "add", "B", "--kpi-limit", "٣"],
        ["board", "edit", "Line 3", "--kpi-limit", "1" * 5000],
        ["show", "--rotate", "1e15"],
    ],
)
def test_other_whole_numbers_are_ascii_and_bounded(store: Path, argv: list[str]) -> None:
    refused(store, *argv)


# --- 6. deep board trees ------------------------------------------------------------------------


def _hand_made_tree(path: Path, depth: int, loop: bool = False) -> None:
    """A store whose boards form one chain `depth` long (as a hand edit could make it)."""
    doc = json.loads(path.read_bytes())
    proto = next(iter(doc["boards"].values()))
    boards = {}
    for i in range(1, depth + 1):
        boards[str(i)] = {**proto, "id": i, "name": f"B{i}", "parent": i - 1 if i > 1 else None}
    if loop:
        boards["1"]["parent"] = depth
    doc["boards"] = boards
    doc["meta"]["1"].setdefault("seq", {})["boards"] = depth
    path.write_text(json.dumps(doc))


def test_a_tree_1100_tiers_deep_lists_without_recursion(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    ok(path, "init")
    ok(path, "board", "add", "B1")
    _hand_made_tree(path, 1100)
    code, out, err = run(path, "board", "list")
    if code == 1:  # the store layer may refuse such a file itself: then in one line
        assert err.count("\n") == 1 and "Traceback" not in err
        return
    assert code == 0, err
    assert out.splitlines()[-1].startswith(" " * 2 * 1099 + "B1100")
    assert len(json.loads(ok(path, "board", "list", "--json"))["boards"]) == 1100
    ok(path, "status", "--all")


def test_a_hand_made_loop_is_listed_once_and_refused_as_a_parent(tmp_path: Path) -> None:
    path = tmp_path / "loop.json"
    ok(path, "init")
    ok(path, "board", "add", "B1")
    _hand_made_tree(path, 3, loop=True)
    code, out, err = run(path, "board", "list")
    if code == 1:  # the store layer may refuse a loop itself
        assert err.count("\n") == 1
        return
    assert code == 0 and sum("B" in line for line in out.splitlines()) == 3
    code, _, err = run(path, "board", "add", "C", "--parent", "B2")
    assert code == 2 and "loop" in err and err.count("\n") == 1


def test_a_new_parent_link_keeps_to_12_tiers(tmp_path: Path) -> None:
    path = tmp_path / "tiers.json"
    ok(path, "init")
    ok(path, "board", "add", "T1")
    for i in range(2, 13):
        ok(path, "board", "add", f"T{i}", "--parent", f"T{i - 1}")
    err = refused(path, "board", "add", "T13", "--parent", "T12")
    assert "tier 13" in err and "12 tiers" in err
    ok(path, "board", "add", "Side")
    ok(path, "board", "add", "Below", "--parent", "Side")
    # Moving Side (two tiers) under T11 would make tier 13.
    assert "tier 13" in refused(path, "board", "edit", "Side", "--parent", "T11")
    ok(path, "board", "edit", "Side", "--parent", "T10")
    assert "own parent" in refused(path, "board", "edit", "T3", "--parent", "T3")
    assert "is under" in refused(path, "board", "edit", "T3", "--parent", "T5")


# --- 7. spreadsheet formulas in CSV -------------------------------------------------------------

FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\r=x", "'quoted", "''two", " lead", "trail ",
            '=HYPERLINK("http://x","y")', "plain", "mid=dle", "a\nb", "a\rb", "a\r\nb"]  # fmt: skip


def test_formula_cells_are_escaped_on_export_and_read_back_identically(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.json"
    ok(path, "init")
    ok(path, "board", "add", "=Board")
    ok(path, "kpi", "add", "@KPI", "--board", "=Board", "--target", "1")
    ok(path, "kpi", "add", "--board", "=Board", "--target", "1", "--", "-KPI")  # `--`: a name
    for n in range(1, len(FORMULAS) + 1):
        ok(path, "record", "@KPI", str(-n), "--date", f"-{n}")
    # `record --note` trims like any typed text; a hand-made CSV may bring any note in.
    rows = [["board", "kpi", "date", "value", "note"]]
    rows += [
        ["'=Board", "'-KPI", f"-{n}", f"-{n}", "'" + note] for n, note in enumerate(FORMULAS, 1)
    ]
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL).writerows(rows)
    (tmp_path / "in.csv").write_bytes(buf.getvalue().encode())
    ok(path, "import", str(tmp_path / "in.csv"))
    stored = json.loads(ok(path, "history", "--json", "--", "-KPI"))["entries"]
    # History runs oldest first; row n was dated -n days.
    assert [e["note"] for e in reversed(stored)] == FORMULAS  # exactly one apostrophe came off

    exported = ok(path, "export")
    for row in list(csv.reader(io.StringIO(exported)))[1:]:
        board, kpi, _, value, _, note, who, at = row
        for cell in (board, kpi, note, who, at):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
        assert value.startswith("-")  # numbers are numbers, not escaped
    other = tmp_path / "other.json"
    ok(other, "init")
    ok(other, "import", str(_write(tmp_path / "out.csv", exported)), "--create")
    again = ok(other, "export")

    def cells(text: str) -> list[list[str]]:
        return [row[:6] for row in csv.reader(io.StringIO(text))]

    assert cells(again) == cells(exported)
    notes = [e["note"] for e in json.loads(ok(other, "history", "--json", "--", "-KPI"))["entries"]]
    assert notes[::-1] == FORMULAS


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_plain_cells_are_trimmed_and_an_apostrophe_cell_is_literal(
    store: Path, tmp_path: Path
) -> None:
    f = _write(tmp_path / "in.csv", "board,kpi,date,value,note\n Line 3 ,OEE,-2,1,  x  \n"
               "Line 3,OEE,-3,1,'  y  \n")  # fmt: skip
    ok(store, "import", str(f))
    entries = json.loads(ok(store, "history", "OEE", "--json"))["entries"]
    notes = {e["date"]: e["note"] for e in entries}
    assert (notes["2024-05-08"], notes["2024-05-07"]) == ("x", "  y  ")


# --- 9. waiting for the lock --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["x", "-1", "1e9", "nan", "1,5", "٣"])
def test_a_bad_wait_is_one_usage_line(store: Path, value: str) -> None:
    assert "--wait" in refused(store, "--wait", value, "record", "OEE", "1")


def test_wait_env_and_option_reach_the_store(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []
    real = Store

    def spy(path: Path, **kwargs: Any) -> Store:
        made.append(kwargs)
        return real(path, **kwargs)

    monkeypatch.setattr(base, "Store", spy)
    monkeypatch.setenv("TEAMBOARD_WAIT", "7")
    ok(store, "record", "OEE", "1")
    assert made[-1]["lock_timeout"] == 7
    ok(store, "--wait", "0.5", "record", "OEE", "1")
    assert made[-1]["lock_timeout"] == 0.5
    monkeypatch.setenv("TEAMBOARD_WAIT", "soon")
    code, _, err = run(store, "record", "OEE", "1")
    assert code == 2 and "TEAMBOARD_WAIT" in err
    monkeypatch.delenv("TEAMBOARD_WAIT")
    ok(store, "record", "OEE", "1")
    assert made[-1]["lock_timeout"] == base.WAIT_DEFAULT and callable(made[-1]["on_wait"])


def test_on_wait_line_is_printed_safely() -> None:
    args = cli.build_parser().parse_args(["--store", "/nonexistent/x.json", "status"])
    err = io.StringIO()
    ctx = base.Ctx(args, DAY, io.StringIO(), err)
    assert ctx.store.on_wait is not None
    ctx.store.on_wait("waiting for alice's write \x1b[2J")
    assert err.getvalue() == "teamboard: waiting for alice's write ␛[2J\n"


@contextlib.contextmanager
def _held(path: Path, seconds: float) -> Iterator[None]:
    """Another process holding the store's lock (in a transaction) for `seconds`."""
    import subprocess

    code = (
        "import sys, time\n"
        "from store import Store\n"
        "with Store(sys.argv[1]).transaction():\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(float(sys.argv[2]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
        yield
    finally:
        proc.wait(timeout=60)


def test_busy_after_the_wait_is_exit_1_and_nothing_written(store: Path) -> None:
    before = store.read_bytes()
    with _held(store, 1.5):
        started = time.monotonic()
        code, out, err = run(store, "--wait", "0", "record", "OEE", "1")
        assert time.monotonic() - started < 1.2
    assert code == 1 and out == "" and store.read_bytes() == before
    assert all(line.startswith("teamboard: ") for line in err.splitlines()) and err
    with _held(store, 0.5):
        code, _, err = run(store, "--wait", "30", "record", "OEE", "1")
    assert code == 0, err
    assert all(line.startswith("teamboard: ") for line in err.splitlines())


# --- 8. the fuzz test ---------------------------------------------------------------------------

HOSTILE = [
    "1e308", "-1e308", "1e-320", "nan", "NaN", "inf", "-inf", "78,5", "1,250", "١٢", "²", "１２",
    BAD_UTF8, "\udce9", "\x00", "a\x00b", "\x1b[2J", "\x9b31m", "[b]x[/b]", "[@click=app.quit]",
    "x[/foo]", "y[/]", "fix [/]", "a" * 3000, "-1000000", "+9999999", "9999-12-31", "0000-01-01",
    "2024-02-30", "-0", "-1e3", "ОЕЕ", "0EE", "oee", "ＯＥＥ", "OEE", "Scrap", "Line 3", "LINE 3",
    "Line З", "\u200bOEE", "OEE\ufeff", "\u202eOEE", "", " ", "\t", "\n", "\r", "-", "--", "#",
    "#1", "1", "2", "99999999999999999999", "=1+1", "@SUM(A1)", "'", "+1", "today", "-1", "next",
    "done", "Cafe\u0301", "\U0001f600", "\ud800", "%", "1e15", "-1e15", "1e-15",
]  # fmt: skip

# Values that work, so that some commands succeed and the store they leave is read back.
FINE = ["OEE", "Scrap", "Line 3", "Packing", "1", "85", "-1", "-2", "today", "next", "alice", "x"]

value = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(FINE),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)

# Each template is a command with `{}` where a hostile value goes; fixed words stay as they are.
WRITING = [
    ["record", "{}", "{}"],
    ["record", "OEE", "{}", "--date", "{}"],
    ["record", "OEE", "1", "--plan", "{}", "--note", "{}"],
    ["note", "{}", "{}"],
    ["target", "{}", "{}", "--from", "{}"],
    ["board", "add", "{}", "--parent", "{}"],
    ["board", "add", "{}", "--description", "{}", "--kpi-limit", "{}"],
    ["board", "edit", "{}", "--name", "{}"],
    ["board", "edit", "Line 3", "--parent", "{}", "--kpi-limit", "{}"],
    ["kpi", "add", "{}", "--board", "{}", "--target", "{}"],
    ["kpi", "add", "Y", "--board", "Line 3", "--target", "{}", "--amber", "{}", "--unit", "{}"],
    ["kpi", "add", "Y", "--board", "Line 3", "--target", "1", "--owner", "{}", "--goal", "{}"],
    ["kpi", "edit", "{}", "--name", "{}"],
    ["kpi", "edit", "OEE", "--amber", "{}", "--direction", "{}", "--counter", "{}"],
    ["kpi", "archive", "{}", "--board", "{}"],
    ["action", "add", "{}", "--kpi", "{}", "--due", "{}"],
    ["action", "add", "x", "--owner", "{}", "--board", "{}"],
    ["action", "move", "{}", "{}"],
    ["action", "done", "{}"],
    ["action", "edit", "{}", "--title", "{}", "--due", "{}"],
    ["action", "edit", "1", "--owner", "{}", "--kpi", "{}"],
    ["--wait", "{}", "record", "OEE", "1"],
]
READING = [
    ["status", "{}"],
    ["status", "--all", "--json"],
    ["history", "{}", "--board", "{}"],
    ["kpi", "list", "{}", "--json"],
    ["board", "list"],
    ["action", "list", "{}"],
    ["minutes", "--date", "{}", "--board", "{}"],
    ["export"],
    ["show", "{}", "--rotate", "{}"],
    ["huddle", "{}", "--minutes", "{}"],
]
IMPORT = "import"  # a CSV of hostile cells, with or without --create


def _argv(template: list[str], values: list[str]) -> list[str]:
    it = iter(values)
    return [next(it) if part == "{}" else part for part in template]


class _App:
    """The screens' app, faked: the fuzz test is about parsing, not drawing."""

    return_code = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def run(self) -> None:
        pass


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("fuzz") / "base.json"
    ok(path, "init")
    ok(path, "board", "add", "Line 3")
    ok(path, "board", "add", "Packing", "--parent", "Line 3")
    ok(path, "kpi", "add", "OEE", "--board", "Line 3", "--target", "85", "--amber", "80")
    ok(path, "kpi", "add", "Scrap", "--board", "Line 3", "--target", "2", "--direction", "down")
    ok(path, "record", "OEE", "80", "--date", "-1", "--note", "=cmd")
    ok(path, "action", "add", "Fix", "--kpi", "OEE")
    return path.read_bytes()


FUZZ_EXAMPLES = 400


def _check_output(argv: list[str], code: int, out: str, err: str) -> None:
    for text in (out, err):
        text.encode("utf-8")  # nothing unwritable reaches a real terminal
        assert "\x1b" not in text, argv
    assert "Traceback" not in err and "internal error" not in err, (argv, err)
    if code == 0:
        return
    lines = err.splitlines()
    assert lines and all(line.startswith("teamboard: ") for line in lines), (argv, err)
    if argv[0] != IMPORT:
        assert len(lines) == 1, (argv, err)


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    template=st.sampled_from([*WRITING, *READING, *[[IMPORT]] * 4]),
    values=st.lists(value, min_size=6, max_size=6),
    create=st.booleans(),
)
def test_fuzz_every_command_with_hostile_values(
    base_store: bytes,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    template: list[str],
    values: list[str],
    create: bool,
) -> None:
    module = types.ModuleType("tui.app")
    module.TeamboardApp = _App  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tui.app", module)
    folder = tmp_path_factory.getbasetemp() / "fuzz-run"
    folder.mkdir(exist_ok=True)
    path = folder / "store.json"
    path.write_bytes(base_store)
    if template == [IMPORT]:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["board", "kpi", "date", "value", "plan", "note"])
        writer.writerow(values[:6])
        writer.writerow(["Line 3", "OEE", values[2], values[3], "", values[5]])
        csv_path = folder / "in.csv"
        try:
            blob = buf.getvalue().encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate outside U+DC80..U+DCFF: invalid UTF-8
            blob = buf.getvalue().encode("utf-8", "surrogatepass")
        csv_path.write_bytes(blob)
        argv = [IMPORT, str(csv_path), *(["--create"] if create else [])]
    else:
        argv = _argv(template, values)
    try:
        code, out, err = run(path, *argv)
    except BaseException as exc:  # anything escaping main is a traceback for a user
        pytest.fail(f"{argv!r} raised {type(exc).__name__}: {exc}")
    allowed = {0, 1, 2} if template[0] == "minutes" else {0, 2}
    assert code in allowed, (argv, code, err)
    _check_output(argv, code, out, err)
    if code != 0:
        assert path.read_bytes() == base_store, argv
        return
    # Whatever was accepted must leave a store every later command can read.
    for after in (["status", "--all", "--json"], ["export"], ["board", "list"]):
        code, out, err = run(path, *after)
        assert code == 0, (argv, after, err)
        _check_output(after, code, out, err)
    json.loads(run(path, "status", "--all", "--json")[1], parse_constant=_no_constant)


def _no_constant(name: str) -> Any:
    raise AssertionError(f"{name} is not JSON")


# --- the rest: one line for every mistake, and no cost for `record` -----------------------------


def test_a_group_without_its_command_is_one_line(store: Path) -> None:
    err = refused(store, "kpi")
    assert "kpi needs a command: add, list, edit, archive" in err


def test_a_terminal_that_cannot_show_the_answer_gets_one_line(store: Path) -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--store", str(store), "status"], today=DAY)
    assert code == 1 and err.getvalue().count("\n") == 1 and "UTF-8 locale" in err.getvalue()


def test_a_bug_is_one_line_with_exit_70(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: Any) -> int:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(status, "cmd_status", broken)
    monkeypatch.delenv("TEAMBOARD_DEBUG", raising=False)
    code, _, err = run(store, "status")
    assert code == 70 and err.count("\n") == 1 and "ZeroDivisionError: boom" in err
    monkeypatch.setenv("TEAMBOARD_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        run(store, "status")


def test_record_does_not_load_the_confusables(store: Path) -> None:
    """Look-alike checks cost ~50 ms of data: only adding or renaming a name pays it."""
    import subprocess

    code = (
        "import sys\n"
        "from datetime import date\n"
        "from tui.cli import main\n"
        f"argv = ['--store', {str(store)!r}, 'record', 'OEE', '-1e3']\n"
        "assert main(argv, date(2024, 5, 10)) == 0\n"
        "print('confusable_homoglyphs' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "False"
