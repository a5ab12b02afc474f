"""The store file: corrupt, empty, missing and read-only, migration, modes, temp files, lock."""

from __future__ import annotations

import fcntl
import grp
import json
import os
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import NOBODY, TODAY, fingerprint, run_child, seeded

from store import Store, StoreCorrupt, StoreMissing, StoreReadOnly, ops
from store.errors import StoreBusy, StoreError
from store.model import Target
from store.schema import SCHEMA
from store.storage import locked

ROOT = os.geteuid() == 0



def record(store: Store, value: float = 1.0) -> None:
    ops.record(store, "Output", value, TODAY, TODAY)


def leftovers(folder: Path) -> list[str]:
    """Anything in the folder that is neither a store nor its lock: temp files, mostly."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith((".json", ".lock")))



def other_group() -> int | None:
    """A group other than ours that we may give a file: any as root, else one we belong to."""
    if ROOT:
        return grp.getgrnam("users").gr_gid if _has_group("users") else NOBODY
    mine = [g for g in os.getgroups() if g != os.getegid()]
    return mine[0] if mine else None


def _has_group(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


WRITES: list[tuple[str, Callable[[Store], Any]]] = [
    ("init", ops.init),
    ("add_board", lambda s: ops.add_board(s, "Another")),
    ("record", record),
]


# --- corrupt, empty, missing -------------------------------------------------------------------


BROKEN = b'{\n  "boards": {\n    "1": {"id": 1, "name": "Line",, }\n  }\n}\n'


@pytest.mark.parametrize(("name", "write"), WRITES)
def test_corrupt_file_names_line_and_column_and_is_never_written(
    store_path: Path, name: str, write: Callable[[Store], Any]
) -> None:
    store_path.write_bytes(BROKEN)
    before = fingerprint(store_path)
    store = Store(store_path)
    with pytest.raises(StoreCorrupt) as read_err:
        store.read()
    assert (read_err.value.line, read_err.value.column) == (3, 35)
    assert "line 3, column 35" in str(read_err.value)
    assert str(store_path) in str(read_err.value)
    with pytest.raises(StoreCorrupt) as write_err:
        write(store)
    assert write_err.value.line == 3
    assert fingerprint(store_path) == before
    assert leftovers(store_path.parent) == []


MARK = b'"meta": {"1": {"format": "teamboard-store", "schema": 3}}'


@pytest.mark.parametrize(
    ("blob", "detail"),
    [
        (b'{"boards": {"1": {"id": 1}}}', "table 'boards', id 1, field 'name': is missing"),
        (
            b'{"kpis": {"1": {"id": 1, "board": 1, "name": "K", "targets": "x"}}}',
            "table 'kpis', id 1, field 'targets': 'x' is not a list",
        ),
        (
            b"{" + MARK + b', "entries": {"1": {"id": 1, "kpi": 1, "date": "2026-13-40", '
            b'"value": 1}}}',
            "table 'entries', id 1, field 'date': '2026-13-40' is not a date",
        ),
    ],
)
def test_malformed_store_is_corrupt(store_path: Path, blob: bytes, detail: str) -> None:
    store_path.write_bytes(blob)
    with pytest.raises(StoreCorrupt) as err:
        Store(store_path).read()
    assert detail in str(err.value)


def test_truncated_file_is_corrupt(demo_store: Store) -> None:
    blob = demo_store.path.read_bytes()
    demo_store.path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(StoreCorrupt) as err:
        demo_store.read()
    assert err.value.line == 1 and err.value.column is not None


@pytest.mark.parametrize("blob", [b"", b"\n", b"  \n\t"])
def test_an_empty_file_is_no_store_yet(store_path: Path, blob: bytes) -> None:
    store_path.write_bytes(blob)
    store = Store(store_path)
    with pytest.raises(StoreMissing, match="init"):
        store.read()
    with pytest.raises(StoreMissing):
        ops.add_board(store, "Line")
    assert store_path.read_bytes() == blob
    ops.init(store)  # an admin may create the file first, to give it a mode and a group
    ops.add_board(store, "Line")
    assert [b.name for b in store.read().boards.values()] == ["Line"]
    raw = orjson.loads(store_path.read_bytes())
    assert raw["meta"]["1"] == {
        "format": "teamboard-store",
        "schema": SCHEMA,
        "seq": {"boards": 1},
        "last_change": raw["meta"]["1"]["last_change"],
    }


def test_missing_file_says_how_to_create_it(store_path: Path) -> None:
    store = Store(store_path)
    with pytest.raises(StoreMissing) as err:
        store.read()
    assert f"teamboard --store {store_path} init" in str(err.value)
    with pytest.raises(StoreMissing):
        ops.add_board(store, "Line")
    assert list(store_path.parent.iterdir()) == []  # not even a lock file


def test_a_folder_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder, not a store file"):
        Store(tmp_path).read()


def test_init_creates_folders_and_is_idempotent(tmp_path: Path) -> None:
    store = Store(tmp_path / "a" / "b" / "team.json")
    ops.init(store)
    before = store.path.read_bytes()
    ops.init(store)  # only touches last_change
    raw = orjson.loads(store.path.read_bytes())
    assert set(raw) >= {"meta", "boards", "kpis", "entries", "actions", "huddles"}
    assert raw["meta"]["1"]["schema"] == SCHEMA
    assert orjson.loads(before)["boards"] == raw["boards"]


# --- permissions --------------------------------------------------------------------------------


READ_THEN_WRITE = """
store = Store(sys.argv[1] if len(sys.argv) > 1 else {path!r})
out = {{"kpis": [k.name for k in store.read().kpis.values()]}}
try:
    ops.record(store, "Output", 5.0, date(2026, 11, 20), date(2026, 11, 20))
    out["error"] = None
except StoreError as exc:
    out["error"] = type(exc).__name__
    out["message"] = str(exc)
print(json.dumps(out))
"""


def read_then_write_as_other(path: Path) -> dict[str, Any]:
    """Read, then try to record, as another user (nobody) when root, else as ourselves."""
    user: tuple[int, int, list[int]] | None = (NOBODY, NOBODY, []) if ROOT else None
    done = run_child(READ_THEN_WRITE.format(path=str(path)), user)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("case", ["file", "folder"])
def test_read_only_file_or_folder(shared_dir: Path, case: str) -> None:
    folder = shared_dir / "board"
    folder.mkdir()
    store = seeded(folder / "team.json")
    if case == "file":
        store.path.chmod(0o444)
        folder.chmod(0o777)  # the folder is not the obstacle
    else:
        store.path.chmod(0o666)  # the file is not the obstacle: a rename writes the folder
        folder.chmod(0o755 if ROOT else 0o555)
    before = fingerprint(store.path)
    names_before = sorted(p.name for p in folder.iterdir())
    out = read_then_write_as_other(store.path)
    assert out["kpis"] == ["Output"]  # reading works
    assert out["error"] == "StoreReadOnly"
    assert "read-only for you" in out["message"] and "chmod g+w" in out["message"]
    if case == "folder":
        assert "folder" in out["message"].split("read-only")[0]
    assert fingerprint(store.path) == before
    assert sorted(p.name for p in folder.iterdir()) == names_before


def test_unreadable_file_says_so(shared_dir: Path) -> None:
    if not ROOT:
        pytest.skip("needs a second user: run as root to test a file only its owner can read")
    store = seeded(shared_dir / "team.json")
    store.path.chmod(0o600)
    done = run_child(
        f"try:\n    Store({str(store.path)!r}).read()\nexcept StoreError as exc:\n"
        "    print(type(exc).__name__, exc)\n",
        (NOBODY, NOBODY, []),
    )
    assert done.stdout.startswith("StoreReadOnly cannot read"), done.stderr


def test_read_only_in_process_as_a_user(store_path: Path) -> None:
    """The same refusal without a second user: the check runs before any lock or temp file."""
    if ROOT:
        pytest.skip("root may write anything; covered as user nobody in test_read_only_*")
    store = seeded(store_path)
    store_path.chmod(0o444)
    before = fingerprint(store_path)
    with pytest.raises(StoreReadOnly):
        record(store)
    assert fingerprint(store_path) == before


def test_mode_owner_and_group_survive_a_write(store_path: Path) -> None:
    store = seeded(store_path)
    gid = other_group()
    if gid is not None:
        os.chown(store_path, -1, gid)
    store_path.chmod(0o664)
    uid_before, gid_before = store_path.stat().st_uid, store_path.stat().st_gid
    record(store)
    st = store_path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o664
    assert (st.st_uid, st.st_gid) == (uid_before, gid_before)
    lock = store_path.with_name("team.json.lock").stat()
    assert stat.S_IMODE(lock.st_mode) == 0o664  # so the group can take the lock too
    if gid is None:
        pytest.skip("mode checked; group not: we belong to no second group to give the file")


def test_a_new_store_follows_the_umask(store_path: Path) -> None:
    old = os.umask(0o002)
    try:
        ops.init(Store(store_path))
    finally:
        os.umask(old)
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o664
    assert stat.S_IMODE(store_path.with_name("team.json.lock").stat().st_mode) == 0o664


# --- schema -------------------------------------------------------------------------------------


V1 = {
    "boards": {"1": {"id": 1, "name": "Line"}},
    "kpis": {
        "1": {"id": 1, "board": 1, "name": "Output", "target": 95.0, "direction": "up"},
        "2": {"id": 2, "board": 1, "name": "Scrap", "target": 400, "direction": "down"},
    },
    "entries": {"1": {"id": 1, "kpi": 1, "date": "2026-11-19", "value": 97.0}},
}


def test_v1_is_migrated_on_read_without_writing(store_path: Path) -> None:
    store_path.write_bytes(orjson.dumps(V1))
    before = fingerprint(store_path)
    snap = Store(store_path).read()
    assert snap.kpis[1].targets == (Target(95.0),) and snap.kpis[2].targets == (Target(400.0),)
    assert [v.status.value for v in snap.views(None, TODAY)] == ["green", "no-data"]
    assert fingerprint(store_path) == before  # reading never writes


def test_v1_is_migrated_on_write(store_path: Path) -> None:
    store_path.write_bytes(orjson.dumps(V1))
    store = Store(store_path)
    record(store, 93.0)
    raw = orjson.loads(store_path.read_bytes())
    assert raw["meta"]["1"]["schema"] == SCHEMA
    assert raw["kpis"]["1"]["targets"] == [{"value": 95.0}]
    assert "target" not in raw["kpis"]["1"] and "target" not in raw["kpis"]["2"]
    assert raw["actions"] == {} and raw["huddles"] == {}
    assert [e["id"] for e in raw["entries"].values()] == [1, 2]  # ids go on from the v1 ones
    assert store.read().entries[1][-1].value == 93.0


def test_an_upgrade_alone_is_written_by_any_transaction(store_path: Path) -> None:
    store_path.write_bytes(orjson.dumps(V1))
    with Store(store_path).transaction():
        pass  # migrating is a change: it is written
    assert orjson.loads(store_path.read_bytes())["meta"]["1"]["schema"] == SCHEMA


@pytest.mark.parametrize(("name", "write"), WRITES)
def test_a_newer_schema_is_refused(
    store_path: Path, name: str, write: Callable[[Store], Any]
) -> None:
    meta = {"format": "teamboard-store", "schema": SCHEMA + 1}
    raw = {"meta": {"1": meta}, "boards": {"1": {"id": 1, "name": "Line"}}, "gadgets": {}}
    store_path.write_bytes(orjson.dumps(raw))
    before = fingerprint(store_path)
    assert [b.name for b in Store(store_path).read().boards.values()] == ["Line"]  # reads
    raw["boards"] = {"1": {"id": 1, "name": "Line", "kpi_limit": "many"}}  # a new shape
    store_path.write_bytes(orjson.dumps(raw))
    before = fingerprint(store_path)
    with pytest.raises(StoreError, match=r"newer teamboard .* upgrade teamboard"):
        Store(store_path).read()
    with pytest.raises(StoreError, match="upgrade teamboard"):
        write(Store(store_path))
    assert fingerprint(store_path) == before


# --- temp files, the lock, ids ------------------------------------------------------------------


def test_no_temp_files_after_writes(store_path: Path) -> None:
    store = seeded(store_path)
    for i in range(20):
        record(store, float(i))
    assert leftovers(store_path.parent) == []
    assert sorted(p.name for p in store_path.parent.iterdir()) == ["team.json", "team.json.lock"]


@pytest.mark.parametrize("fail_in", ["replace", "fsync"])
def test_a_failed_write_leaves_no_temp_file_and_the_old_store(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, fail_in: str
) -> None:
    store = seeded(store_path)
    before = fingerprint(store_path)

    def boom(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(f"store.storage.os.{fail_in}", boom)
    with pytest.raises(StoreError, match=r"no space is left on the device\. The store"):
        record(store)
    monkeypatch.undo()
    assert fingerprint(store_path) == before
    assert leftovers(store_path.parent) == []
    record(store)  # the lock was released
    assert store.read().entry_count == 1


def test_an_error_in_the_body_writes_nothing(store_path: Path) -> None:
    store = seeded(store_path)
    before = fingerprint(store_path)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.insert("entries", {"kpi": 1, "date": "2026-11-20", "value": 1.0})
        raise RuntimeError("changed my mind")
    with store.transaction():
        pass  # nothing changed: nothing written
    assert fingerprint(store_path) == before


def test_the_lock_file_stays(store_path: Path) -> None:
    store = seeded(store_path)
    lock = store_path.with_name("team.json.lock")
    inode = lock.stat().st_ino
    for i in range(3):
        record(store, float(i))
        assert lock.stat().st_ino == inode  # never removed nor replaced
    assert store_path.stat().st_ino != inode


def test_a_held_lock_times_out_with_store_busy(store_path: Path) -> None:
    seeded(store_path)
    fd = os.open(store_path.with_name("team.json.lock"), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another open file: conflicts even in this process
        with pytest.raises(StoreBusy, match="stayed locked"), locked(store_path, timeout=0.2):
            pass
    finally:
        os.close(fd)
    with locked(store_path, timeout=0.2):
        pass


def test_own_ids_are_stable_and_never_reused(store_path: Path) -> None:
    store = seeded(store_path)
    for v in (1.0, 2.0, 3.0):
        record(store, v)
    raw = orjson.loads(store_path.read_bytes())
    assert [e["id"] for e in raw["entries"].values()] == [1, 2, 3]
    # Someone deletes the newest entry by hand; its id is not handed out again.
    del raw["entries"]["3"]
    raw["entries"]["7"] = raw["entries"].pop("2")  # and TinyDB's keys need not match our ids
    store_path.write_bytes(orjson.dumps(raw))
    record(store, 4.0)
    record(store, 5.0)
    snap = store.read()
    assert [(e.id, e.value) for e in snap.entries[1]] == [(1, 1.0), (2, 2.0), (4, 4.0), (5, 5.0)]
    # An edit keeps the id.
    ops.edit_kpi(store, "Output", unit="pcs")
    assert store.read().kpi_named("Output").id == 1


def test_demo_store_round_trips(demo_store: Store) -> None:
    """Every document the demo writes reads back, and a write keeps the others byte-equal."""
    before = orjson.loads(demo_store.path.read_bytes())
    ops.record(demo_store, "Near misses reported", 4.0, date(2026, 11, 16), TODAY)
    after = orjson.loads(demo_store.path.read_bytes())
    for table in ("boards", "kpis", "actions"):
        assert after[table] == before[table]
    assert len(after["entries"]) == len(before["entries"]) + 1
    assert all(after["entries"][k] == v for k, v in before["entries"].items())


def test_a_killed_writers_temp_file_is_swept_by_the_next_write(store_path: Path) -> None:
    store = Store(store_path)
    ops.init(store)
    left = store_path.parent / f".{store_path.name}.k1ll3d.tmp"
    left.write_bytes(b'{"half": ')
    other = store_path.parent / ".other.json.x.tmp"  # another store's: not ours to touch
    other.write_bytes(b"")
    ops.add_board(store, "Line")
    assert not left.exists()
    assert other.exists()


def test_a_reload_reuses_entries_but_notices_a_hand_edit(store_path: Path) -> None:
    store = Store(store_path)
    ops.init(store)
    ops.add_board(store, "Line")
    ops.add_kpi(store, "Output", None, 10.0)
    ops.record(store, "Output", 12.0, TODAY, TODAY)
    first = store.read()
    raw = json.loads(store_path.read_text())
    doc = next(iter(raw["entries"].values()))
    doc["value"] = 99.0  # someone fixed a typo by hand
    store_path.write_text(json.dumps(raw))
    again = store.read(previous=first)
    (entry,) = next(iter(again.entries.values()))
    assert entry.value == 99.0
    ops.record(store, "Output", 13.0, TODAY, TODAY)
    third = store.read(previous=again)
    kept, new = next(iter(third.entries.values()))
    assert kept is entry  # unchanged: the same object, not rebuilt
    assert new.value == 13.0
