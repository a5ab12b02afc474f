"""Typed access to a document's fields: every miss names the table, the id and the field."""

from __future__ import annotations

import math
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from ..errors import StoreCorrupt

LIMIT = 1e15  # the largest magnitude a value may have (see the module docstring)


class Malformed(Exception):
    """A document is not what we expect; `at()` turns it into the store's broken-file error."""

    def __init__(self, table: str, doc_id: object, field: str, detail: str) -> None:
        super().__init__(detail)
        self.table, self.doc_id, self.field, self.detail = table, doc_id, field, detail

    def at(self, path: str) -> StoreCorrupt:
        where = f"table '{self.table}'"
        if self.doc_id is not None:
            where += f", id {self.doc_id!r}"
        if self.field:
            where += f", field '{self.field}'"
        return StoreCorrupt(path, f"{where}: {self.detail}")


_MISSING: Any = object()
E = TypeVar("E", bound=StrEnum)


class _Fields:
    """Typed access to one document's fields; every miss raises `Malformed` naming the field."""

    __slots__ = ("d", "id", "key", "table")

    def __init__(self, table: str, d: object, key: object = None) -> None:
        if type(d) is not dict:
            raise Malformed(table, key, "", f"a document is {_kind(d)}, not an object")
        self.table, self.d, self.key = table, d, key
        self.id = 0
        self.id = self.whole("id")
        if self.id < 1:
            raise self.bad("id", "must be a positive whole number")

    def bad(self, field: str, detail: str) -> Malformed:
        return Malformed(self.table, self.id or self.key, field, detail)

    def get(self, field: str, default: Any) -> Any:
        value = self.d.get(field, default)
        if value is _MISSING:
            raise self.bad(field, "is missing")
        return value

    def whole(self, field: str, default: Any = _MISSING) -> int:
        value = self.get(field, default)
        if type(value) is not int:
            raise self.bad(field, f"{_kind(value)} is not a whole number")
        return value

    def ref(self, field: str) -> int | None:
        value = self.get(field, None)
        if value is not None and type(value) is not int:
            raise self.bad(field, f"{_kind(value)} is not an id")
        return value

    def text(self, field: str, default: Any = "") -> str:
        value = self.get(field, default)
        if type(value) is not str:
            raise self.bad(field, f"{_kind(value)} is not text")
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:
                raise self.bad(field, "holds text that is not valid Unicode") from None
        return value

    def name(self, field: str) -> str:
        value = self.text(field, _MISSING)
        if not value.strip():
            raise self.bad(field, "is empty")
        return value

    def num(self, field: str, default: Any = _MISSING) -> float:
        return _number(self, field, self.get(field, default))

    def opt_num(self, field: str) -> float | None:
        value = self.get(field, None)
        return None if value is None else _number(self, field, value)

    def day(self, field: str) -> date:
        return _date(self, field, self.get(field, _MISSING))

    def opt_day(self, field: str) -> date | None:
        value = self.get(field, None)
        return None if value is None or value == "" else _date(self, field, value)

    def enum(self, field: str, kind: type[E], default: str) -> E:
        value = self.get(field, default)
        try:
            return kind(value)
        except ValueError:
            options = ", ".join(m.value for m in kind)
            raise self.bad(field, f"{_kind(value)} is not one of {options}") from None

    def flag(self, field: str, default: bool) -> bool:
        value = self.get(field, default)
        if type(value) is not bool:
            raise self.bad(field, f"{_kind(value)} is not true or false")
        return value

    def seq(self, field: str) -> list[Any]:
        value = self.get(field, [])
        if type(value) is not list:
            raise self.bad(field, f"{_kind(value)} is not a list")
        return value


def _kind(value: object) -> str:
    """How a bad value looks, briefly and safely (never the whole of a long string)."""
    if isinstance(value, str):
        return repr(value[:40] + ("…" if len(value) > 40 else ""))
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def _number(f: _Fields, field: str, value: object) -> float:
    if type(value) not in (int, float):
        raise f.bad(field, f"{_kind(value)} is not a number")
    x = float(value)  # type: ignore[arg-type]
    if not math.isfinite(x) or abs(x) > LIMIT:
        raise f.bad(field, f"{value!r} is out of range (at most ±{LIMIT:g})")
    return x


def _date(f: _Fields, field: str, value: object) -> date:
    if type(value) is not str:
        raise f.bad(field, f"{_kind(value)} is not a date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise f.bad(field, f"{_kind(value)} is not a date (YYYY-MM-DD)") from None
