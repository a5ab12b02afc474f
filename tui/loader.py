"""The app's side of the loader process (`store.loader`): the parse runs there, off our GIL.

`Loader.read(previous)` answers what `Store.read(previous=...)` would (a `Snapshot`, or the
same `StoreError`), but the reading thread only waits on a pipe and unpickles small frames:
the small tables, the entries that are new or changed since the last answer, and the ids that
are gone. The snapshot is put together from the previous one's lists, so an unchanged KPI keeps
its list and its `Entry` objects.

A loader that dies (killed, out of memory) is started again on the next read; when it cannot be
started, or while an earlier read still hangs in it, the read happens here, as before.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from store.db import Store
from store.errors import StoreError
from store.loader import HEADER, unpack
from store.model import Entry
from store.snapshot import Snapshot

ENV = "TEAMBOARD_LOADER"  # "0": parse in the app's own process (a thread), as before
_ROOT = Path(__file__).resolve().parent.parent  # where the `store` package lives


class LoaderGone(Exception):
    """The loader process ended or spoke out of turn."""


class Loader:
    """A loader process for one store, started on first use."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0  # processes started: a test checks a killed one comes back
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None  # the last answer put together
        self._by_kpi: dict[int, dict[int, Entry]] = {}
        self._kpi_of: dict[int, int] = {}  # entry id -> KPI id
        self._closed = False
        self.how = ""  # how the loader read the file for its last answer (`Reader.how`)

    @staticmethod
    def wanted() -> bool:
        return os.environ.get(ENV, "1") != "0"

    def whole_next(self) -> bool:
        """Will the next answer be the whole store (no process yet, or a new one)? Then it
        makes an object per entry at once (`tui.prepare.quiet_collector`)."""
        return self._snapshot is None

    def start(self) -> None:
        """Start the process now (its start-up then overlaps the app's)."""
        with self._lock, contextlib.suppress(LoaderGone, OSError):  # then a read starts it
            self._ensure()

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self.proc is not None and self.proc.poll() is None:
            return self.proc
        self._drop()
        if self._closed:
            raise LoaderGone("the app is closing")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "store.loader", str(self.store.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        self.starts += 1
        self._snapshot = None  # a new process starts from nothing: its first answer is whole
        return self.proc

    def _drop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for pipe in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=1)

    def close(self) -> None:
        """End the process (the app is closing); a read still running then ends here."""
        self._closed = True
        self._drop()

    def read(self, previous: Snapshot | None) -> Snapshot:
        """The store now, as `Store.read(previous=previous)` answers it."""
        if not self._lock.acquire(blocking=False):  # a read still hangs in the loader
            return self.store.read_here(previous)
        try:
            for _attempt in range(2):
                try:
                    return self._ask()
                except (LoaderGone, OSError, EOFError, pickle.UnpicklingError):
                    self._drop()
            return self.store.read_here(previous)  # no loader: read here, as before
        finally:
            self._lock.release()

    def _ask(self) -> Snapshot:
        proc = self._ensure()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"load\n")
        proc.stdin.flush()
        reply = _frame(proc.stdout)
        kind = reply[0]
        if kind == "same" and self._snapshot is not None:
            return self._snapshot
        if kind == "failed":
            _, what, text = reply
            if what == "store":
                raise StoreError(text)
            raise type(what, (Exception,), {})(text)
        if kind != "snap":
            raise LoaderGone(f"unexpected reply {kind!r}")
        _, full, head, removed, chunks, self.how = reply
        added: list[Entry] = []
        for _ in range(chunks):
            added.extend(unpack(_frame(proc.stdout)))
        self._snapshot = self._apply(full, head, removed, added)
        return self._snapshot

    def _apply(
        self, full: bool, head: Snapshot, removed: list[int], added: list[Entry]
    ) -> Snapshot:
        """The new snapshot: the previous one's entry lists, with the changes applied."""
        if full or self._snapshot is None:
            self._by_kpi, self._kpi_of = {}, {}
            entries: dict[int, list[Entry]] = {}
        else:
            entries = dict(self._snapshot.entries)
        touched: set[int] = set()
        for entry_id in removed:
            kpi = self._kpi_of.pop(entry_id, None)
            if kpi is not None:
                self._by_kpi[kpi].pop(entry_id, None)
                touched.add(kpi)
        for e in added:
            old = self._kpi_of.get(e.id)
            if old is not None and old != e.kpi:
                self._by_kpi[old].pop(e.id, None)
                touched.add(old)
            self._kpi_of[e.id] = e.kpi
            self._by_kpi.setdefault(e.kpi, {})[e.id] = e
            touched.add(e.kpi)
        for kpi in touched:
            mine = self._by_kpi.get(kpi)
            if mine:
                entries[kpi] = sorted(mine.values(), key=lambda e: e.id)
            else:
                entries.pop(kpi, None)
                self._by_kpi.pop(kpi, None)
        return replace(head, entries=entries)


def _frame(stream: IO[bytes]) -> Any:
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        raise LoaderGone("the loader ended")
    (size,) = HEADER.unpack(head)
    blob = stream.read(size)
    if len(blob) < size:
        raise LoaderGone("the loader ended mid-reply")
    return pickle.loads(blob)
