"""`PgStore`: the store in PostgreSQL behind the file store's interface (`read`, `exists`,
`transaction` → `Tx`), so every operation in store/ runs unchanged against it.

This is the first step of issue 14's engine: a transaction is a PostgreSQL transaction that takes
the store's write lock (an advisory transaction lock, as the file store's lock serialises its
writers), loads the store's rows as documents into the same in-memory `Tx` the file store gives,
lets the operation change them, then writes what changed as INSERTs and UPDATEs before COMMIT.
A read is one REPEATABLE READ transaction over every table. Both read the whole store: fine for a
team, not yet for 1,000 boards (the next step reads one board's rows; see docs).

Imported only when the store is a PostgreSQL URL: psycopg costs ~230 ms to import.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..db import Store, Tx, utcnow
from ..errors import StoreBusy, StoreError, StoreMissing, StoreReadOnly
from ..scope import Scope
from ..snapshot import Snapshot
from . import rows, scoped
from . import schema as pg_schema
from .schema import apply, upgrade, version_of
from .scoped import empty, load_scoped

if TYPE_CHECKING:
    import psycopg

    from . import follow

LOCK_KEY = 0x7465616D  # "team": the advisory lock every teamboard writer takes
BOARD_LOCKS = 0x7462  # "tb": a board's own lock is (BOARD_LOCKS, board id) (two-key advisory)


def driver() -> Any:
    """psycopg, imported when first needed (~230 ms): `record`'s quick path never needs it.
    Missing (or without libpq): the one-line error `store.pg.open_store` gives."""
    try:
        import psycopg
    except ImportError as exc:
        from .refusals import no_driver

        raise no_driver(exc) from None
    return psycopg


def redact(url: str) -> str:
    """The URL without a password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class PgStore(Store):
    """A teamboard store in a PostgreSQL database, named by its libpq URL."""

    engine = "postgresql"

    def __init__(
        self,
        url: str,
        on_wait: Callable[[str], None] | None = None,
        lock_timeout: float = 120.0,
        refuse: str | None = None,
    ) -> None:
        self.url = url
        self.refuse = refuse
        """Why this store may not be written (a read-only board), or None."""
        self.shown = redact(url)
        self.path = Path(self.shown)  # shown in messages only: there is no file
        self.on_wait = on_wait
        self.lock_timeout = lock_timeout
        self._refused = None
        self._kept: follow.Kept | None = None  # what the next scoped read may reuse
        self._conn: psycopg.Connection[Any] | None = None  # a follower's reads (`_reader`)
        self._reading = threading.Lock()  # one read at a time on it; others connect
        self._rconn: Any = None  # a writer's records (store/pg/record.py: a libpq.Conn)
        self._recording = threading.Lock()  # one record at a time on it; others connect
        self._recorded = False  # a record done: the next ones keep their connection

    def __str__(self) -> str:
        return self.shown

    def connect(self) -> psycopg.Connection[Any]:
        pg = driver()
        try:
            conn: psycopg.Connection[Any] = pg.connect(self.url, application_name="teamboard")
            return conn
        except pg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if "Peer authentication failed" in first:  # roles: store/pg/access.py
                first += "; over the local socket you are your OS login: leave user= out"
            raise StoreError(f"cannot reach the store at {self.shown}: {first}") from None

    def _version(self, conn: psycopg.Connection[Any]) -> int:
        version = version_of(conn)
        if version is None:
            raise StoreMissing(
                f"{self.shown} has no teamboard store yet: create it with "
                f"`teamboard --store {self.shown} init`"
            )
        if version > pg_schema.VERSION:
            raise StoreError(
                f"{self.shown} has a teamboard store of schema {version}, newer than this "
                f"teamboard knows ({pg_schema.VERSION}): upgrade teamboard"
            )
        return version

    def exists(self) -> bool:
        with self.connect() as conn:
            try:
                return version_of(conn) is not None
            except driver().errors.InsufficientPrivilege as exc:  # no access (schema 3)
                raise self._error(exc, writing=False) from None

    def read_boards(self) -> Snapshot:
        """The boards alone (`Store.read_boards`): a scope that names no board loads no KPI,
        entry or action."""
        return self.read(scope=Scope.of(()))

    def read(self, previous: Snapshot | None = None, *, scope: Scope | None = None) -> Snapshot:
        """Every table (or what `scope` needs), in one consistent (REPEATABLE READ) view.

        With `previous` (a follower: the app, a wall), on a connection this store keeps for
        its next reads (`_reader`: no connection set up, no catalog to warm, its statements
        prepared after a few reads); without, on a connection of its own, as ever. A kept
        connection found lost (a server restart) is replaced at once, and that read is a full
        one: only a server still away is an error, as it was with a connection per read."""
        if previous is None or not self._reading.acquire(blocking=False):
            conn = self._read_conn()
            try:
                return self._read_on(conn, previous, scope, mine=False)
            finally:
                conn.close()
        try:
            try:
                return self._read_on(self._reader(), previous, scope, mine=True)
            except StoreError:
                if self._conn is not None:  # not a lost connection: said as it is
                    raise
            return self._read_on(self._reader(), previous, scope, mine=True)
        finally:
            self._reading.release()

    def _read_on(
        self,
        conn: psycopg.Connection[Any],
        previous: Snapshot | None,
        scope: Scope | None,
        mine: bool,
    ) -> Snapshot:
        pg = driver()
        try:
            if mine and scope is not None and not scope.whole:
                again = self._again(conn, scope, previous)
                if again is not None:
                    return again
            with conn.transaction():
                version = self._version(conn)
                if scope is None or scope.whole:
                    raw = load(conn, version=version)
                else:
                    return self._scoped(conn, version, scope, previous)
        except (pg.OperationalError, pg.errors.InsufficientPrivilege) as exc:
            if mine and isinstance(exc, pg.OperationalError):  # the next connects afresh
                self._drop_reader()
            raise self._error(exc, writing=False) from None
        reuse = previous.entries_by_id() if previous is not None else None
        return Snapshot.from_raw(raw, self.shown, reuse)

    def _read_conn(self) -> psycopg.Connection[Any]:
        """A connection for reads: REPEATABLE READ, read-only. (jsonb stays with the standard
        library's decoder: a read decodes a handful of values, and orjson reads an integer
        beyond 64 bits as a float.)"""
        conn = self.connect()
        pg = driver()
        conn.isolation_level = pg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        return conn

    def _reader(self) -> psycopg.Connection[Any]:
        """The connection a follower's reads share. One lost (a server restart) forgets what
        the last read left (`_kept`): the first read on the next is a full one."""
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                self._drop_reader()
            conn = self._conn = self._read_conn()
            # Its reads run the same statements again and again (prepared after a few):
            # planned once, not on every read (their custom plans cost ~3 ms of server CPU a
            # read, more than running them; bench/pg_cpu.py). Scoped by board and KPI ids, the
            # one plan fits every read (docs/pg-explain.md).
            conn.execute("SET plan_cache_mode = force_generic_plan")
            conn.commit()
        return conn

    def _drop_reader(self) -> None:
        conn, self._conn, self._kept = self._conn, None, None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close the connections kept for a follower's reads and a writer's records (if any)."""
        with self._reading:
            self._drop_reader()
        with self._recording:
            rconn, self._rconn = self._rconn, None
            if rconn is not None:
                rconn.close()

    def _again(
        self, conn: psycopg.Connection[Any], scope: Scope, previous: Snapshot | None
    ) -> Snapshot | None:
        """What changed since `previous`, when this store's last read gave it with the same
        scope (store/pg/follow.py: its own transaction, two round trips); None: read in full."""
        from . import follow

        kept, self._kept = self._kept, None
        if kept is None or kept.snap is not previous or kept.scope != scope:
            return None
        pg = driver()
        try:
            again = follow.reread(conn, kept)
        except (pg.OperationalError, pg.errors.InsufficientPrivilege):
            raise
        except pg.Error:  # the schema changed under it (the full read says how)
            return None
        if again is None:
            return None
        self._kept = again[1]
        return again[0]

    def _scoped(
        self, conn: psycopg.Connection[Any], version: int, scope: Scope, previous: Snapshot | None
    ) -> Snapshot:
        """A scoped read: the rows the scope needs, and for a follower (given `previous`) what
        its next read needs to tell what changed (`_kept`)."""
        from . import follow

        self._kept = None
        log: scoped.Log = []
        raw = load_scoped(conn, scope, empty(conn, version), log)
        reuse = previous.entries_by_id() if previous is not None else None
        snap = Snapshot.from_raw(raw, self.shown, reuse)
        if previous is not None:  # a follower: what its next read checks (a one-off read,
            # the command line's, has no next and spares the round trip)
            full = scoped.full_of(scope, raw)
            self._kept = follow.keep(conn, snap, scope, version, log, raw, full)
        return snap

    @contextmanager
    def transaction(self, create: bool = False) -> Iterator[Tx]:
        """One PostgreSQL transaction under the store's write lock (see the module docstring).

        Nothing is written when the body raises or changes nothing. With `create`, a database
        without the schema gets it (`teamboard init`), and rows keep the who and when they carry
        (the demo, restore), which the database allows only to the tables' owner.
        """
        pg = driver()
        try:
            with self._transaction(create) as tx:
                yield tx
        except pg.Error as exc:  # the server went away, or refused what no check foresaw
            raise self._error(exc) from None

    def _error(self, exc: psycopg.Error, writing: bool = True) -> StoreError:
        """A driver's error as one line: nothing was written (the transaction rolled back)."""
        detail = (exc.diag.message_primary if exc.diag else None) or str(exc).strip()
        detail = (detail.splitlines() or [type(exc).__name__])[0]
        pg = driver()
        if isinstance(exc, pg.errors.InsufficientPrivilege):  # roles: store/pg/access.py
            from .refusals import refusal

            return refusal(exc, self.shown)
        if isinstance(exc, pg.OperationalError):
            done = "; nothing was written" if writing else ""
            return StoreError(f"lost the store at {self.shown} ({detail}){done}")
        return StoreError(f"the database refused the change ({detail}); nothing was written")

    @contextmanager
    def _transaction(self, create: bool) -> Iterator[Tx]:
        from tinydb import TinyDB

        from ..memory import MemoryStorage
        from .lazy import PgTx, fetcher

        with self.connect() as conn, conn.transaction():
            self._begin_write(conn, create)
            if create:  # a new store (init, the demo, restore, migrate): everything, as it is
                conn.execute("SET LOCAL teamboard.restore = 'on'")
                raw = load(conn)
            else:  # every table but the entries: the snapshot reads them as asked (lazy.py)
                raw = load(conn, entries_of=[])
                top = conn.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()
                raw["meta"]["1"]["seq"] = {"entries": int(top[0]) if top else 0}
            before = copy.deepcopy(raw)
            storage = MemoryStorage(raw)
            db = TinyDB(storage=lambda: storage)
            got = conn.execute("SELECT current_user").fetchone()
            who, at = (str(got[0]) if got else ""), utcnow()
            tx: Tx
            if create:
                tx = Tx(db=db, storage=storage, raw=raw, path=self.path, who=who, at=at)
            else:
                tx = PgTx(db=db, storage=storage, raw=raw, path=self.path, who=who, at=at,
                          fetch=fetcher(conn))  # fmt: skip
            yield tx
            write(conn, before, storage.data, keep_who=create)

    def _begin_write(self, conn: psycopg.Connection[Any], create: bool = False) -> None:
        """The schema (created with `create`), its version checked, the lock, migrations;
        a read-only store refuses here, before the lock, having written nothing."""
        if self.refuse is not None:
            raise StoreReadOnly(self.refuse)
        if create and version_of(conn) is None:
            apply(conn)
        version = self._version(conn)
        self._lock(conn)
        if version < pg_schema.VERSION:  # another writer may have migrated while this waited
            version = self._version(conn)
        upgrade(conn, version)

    def _lock(self, conn: psycopg.Connection[Any], board: int | None = None) -> None:
        """The store's write lock, waiting up to `lock_timeout` seconds: exclusive for a
        structural write; shared, plus `board`'s own lock, for a write confined to one board
        (`record`): writers on different boards then go on at once, and a structural write waits
        for them all (and they for it)."""
        store = "" if board is None else "_shared"
        keys: list[tuple[str, tuple[int, ...]]] = [(store, (LOCK_KEY,))]
        if board is not None:
            keys.append(("", (BOARD_LOCKS, board % 2**31)))
        for kind, key in keys:
            args = ", ".join(["%s"] * len(key))
            got = conn.execute(f"SELECT pg_try_advisory_xact_lock{kind}({args})", key).fetchone()
            if not (got and got[0]):
                self._wait(conn, f"SELECT pg_advisory_xact_lock{kind}({args})", key)

    def _wait(self, conn: psycopg.Connection[Any], take: str, key: tuple[int, ...]) -> None:
        """Say whose write holds the lock `key`, then wait for it (a timeout is `StoreBusy`)."""
        if self.on_wait is not None:
            classid, objid = (key[0] >> 32, key[0] & 0xFFFFFFFF) if len(key) == 1 else key
            holder = conn.execute(
                "SELECT a.usename FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid() "
                "AND l.classid = %s AND l.objid = %s AND l.objsubid = %s",
                (classid, objid, len(key)),
            ).fetchone()
            whose = f"{holder[0]}'s" if holder and holder[0] else "another"
            self.on_wait(f"waiting for {whose} write to {self.shown}")
        from psycopg import errors, sql

        ms = max(1, int(self.lock_timeout * 1000))
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{ms}ms")))
        try:
            with conn.transaction():  # a savepoint: the timeout must not end the transaction
                conn.execute(take, key)
        except errors.LockNotAvailable:
            raise StoreBusy(
                f"{self.shown} stayed busy for {self.lock_timeout:g} s; try again"
            ) from None
        conn.execute("SET LOCAL lock_timeout = 0")


def load(
    conn: psycopg.Connection[Any], entries_of: list[int] | None = None, version: int | None = None
) -> dict[str, Any]:
    """Every row as the documents the file store keeps: `{table: {"id": doc}}`; with
    `entries_of`, only those KPIs' entries (`record` needs no others)."""
    raw = empty(conn, version)
    for t in rows.TABLES:
        table = raw[t.name]
        if entries_of is not None and t.name == "entries":
            found = conn.execute(rows.select_sql(t, "kpi = ANY(%s)"), (entries_of,))
        else:
            found = conn.execute(rows.select_sql(t))
        for r in found:
            doc = rows.row_doc(t.cols, r, t)
            for ch in t.children:
                doc[ch.key] = []
            table[str(doc["id"])] = doc
        for ch in t.children:
            for r in conn.execute(rows.select_sql(ch)):
                table[str(r[0])][ch.key].append(rows.row_doc(ch.cols, r[1:]))
    return raw


def write(
    conn: psycopg.Connection[Any],
    before: dict[str, Any],
    after: dict[str, Any],
    keep_who: bool = False,
) -> None:
    """What the operation changed, as INSERTs and UPDATEs (nothing is ever deleted). The
    store's last change is the role's, now, unless `keep_who` (a copy) keeps the one it has."""
    for t in rows.TABLES:
        old, new = before.get(t.name, {}), after.get(t.name, {})
        by_id_old = {d["id"]: d for d in old.values()}
        ins, cols = rows.insert_sql(t)
        # New rows go in batches (psycopg pipelines executemany): a migration is one round trip
        # per table, not one per row. Keys are checked at COMMIT, so the order does not matter.
        fresh: list[list[Any]] = []
        young: dict[str, list[list[Any]]] = {ch.key: [] for ch in t.children}
        for doc in new.values():
            was = by_id_old.pop(doc["id"], None)
            if was == doc:
                continue
            if was is None:
                fresh.append(rows.doc_params(t, doc))
                gains = {ch.key: doc.get(ch.key, []) for ch in t.children}
            else:
                params = rows.doc_params(t, doc)
                sets = [(c, p) for c, p in zip(cols, params, strict=True)
                        if c not in ("id", "who", "at")]  # fmt: skip
                done = conn.execute(
                    f"UPDATE {t.name} SET {', '.join(f'{c} = %s' for c, _ in sets)} WHERE id = %s",
                    [*(p for _, p in sets), doc["id"]],
                )
                if done.rowcount != 1:  # row-level security kept it: not the writer's row
                    from .refusals import unchanged

                    raise unchanged(conn, t.name, doc)
                try:
                    gains = {
                        ch.key: rows.gained(was.get(ch.key, []), doc.get(ch.key, []))
                        for ch in t.children
                    }
                except ValueError:
                    raise StoreError(
                        f"{t.name} {doc['id']}: its history may only grow; nothing was written"
                    ) from None
            for ch in t.children:
                young[ch.key] += [rows.child_params(ch, doc["id"], item) for item in gains[ch.key]]
        with conn.cursor() as cur:
            if fresh:
                cur.executemany(ins, fresh)
                if t.name == "entries":  # `record` numbers entries from the sequence: move it on
                    cur.execute(
                        "SELECT setval('entries_id_seq', greatest((SELECT max(id) FROM entries), "
                        "(SELECT last_value FROM entries_id_seq)))"
                    )
            for ch in t.children:
                if young[ch.key]:
                    cur.executemany(rows.insert_sql(ch)[0], young[ch.key])
        if by_id_old:
            raise StoreError(f"{t.name} lost rows ({sorted(by_id_old)[:3]}); nothing was written")
    last = after.get("meta", {}).get("1", {}).get("last_change")
    if last and last != before.get("meta", {}).get("1", {}).get("last_change"):
        if keep_who:
            conn.execute(
                "UPDATE meta SET last_who = %s, last_at = coalesce(%s, now()), last_what = %s, "
                "last_n = nextval('last_change_seq')",
                (last.get("who", ""), last.get("at") or None, last.get("what", "")),
            )
        else:
            done = conn.execute(
                "UPDATE meta SET last_who = current_user, last_at = now(), last_what = %s, "
                "last_n = nextval('last_change_seq')",
                (last.get("what", ""),),
            )
            if done.rowcount != 1:  # a role that writes no board (a wall)
                from .refusals import unchanged

                raise unchanged(conn, "meta", {})
