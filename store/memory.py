"""TinyDB's side of a transaction, in a module of its own: importing TinyDB costs start-up time
that `teamboard record` (`store.fastpath`) does not need to pay."""

from __future__ import annotations

from typing import Any

from tinydb.storages import Storage

Raw = dict[str, Any]


class MemoryStorage(Storage):  # type: ignore[misc]
    """A TinyDB storage over a dict parsed once per transaction; writes mark it dirty.

    TinyDB reads the whole document on every operation; with this storage a transaction of
    several inserts parses the file once and writes it once.
    """

    def __init__(self, data: Raw) -> None:
        self.data = data
        self.dirty = False

    def read(self) -> Raw:
        return self.data

    def write(self, data: Raw) -> None:
        self.data = data
        self.dirty = True
