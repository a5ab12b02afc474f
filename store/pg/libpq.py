"""libpq through ctypes: just enough client for `teamboard record` without importing psycopg.

`import psycopg` costs ~230 ms on a quiet machine (its C module, asyncio, ssl, importlib.metadata),
more than the rest of a record. This speaks to the server through the libpq psycopg itself uses
(the system's libpq.so.5, else the copy psycopg-binary ships), text in and text out, one
statement per round trip. Whatever it does not expect (no libpq, a failed connection, an error,
a lock it would wait for) raises `Unsure`, having written nothing: the caller then takes the
psycopg path, which says or does exactly what it always did.
"""

from __future__ import annotations

import ctypes
import glob
import os
from typing import Any

_lib: Any = None


class Unsure(Exception):
    """Not for this path: take the psycopg one (nothing was written)."""


def _load() -> Any:
    global _lib
    if _lib is not None:
        return _lib
    names = ["libpq.so.5"]
    try:  # psycopg-binary's own copy, when the system has none (found, not imported)
        from importlib.util import find_spec

        spec = find_spec("psycopg_binary")
        for where in spec.submodule_search_locations or [] if spec else []:
            names += sorted(glob.glob(os.path.join(where + ".libs", "libpq-*.so*")))
    except (ImportError, ValueError):
        pass
    for name in names:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    else:
        raise Unsure("no libpq")
    vp, cp, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    for fn, res, args in (
        ("PQconnectdb", vp, [cp]),
        ("PQstatus", i, [vp]),
        ("PQfinish", None, [vp]),
        ("PQtransactionStatus", i, [vp]),
        ("PQexecParams", vp, [vp, cp, i, vp, ctypes.POINTER(cp), vp, vp, i]),
        ("PQprepare", vp, [vp, cp, cp, i, vp]),
        ("PQexecPrepared", vp, [vp, cp, i, ctypes.POINTER(cp), vp, vp, i]),
        ("PQresultStatus", i, [vp]),
        ("PQntuples", i, [vp]),
        ("PQnfields", i, [vp]),
        ("PQgetvalue", cp, [vp, i, i]),
        ("PQgetisnull", i, [vp, i, i]),
        ("PQclear", None, [vp]),
    ):
        f = getattr(lib, fn)
        f.restype, f.argtypes = res, args
    _lib = lib
    return lib


class Conn:
    """One connection (`url`: a libpq URL), closed by `close` or the `with` block."""

    def __init__(self, url: str) -> None:
        lib = _load()
        sep = "&" if "?" in url else "?"
        self.lib = lib
        self.prepared: dict[str, bytes] = {}  # a statement's text → its name (`prepare`)
        self.conn = lib.PQconnectdb(f"{url}{sep}application_name=teamboard".encode())
        if not self.conn or lib.PQstatus(self.conn) != 0:  # CONNECTION_OK
            self.close()
            raise Unsure("no connection")

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a kept connection (store/pg/record.py) of a store let go
        self.close()

    def alive(self) -> bool:
        """Is the connection still up? After a failed COMMIT: the server answered (and rolled
        back) when it is; when it is not, the COMMIT may or may not have happened."""
        return bool(self.conn) and self.lib.PQstatus(self.conn) == 0  # CONNECTION_OK

    def idle(self) -> bool:
        """Up and outside any transaction (PQTRANS_IDLE): fit for the next one."""
        return self.alive() and self.lib.PQtransactionStatus(self.conn) == 0

    def close(self) -> None:
        if getattr(self, "conn", None):
            self.lib.PQfinish(self.conn)
            self.conn = None

    def query(
        self, sql: str, params: tuple[Any, ...] = (), prepare: bool = False
    ) -> list[list[str | None]]:
        """Run one statement (`$1`… for `params`, sent as text); its rows as text (None: NULL).
        With `prepare`, the statement is prepared once on this connection and run by name
        after (planned once: a writer that keeps its connection). Any error: `Unsure` (the
        transaction is then aborted: the caller ends it)."""
        lib = self.lib
        values = (ctypes.c_char_p * max(1, len(params)))(
            *[None if p is None else _text(p).encode() for p in params]
        )
        if prepare:
            name = self.prepared.get(sql)
            if name is None:
                name = f"tb{len(self.prepared)}".encode()
                self._check(lib.PQprepare(self.conn, name, sql.encode(), len(params), None))
                self.prepared[sql] = name
            res = lib.PQexecPrepared(self.conn, name, len(params), values, None, None, 0)
        else:
            res = lib.PQexecParams(
                self.conn, sql.encode(), len(params), None, values, None, None, 0
            )
        try:
            status = lib.PQresultStatus(res) if res else 7
            if status not in (1, 2):  # PGRES_COMMAND_OK, PGRES_TUPLES_OK
                raise Unsure(f"the server said no ({status})")
            rows, cols = lib.PQntuples(res), lib.PQnfields(res)
            return [
                [
                    None if lib.PQgetisnull(res, r, c) else lib.PQgetvalue(res, r, c).decode()
                    for c in range(cols)
                ]
                for r in range(rows)
            ]
        finally:
            if res:
                lib.PQclear(res)


    def _check(self, res: Any) -> None:
        """A result that must be a success (freed here); `Unsure` otherwise."""
        try:
            if not res or self.lib.PQresultStatus(res) != 1:  # PGRES_COMMAND_OK
                raise Unsure("the server said no")
        finally:
            if res:
                self.lib.PQclear(res)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
