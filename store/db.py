"""`Store`: where the file is, reading a snapshot, and the transaction every change goes through."""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import codec, schema
from .errors import StoreCorrupt, StoreError
from .snapshot import Snapshot
from .storage import (
    LOCK_TIMEOUT,
    check_writable,
    locked,
    missing,
    open_regular,
    parse,
    read_fd,
    read_raw,
    remove_stale_temps,
    resolve,
    write_atomic,
)

if TYPE_CHECKING:  # TinyDB is imported by the transaction that uses it (start-up time)
    from tinydb import TinyDB

    from .memory import MemoryStorage
    from .scope import Scope

ENV = "TEAMBOARD_STORE"


def default_path() -> Path:
    """`TEAMBOARD_STORE`, else `teamboard.json` in the user data folder."""
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path  # only when needed: it costs start-up time

    return user_data_path("teamboard") / "teamboard.json"


def whoami() -> str:
    """The OS login of the real uid: not $USER, which anyone can set."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Tx:
    """One read-modify-write: a fresh TinyDB over the parsed file, and who is writing when."""

    db: TinyDB
    storage: MemoryStorage
    raw: dict[str, Any]
    path: Path
    who: str
    at: str
    _snapshot: Snapshot | None = None

    @property
    def snapshot(self) -> Snapshot:
        """The store as it was when the lock was taken (rebuilt after `touch`)."""
        if self._snapshot is None:
            self._snapshot = Snapshot.from_raw(self.raw, str(self.path))
        return self._snapshot

    def next_id(self, table: str) -> int:
        """Our own stable ids (TinyDB's doc_ids are cached per instance; see STACK-NOTES)."""
        meta = self.storage.data["meta"]["1"]
        seq = meta.setdefault("seq", {})
        if table not in seq:
            docs = self.storage.data.get(table, {}).values()
            seq[table] = max((d.get("id", 0) for d in docs), default=0)
        seq[table] += 1
        return int(seq[table])

    def insert(
        self, table: str, doc: dict[str, Any], who: str | None = None, at: str | None = None
    ) -> dict[str, Any]:
        """Store a document (from `store.codec`) with a new id, who wrote it and when.

        `who` and `at` default to this transaction's; the demo and restore give their own.
        """
        doc = {"id": self.next_id(table), **doc, "who": who or self.who, "at": at or self.at}
        self.db.table(table, cache_size=0).insert(doc)
        self._snapshot = None
        return doc

    def insert_many(self, table: str, docs: list[dict[str, Any]]) -> None:
        """Store documents that carry their ids, who and when already, in one table update
        (TinyDB rewrites the whole table on every insert: row by row is quadratic)."""
        self.db.table(table, cache_size=0).insert_multiple(docs)
        self._snapshot = None

    def revise(self, table: str, ref: int, field: str, old: object, new: object, what: str) -> None:
        """Keep one change in the change log (`teamboard log`): nothing is ever lost."""
        self.insert("changes", codec.revision_doc(table, ref, field, old, new, what))

    def update(self, table: str, obj_id: int, fields: dict[str, Any]) -> None:
        from tinydb import where

        self.db.table(table, cache_size=0).update(fields, where("id") == obj_id)
        self._snapshot = None

    def doc(self, table: str, obj_id: int) -> dict[str, Any]:
        for d in self.storage.data[table].values():
            if d.get("id") == obj_id:
                return dict(d)
        raise KeyError(obj_id)

    def touch(self, what: str) -> None:
        """Record who changed the store last, and when: the board's header shows it."""
        meta = self.storage.data["meta"]["1"]
        meta["last_change"] = {"who": self.who, "at": self.at, "what": what}
        self.storage.dirty = True


class Store:
    """A teamboard store file. Cheap to create; every method opens the file afresh.

    `on_wait` is told, in one line, whose write a busy lock waits for (the command line prints
    it on stderr, the app shows it); `lock_timeout` is how long a write waits for the lock.
    """

    engine = "file"  # store.pg.engine.PgStore says "postgresql"

    def __init__(
        self,
        path: Path | str | None = None,
        on_wait: Callable[[str], None] | None = None,
        lock_timeout: float = LOCK_TIMEOUT,
    ) -> None:
        given = Path(path).expanduser() if path is not None else default_path()
        self.on_wait = on_wait
        self.lock_timeout = lock_timeout
        self.via: Callable[[Snapshot], Snapshot] | None = None
        # The real file behind the path (the user's own symlinks followed), so every path to a
        # store shares its lock; a planted symlink is refused when the store is used.
        self._refused: StoreError | None = None
        try:
            self.path = resolve(given)
        except StoreError as exc:
            self.path, self._refused = given, exc

    def __str__(self) -> str:
        """How messages name the store: its path (a database's URL, without a password)."""
        return str(self.path)

    def _check_path(self) -> None:
        if self._refused is not None:
            raise self._refused

    def read(self, previous: Snapshot | None = None, *, scope: Scope | None = None) -> Snapshot:
        """The store now, without the lock. Raises a `StoreError` for anything that is not a
        readable teamboard store (missing, broken, foreign, not a regular file).

        With the `previous` snapshot, unchanged entries are reused rather than rebuilt, and the
        read goes through `via` when one is set (the board's loader process, `tui.loader`).

        `scope` (`store.scope.Scope`: the boards shown, since when) is what the caller will look
        at: a database store loads only that (see store/scope.py for what a scoped snapshot
        holds; its views of a board in scope equal a full read's). The file parses the whole
        file anyway and ignores it: its snapshot is always the whole store. None: everything.
        """
        if previous is not None and self.via is not None:
            return self.via(previous)
        return self.read_here(previous)

    def read_here(self, previous: Snapshot | None = None) -> Snapshot:
        """`read` in this process."""
        self._check_path()
        raw = read_raw(self.path)
        version = schema.for_reading(raw, str(self.path))
        reuse = previous.entries_by_id() if previous is not None else None
        try:
            return Snapshot.from_raw(raw, str(self.path), reuse)
        except StoreCorrupt:
            if version > schema.SCHEMA:
                raise schema.too_new(version, str(self.path)) from None
            raise

    def read_boards(self) -> Snapshot:
        """A snapshot of the boards alone, for a check before a screen starts (the store opens,
        a board named exists): the app then reads the store itself, so the check must not read
        it whole too (a million entries take seconds to build). Raises as `read` does for a
        file that is not a readable store; the other tables are the app's read's to judge."""
        self._check_path()
        raw = read_raw(self.path)
        schema.for_reading(raw, str(self.path))
        try:
            boards = {b.id: b for b in codec.decode_table(raw, "boards", codec.decode_board)}
        except codec.Malformed as exc:
            raise exc.at(str(self.path)) from None
        return Snapshot(boards=boards)

    def exists(self) -> bool:
        """Is there a store (a non-empty file) at the path? A zero-byte file counts as none."""
        try:
            return os.lstat(self.path).st_size > 0
        except OSError:
            return False

    def ready_to_write(self, create: bool = False) -> None:
        """The checks every write makes before it queues for the lock (the general transaction
        and `record`'s fast path alike): the path was not refused, the store exists (or, with
        `create`, its folder does), and this user may replace it. Raises the `StoreError` that
        says which, and how to fix it."""
        self._check_path()
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.exists():
            read_raw(self.path)  # raises StoreMissing with the how-to, or says what is there
        check_writable(self.path)

    @contextmanager
    def transaction(self, create: bool = False) -> Iterator[Tx]:
        """Lock, parse, let the caller change things through `Tx`, then replace atomically.

        Nothing is written when the body raises, or when it changed nothing. With `create`, a
        missing (or zero-byte) store is created; otherwise it raises `StoreMissing`.
        """
        self.ready_to_write(create)
        from tinydb import TinyDB

        from .memory import MemoryStorage

        with locked(self.path, self.lock_timeout, self.on_wait):
            fd = open_regular(self.path)
            blob, ref = read_fd(fd) if fd is not None else (b"", None)
            if not blob.strip():
                if not create:
                    raise missing(self.path)
                raw: dict[str, Any] = {"meta": {"1": schema.marker()}}
                schema.migrate(raw, str(self.path))
                changed = True
            else:
                raw = parse(self.path, blob)
                changed = schema.migrate(raw, str(self.path))
            storage = MemoryStorage(raw)
            storage.dirty = changed
            db = TinyDB(storage=lambda: storage)
            tx = Tx(db=db, storage=storage, raw=raw, path=self.path, who=whoami(), at=utcnow())
            yield tx
            if storage.dirty:
                remove_stale_temps(self.path)
                write_atomic(self.path, storage.data, ref)
