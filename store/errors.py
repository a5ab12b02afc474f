"""Errors a user can act on. Each carries one line that says what is wrong and how to fix it."""

from __future__ import annotations


class StoreError(Exception):
    """Base for every error the command line turns into one line and an exit code."""

    exit_code = 1


class BadInput(StoreError):
    """The user's input is wrong (exit 2); nothing was written."""

    exit_code = 2


class NotFound(BadInput):
    """A board, KPI or action named by the user does not exist."""


class StoreMissing(StoreError):
    """The store file does not exist yet."""


class StoreCorrupt(StoreError):
    """The file is not valid JSON or not a teamboard store; we refuse to write over it."""

    def __init__(self, path: str, detail: str, line: int | None = None, column: int | None = None):
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(
            f"{path} is broken{where}: {detail}. Fix it by hand or restore a backup; "
            "teamboard will not write to it until it parses."
        )
        self.path = path
        self.detail = detail
        self.line = line
        self.column = column


class StoreReadOnly(StoreError):
    """The store (or its folder) cannot be written by this user."""


class StoreBusy(StoreError):
    """Another writer held the lock for too long."""


class StoreForeign(StoreError):
    """The file is not a teamboard store (an export, another program's JSON): never written."""


class StoreTooNew(StoreError):
    """A newer teamboard wrote the store: this one may read it, but never writes to it."""
