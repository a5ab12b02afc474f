"""`store.quick`, `teamboard record`'s lean core: on any store the real operations make, it writes
byte for byte what the full path (`tui.lean.record` → `store.fastpath`) writes and prints the
same line, or it hands over with nothing written; it takes the common case; it holds the real
lock; and it refuses planted links and FIFOs as the full path does."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY, fingerprint, seeded
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import store.db
import store.quick as quick
import tui.lean
from store import Store, ops, schema
from store.errors import StoreError
from store.lock import locked
from store.model import Direction, Frequency, Stage
from tui import launch

NOW = datetime.combine(TODAY, time(12, 0))
AT = "2026-11-20T11:00:00Z"
ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checked-tables cache in the test's own folder, and one clock for both paths."""
    monkeypatch.setenv("TEAMBOARD_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TEAMBOARD_WAIT", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(store.db, "utcnow", lambda: AT)
    monkeypatch.setattr(quick, "_utcnow", lambda: AT)


Outcome = tuple[int | None, str, str, bytes]


def _lean(path: Path, args: dict[str, str], now: datetime = NOW) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = launch.lean_record({**args, "store": str(path)}, now)
    return code, out.getvalue(), err.getvalue(), path.read_bytes()


def _full(path: Path, args: dict[str, str], now: datetime = NOW) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = tui.lean.record({**args, "store": str(path)}, now)
    return code, out.getvalue(), err.getvalue(), path.read_bytes()


def compare(original: Path, args: dict[str, str], now: datetime = NOW) -> bool:
    """Run the lean core and the full path on copies of `original`; assert they agree (or the
    lean core handed over, its copy untouched). True when the lean core wrote."""
    folder = original.parent
    a, b = folder / "lean.json", folder / "full.json"
    shutil.copyfile(original, a)
    shutil.copyfile(original, b)
    before = fingerprint(a)
    lean = _lean(a, args, now)
    full = _full(b, args, now)
    if lean[0] is None:
        assert fingerprint(a) == before  # handed over: nothing written, not even touched
        return False
    assert lean == full
    return True


# --- the differential property -------------------------------------------------------------

NAMES = ["Output", "Scrap €", "Ünits per hour", "Ça va", "Temp °C", "Åben 日本", "Ω"]
UNITS = ["", "%", "units", "°C", "€", "min", "\x1b[31mx", "a\u200bb"]
NOTES = [
    "",
    "ok",
    "line one\nline two",
    "\x1b[2J",
    "tab\there",
    "naïve – ✓",
    "1e-05 ish",
    "\u202eevil",
    "🙂",
    " padded ",
]
VALUES = st.one_of(
    st.sampled_from(
        [0.0, 0.1, 1e-4, 12.5, 100.0, 1e15, -3.25, 99.99, 123456.789, 7.0] * 3 + [1e-05]
    ),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 3)),
    st.integers(min_value=-1000, max_value=1000).map(float),
)
VALUE_TEXTS = st.one_of(
    st.sampled_from(
        [
            "95",
            "100",
            "0",
            "-3",
            "12.50",
            "7%",
            "1e3",
            "1e-5",
            "0.00001",
            " 42 ",
            "−4",
            "1e15",
            "2e15",
            "abc",
            "1,5",
            "nan",
            ".5",
            "+8",
        ]
    ),
    VALUES.map(repr),
)
DATE_TEXTS = st.sampled_from(
    [
        None,
        None,
        "today",
        "yesterday",
        "-3",
        "-40",
        "+1",
        "+2",
        "2026-11-19",
        "2026-10-31",
        "2026-13-01",
        "20261119",
        "-0",
    ]
)


@st.composite
def stores(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """A list of operations: the real ones, as people run them."""
    ops_: list[tuple[str, Any]] = [("board", "Line"), ("board", "Dock")]
    for n in range(draw(st.integers(1, 4))):
        ops_.append(
            (
                "kpi",
                {
                    "name": draw(st.sampled_from(NAMES)) + ("" if n == 0 else f" {n}"),
                    "board": draw(st.sampled_from(["Line", "Dock"])),
                    "target": draw(
                        st.sampled_from([100.0, 100.0, 0.0, 8.5, 50.0, 100.0, 1e-05, 7.0])
                    ),
                    "direction": draw(st.sampled_from([Direction.UP, Direction.DOWN])),
                    "unit": draw(st.sampled_from(UNITS)),
                    "amber": draw(st.sampled_from([None, 10.0, 90.0, 120.0])),
                    "frequency": draw(st.sampled_from(list(Frequency))),
                    "counter": draw(st.integers(0, 4)) == 0 and n > 0,
                    "due": draw(st.sampled_from([None, None, None, None, time(9, 0)])),
                },
            )
        )
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(
            st.sampled_from(
                ["entry"] * 6 + ["target", "action", "done", "explain", "estimate", "archive"]
            )
        )
        ops_.append(
            (
                kind,
                {
                    "kpi": draw(st.integers(0, 3)),
                    "value": draw(VALUES),
                    "day": TODAY - timedelta(days=draw(st.integers(-1, 45))),
                    "plan": draw(st.sampled_from([None, None, None, 80.0])),
                    "note": draw(st.sampled_from(NOTES)),
                },
            )
        )
    return ops_


def build(path: Path, plan: list[tuple[str, Any]]) -> list[str]:
    """Make the store with the real operations (an operation refused is left out); the KPI
    names made."""
    from store import explain, plans

    s = Store(path)
    ops.init(s)
    names: list[str] = []
    for kind, given_arg in plan:
        arg: Any = dict(given_arg) if isinstance(given_arg, dict) else given_arg
        try:
            if kind == "board":
                ops.add_board(s, arg)
            elif kind == "kpi":
                counter = names[0] if arg.pop("counter") and names else None
                ops.add_kpi(s, counter=counter, **arg)
                names.append(arg["name"])
            elif not names:
                continue
            else:
                name = names[arg["kpi"] % len(names)]
                if kind == "entry":
                    ops.record(
                        s,
                        name,
                        arg["value"],
                        arg["day"],
                        TODAY,
                        plan=arg["plan"],
                        note=arg["note"].strip(),
                        now=NOW,
                    )
                elif kind == "target":
                    ops.set_target(s, name, arg["value"], arg["day"] + timedelta(days=20))
                elif kind == "action":
                    ops.add_action(s, "Fix it", kpi=name)
                elif kind == "done":
                    for a in s.read().actions.values():
                        ops.move_action(s, a.id, Stage.DONE)
                elif kind == "explain":
                    explain.explain(s, name, "a known cause", TODAY)
                elif kind == "estimate":
                    plans.plan(s, name, arg["value"], arg["day"])
                elif kind == "archive":
                    ops.archive_kpi(s, name)
        except StoreError:
            pass
    return names


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=stores(),
    pick=st.integers(0, 3),
    case=st.sampled_from(["same", "same", "same", "upper", "spaced", "missing"]),
    board=st.sampled_from([None, None, None, None, "Line", "dock", "Nowhere"]),
    value=VALUE_TEXTS,
    day=DATE_TEXTS,
    note=st.sampled_from([None, *NOTES]),
    now=st.sampled_from([NOW, NOW + timedelta(days=9), NOW.replace(hour=0, minute=5)]),
)
def test_the_lean_core_writes_what_the_full_path_writes_or_hands_over(
    plan: list[tuple[str, Any]],
    pick: int,
    case: str,
    board: str | None,
    value: str,
    day: str | None,
    note: str | None,
    now: datetime,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        original = Path(tmp) / "original.json"
        names = build(original, plan)
        name = names[pick % len(names)] if names else "Output"
        name = {
            "same": name,
            "upper": name.upper(),
            "spaced": f" {name} ",
            "missing": "No such KPI",
        }[case]
        args = {"kpi": name, "value": value}
        for key, text in (("board", board), ("date", day), ("note", note)):
            if text is not None:
                args[key] = text
        first = compare(original, args, now)
        assert compare(original, args, now) == first  # again: from the checked-tables cache
        event("lean" if first else "handed over")


def test_the_schema_is_the_one_the_lean_core_knows() -> None:
    assert quick.SCHEMA == schema.SCHEMA


# --- it is taken for the common case -------------------------------------------------------


def test_the_lean_core_takes_a_plain_record(tmp_path: Path) -> None:
    path = tmp_path / "team.json"
    s = seeded(path)
    ops.add_kpi(s, "Scrap", "Line", 2.0, Direction.DOWN, unit="%", amber=4.0)
    ops.record(s, "Output", 90.0, TODAY - timedelta(days=1), TODAY)
    ops.add_action(s, "Fix the feeder", kpi="Scrap")
    cases = [
        {"kpi": "Output", "value": "95"},
        {"kpi": "output", "value": "101.5", "note": "new tooling"},
        {"kpi": "Output", "value": "90", "date": "yesterday"},  # supersedes
        {"kpi": "Output", "value": "80", "date": "-3"},  # not the latest
        {"kpi": "Scrap", "value": "5%", "board": "Line"},  # red, with an action
        {"kpi": "Scrap", "value": "3"},  # amber
    ]
    for args in cases:
        assert compare(path, args), args


def test_a_store_of_every_kind_of_kpi_is_mostly_lean(tmp_path: Path) -> None:
    """The demo store: the KPIs without a counter-metric, due time, estimate or explanation
    are recorded lean; the others are handed over."""
    from store.demo import build as demo

    path = tmp_path / "demo.json"
    demo(Store(path), TODAY)
    lean = {
        k.name: compare(path, {"kpi": k.name, "value": "3"})
        for k in Store(path).read().kpis.values()
        if not k.archived
    }
    assert any(lean.values()) and not all(lean.values()), lean


def test_what_it_hands_over(tmp_path: Path) -> None:
    path = tmp_path / "team.json"
    seeded(path)
    handed = [
        {"kpi": "Output", "value": "1e-5"},  # json writes 1e-05, orjson 1e-5
        {"kpi": "Output", "value": "95", "plan": "90"},
        {"kpi": "Nope", "value": "95"},
        {"kpi": "Output", "value": "abc"},
        {"kpi": "Output", "value": "95", "date": "+2"},
    ]
    for args in handed:
        assert not compare(path, args), args
    text = path.read_text()
    path.write_text(json.dumps(json.loads(text), indent=1))  # the same data, not canonical
    assert not compare(path, {"kpi": "Output", "value": "95"})
    path.write_text(text.replace('"value":100.0', '"value":1e-05', 1))  # no longer canonical
    assert not compare(path, {"kpi": "Output", "value": "95"})
    big = json.loads(text)
    big["boards"]["1"]["description"] = "x" * quick.MAX_BYTES
    path.write_text(json.dumps(big, ensure_ascii=False, separators=(",", ":")))
    assert not compare(path, {"kpi": "Output", "value": "95"})


def test_a_malformed_table_is_checked_by_the_full_paths_decoders(tmp_path: Path) -> None:
    """A hand edit the lean core does not check itself (a board's parent that is text) is
    found by the full path's decoders, whose error the full path words; once the tables are
    checked, they are not checked again until they change."""
    path = tmp_path / "team.json"
    seeded(path)
    raw = json.loads(path.read_text())
    raw["boards"]["1"]["parent"] = "Line"
    path.write_text(json.dumps(raw, ensure_ascii=False, separators=(",", ":")))
    assert not compare(path, {"kpi": "Output", "value": "95"})
    assert "malformed" in _full(tmp_path / "full.json", {"kpi": "Output", "value": "9"})[2]

    path = tmp_path / "good.json"
    seeded(path)
    code = (
        "import sys, io, contextlib\n"
        "from tui.launch import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['--store', {str(path)!r}, 'record', 'Output', '3'])\n"
        "print(code, sorted(m for m in sys.modules if m in ('store.snapshot', 'store.model',\n"
        "      'orjson', 'dataclasses', 'typing', 'pathlib', 'store.fastpath', 'tui.lean')))\n"
    )
    env = {**os.environ, "TEAMBOARD_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=DEADLINE,
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs[0] == "0 ['dataclasses', 'store.model', 'store.snapshot', 'typing']"
    assert runs[1] == "0 []"  # checked already: the lean core alone


def test_the_cache_is_trusted_only_when_private(tmp_path: Path) -> None:
    where = quick._seals_path()
    assert where is not None
    quick._keep_seal(where, "ab" * 32, [])
    assert quick._read_seals(where) == ["ab" * 32]
    assert os.stat(where).st_mode & 0o777 == 0o600
    os.chmod(where, 0o622)  # someone else could have written it
    assert quick._read_seals(where) == []
    os.unlink(where)
    os.symlink(tmp_path / "elsewhere", where)
    (tmp_path / "elsewhere").write_text("ab" * 32)
    os.chmod(tmp_path / "elsewhere", 0o600)
    assert quick._read_seals(where) == []


# --- the real lock ---------------------------------------------------------------------------


def _lean_child(path: Path, value: str, cache: Path) -> subprocess.Popen[str]:
    code = (
        "import sys\n"
        "from tui.launch import main, lean_record\n"
        f"code = lean_record({{'store': {str(path)!r}, 'kpi': 'Output', 'value': {value!r}}})\n"
        "print('lean' if code == 0 else 'handed over', flush=True)\n"
    )
    env = {**os.environ, "TEAMBOARD_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_the_lean_core_waits_for_the_real_lock(tmp_path: Path) -> None:
    path = tmp_path / "team.json"
    seeded(path)
    cache = tmp_path / "cache"
    first = _lean_child(path, "1", cache)  # checks the tables once
    assert first.communicate(timeout=DEADLINE)[0].splitlines()[-1] == "lean"
    before = fingerprint(path)
    lock_file = path.with_name(path.name + ".lock")
    with locked(path):
        child = _lean_child(path, "2", cache)
        mark = f'"pid":{child.pid},'.encode()
        waited = threading.Event()

        def watch() -> None:
            while child.poll() is None:
                if mark in lock_file.read_bytes():  # queued behind us, in the lock's ring
                    waited.set()
                    return

        watcher = threading.Thread(target=watch)
        watcher.start()
        watcher.join(DEADLINE)
        assert waited.is_set(), child.communicate()
        assert fingerprint(path) == before  # it waits: nothing written while we hold the lock
    out, err = child.communicate(timeout=DEADLINE)
    assert out.splitlines()[-1] == "lean", err
    values = [d["value"] for d in json.loads(path.read_bytes())["entries"].values()]
    assert values == [1.0, 2.0]


WRITER = """
import sys, io, contextlib
from tui.launch import lean_record
import tui.lean
path, who, n, lean = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "lean"
took = 0
for i in range(n):
    args = {"store": path, "kpi": "Output", "value": f"{who}{i:03d}"}
    with contextlib.redirect_stdout(io.StringIO()):
        code = lean_record(args) if lean else None
        if code is None:
            code = tui.lean.record(args)
        else:
            took += 1
    assert code == 0, code
print(took)
"""


def test_lean_and_full_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "team.json"
    seeded(path)
    _lean(path, {"kpi": "Output", "value": "1"})  # the tables checked once, in this cache
    env = {**os.environ, "TEAMBOARD_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    kinds = {"1": "lean", "2": "full", "3": "lean", "4": "full"}
    procs = {
        who: subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), who, "8", kind],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for who, kind in kinds.items()
    }
    took = {}
    for who, p in procs.items():
        out, err = p.communicate(timeout=DEADLINE * 3)
        assert p.returncode == 0, err
        took[who] = int(out)
    raw = json.loads(path.read_bytes())
    values = sorted(d["value"] for d in raw["entries"].values())
    want = sorted([1.0] + [float(f"{w}{i:03d}") for w in kinds for i in range(8)])
    assert values == want
    ids = [d["id"] for d in raw["entries"].values()]
    assert ids == list(range(1, len(want) + 1)) and raw["meta"]["1"]["seq"]["entries"] == len(want)
    assert took["1"] + took["3"] > 0 and took["2"] == took["4"] == 0
    assert raw == json.loads(path.read_bytes().decode())  # one parse, no tear


# --- planted links and FIFOs ---------------------------------------------------------------


def _both_fronts(
    argv: list[str], tmp_path: Path, reset: Callable[[], object]
) -> list[tuple[int, str, str]]:
    """`teamboard ARGV` by the console script's entry (lean first) and by the full command
    line, in child processes (a FIFO opened by mistake would block them: the timeout fails
    the test instead); `reset` puts the store back in between."""
    got = []
    for front in ("tui.launch", "tui.cli"):
        reset()
        code = f"import sys\nfrom {front} import main\nsys.exit(main({argv!r}))\n"
        env = {**os.environ, "TEAMBOARD_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            timeout=DEADLINE,
            check=False,
        )
        got.append((done.returncode, done.stdout, done.stderr))
    return got


@pytest.mark.parametrize("planted", ["fifo-lock", "symlink-lock", "fifo-store", "link-store"])
def test_planted_links_and_fifos_are_refused_as_the_full_path_refuses_them(
    tmp_path: Path, planted: str
) -> None:
    path = tmp_path / "team.json"
    seeded(path)
    _lean(path, {"kpi": "Output", "value": "1"})  # checked: the lean core would take it
    secret = tmp_path / "secret"
    secret.write_text("private\n")
    secret.chmod(0o600)
    lock_file = path.with_name(path.name + ".lock")
    lock_file.unlink()
    if planted == "fifo-lock":
        os.mkfifo(lock_file)
    elif planted == "symlink-lock":
        lock_file.symlink_to(secret)
    elif planted == "fifo-store":
        path.unlink()
        os.mkfifo(path)
    else:
        real = tmp_path / "real.json"
        path.rename(real)
        path.symlink_to(real)
        shutil.copyfile(real, tmp_path / "kept.json")
    reset = (
        (lambda: shutil.copyfile(tmp_path / "kept.json", tmp_path / "real.json"))
        if (planted == "link-store")
        else (lambda: None)
    )
    lean, full = _both_fronts(["--store", str(path), "record", "Output", "3"], tmp_path, reset)
    assert lean == full
    assert lean[0] != 0 or planted == "link-store"  # our own symlink is followed
    assert secret.read_text() == "private\n" and secret.stat().st_mode & 0o777 == 0o600


def test_the_import_checks_hold() -> None:
    """The console script imports only itself until it has read the arguments, and the lean
    core imports no typing, dataclasses, pathlib or orjson."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, re, store.quick, store.lock, store.safeio; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typing', 'dataclasses', "
            "'pathlib', 'orjson', 'tinydb', 'argparse') or m in ('store.model', 'store.db')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.stdout.strip() == "[]"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kpis=st.lists(
        st.tuples(
            st.sampled_from(list(Direction)),
            st.sampled_from(list(Frequency)),
            st.sampled_from(["", "%", "units", "°C"]),
            st.sampled_from([None, 10.0, 90.0, 120.0]),
        ),
        min_size=1,
        max_size=3,
    ),
    entries=st.lists(
        st.tuples(
            st.integers(0, 2), st.integers(0, 40), st.floats(0, 500).map(lambda x: round(x, 2))
        ),
        max_size=15,
    ),
    actions=st.lists(st.tuples(st.integers(0, 2), st.booleans()), max_size=3),
    pick=st.integers(0, 2),
    value=st.floats(-1000, 1000).map(lambda x: repr(round(x, 3))),
    day=st.sampled_from([None, "yesterday", "-2", "-9", "2026-11-01"]),
    note=st.sampled_from([None, "ok", "naïve\n✓"]),
)
def test_a_plain_record_on_a_plain_store_is_always_lean_and_the_same(
    kpis: list[tuple[Direction, Frequency, str, float | None]],
    entries: list[tuple[int, int, float]],
    actions: list[tuple[int, bool]],
    pick: int,
    value: str,
    day: str | None,
    note: str | None,
) -> None:
    """What teams do most: KPIs of every direction, frequency and unit, entries, supersedes,
    back-dated records, actions open and done; the lean core always takes it, and agrees."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "original.json"
        s = Store(path)
        ops.init(s)
        ops.add_board(s, "Line")
        names = []
        for n, (direction, frequency, unit, amber) in enumerate(kpis):
            name = f"KPI {n}"
            target = 100.0
            if amber is not None and (amber >= target) == (direction is Direction.UP):
                amber = None  # amber on the wrong side of the target: refused, leave it out
            ops.add_kpi(s, name, "Line", target, direction, unit, amber, frequency)
            names.append(name)
        for k, back, v in entries:
            ops.record(s, names[k % len(names)], v, TODAY - timedelta(days=back), TODAY, now=NOW)
        for k, done in actions:
            a = ops.add_action(s, "Fix it", kpi=names[k % len(names)])
            if done:
                ops.move_action(s, a.id, Stage.DONE)
        args = {"kpi": names[pick % len(names)], "value": value}
        if day is not None:
            args["date"] = day
        if note is not None:
            args["note"] = note
        assert compare(path, args)


def test_the_lean_copies_of_the_limits_are_the_store_s() -> None:
    """`store.quick` and `store.entrycheck` import nothing heavy, so they hold the value limit as
    a number of their own: it must stay the decoder's and the validator's."""
    from store import entrycheck, validate
    from store.codec import fields

    assert quick.LIMIT == entrycheck.LIMIT == fields.LIMIT == validate.LIMIT
