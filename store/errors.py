"""Errors a user can act on. Each carries one line that says what is wrong and how to fix it.

The line is in domain words ("name the board"), because the store serves the app as well as the
command line. An error that has a remedy also carries it as a `Fix`, so each front end can word
it its own way: the app shows the domain words, the command line names the flag or the command
to type (`error_line` in `tui/cli/__init__.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class Fix(StrEnum):
    """A remedy, as the app words it."""

    NAME_BOARD = "name the board"
    SEE_BOARDS = "see the list of boards"
    ADD_BOARD = "add a board first"
    SEE_KPIS = "see the list of KPIs"
    SEE_ACTIONS = "see the list of actions"
    OVER_LIMIT = "archive one first, raise the board's KPI limit, or add it anyway"
    SAY_WHAT = "say what to change"  # the error's `fields` name what can change
    SEE_GOALS = "see the list of goals"
    GOAL_LIMIT = "let one KPI serve another goal, or add it anyway"


def either(words: Sequence[str]) -> str:
    """`a, b or c`: the choices a remedy offers."""
    return " or ".join(filter(None, [", ".join(words[:-1]), *words[-1:]]))


class StoreError(Exception):
    """Base for every error the command line turns into one line and an exit code.

    `problem` is what is wrong; `fix` (when there is one) what to do about it, about `subject`
    (a board or KPI name) or choosing among `fields` (the names of what can change).
    """

    exit_code = 1

    def __init__(
        self,
        problem: str = "",
        fix: Fix | None = None,
        *,
        subject: str = "",
        fields: Sequence[str] = (),
    ) -> None:
        self.problem = problem
        self.fix = fix
        self.subject = subject
        self.fields = tuple(fields)
        super().__init__(f"{problem}; {self.remedy()}" if fix is not None else problem)

    def remedy(self) -> str:
        """The fix in domain words."""
        if self.fix is Fix.SAY_WHAT and self.fields:
            words = [f.replace("_", " ").replace("kpi", "KPI") for f in self.fields]
            return "give a new " + either(words)
        return str(self.fix or "")


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
