"""`teamboard record` on a small file store with nothing but the standard library's fast pieces:
the lean core `tui.launch` tries before the full path (`tui.lean.record` → `store.fastpath`).

A record over SSH is mostly start-up: the read model's dataclasses and enums, `typing` and
orjson cost several times `python -c pass`. This core imports `os`, `sys`, `json`, `datetime`
and the store's lock and safe file code (`store.lock`, `store.safeio`), and it writes byte for
byte the file the full path would write, and prints the same status line. Whenever it cannot
vouch for that it returns None before anything is written, and the full path runs as always
(and words any error). It hands over for:

- anything the command line reads in a way this core does not reproduce exactly (an odd value,
  date, name or path, `--plan`, the default store path, a PostgreSQL store);
- a store that is not exactly what both serialisers write: the bytes must be what `json.dumps`
  (`ensure_ascii=False`, no spaces) gives back for their parse, and nothing in them may be read
  or written differently by orjson (a float in e-notation, `NaN`, an integer of 19 digits);
- a store bigger than `MAX_BYTES` (the full path's orjson is faster there);
- a KPI feature the status line needs and this core does not reproduce: a counter-metric, a due
  time, estimates or explanations, an entry with a plan;
- any doubt at all: an exception is a hand-over.

What it vouches for, and how: the entries table and the part of `meta` a record changes are
checked here as `store.fastpath` checks them. Everything else (boards, KPIs, actions, the change
log, goals, ...) is checked by the full path's own decoders (`Snapshot.from_raw`,
`schema.migrate`), imported only when those tables' bytes are not ones this user's teamboard
has already checked: their SHA-256 (with the checking code's file stamps) is kept in a private
cache, `checked` in the user's cache folder (`safeio.cache_folder`). So the first record after
any other kind of change pays the full checks once; the records after it do not. Store text is
data: it is written back as parsed, and a status line that would need a character made visible
(a control or format character) is left to the full path.

Every write is the full path's: under the store's real lock (`store.lock.locked`, the same lock
file and queue), read through `safeio.open_regular` (no symlink followed, no FIFO or device
opened), replaced atomically with the old file's mode and group (`safeio.write_bytes`), stale
temp files removed, who (the OS login of the real uid) and when recorded in the entry and in
`last_change`, and the folder synced after the lock is let go.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import date, datetime
    from typing import Any, TextIO

SCHEMA = 4  # the store schema this core knows (`store.schema.SCHEMA`; a test keeps them equal)
MAX_BYTES = 512 << 10  # about 4,500 entries: above, the full path (orjson) is the faster
LIMIT = 1e15  # `store.validate.LIMIT`
TINY = 1e-15  # `store.validate.TINY`
WAIT_DEFAULT, WAIT_MAX = 120.0, 86400.0  # `tui.lean`'s
MAX_TEXT = 2000  # `store.validate.MAX_TEXT`
SEALS_KEPT = 16
# The modules whose code decides what `_seal_check` accepts: a change to any of them (an
# upgrade) makes every stored digest stale.
_CHECKERS = ("schema.py", "snapshot.py", "model.py", "codec/decode.py", "codec/fields.py",
             "codec/__init__.py", "quick.py")  # fmt: skip

_GLYPH = {"green": "✔", "amber": "▲", "red": "✖", "stale": "?"}
_SGR = {"green": "32", "amber": "33", "red": "31", "stale": "35", "alarm": "1;31"}
_ARROW = {"improving": "↗", "worsening": "↘", "flat": "→"}
MINUS = "−"


class _HandOver(Exception):
    """The full path takes this record: nothing was written."""


def record(args: dict[str, str], now: datetime | None = None) -> int | None:
    """`teamboard record` as `tui.lean.record` runs it (`args` from `tui.launch.plain_record`);
    None when the full path must run it instead (nothing was written). Errors of the lock and
    the write itself (busy, refused, disk full) propagate: the caller words them as the full
    path would (`tui.lean.Guard`)."""
    try:
        job = _Job(args, now)
    except Exception:
        return None
    return job.run()


# --- what the command line says -----------------------------------------------------------------


def _number(text: str) -> float:
    """`store.validate.number` for what it accepts; anything else hands over."""
    import re

    t = text.strip().replace("\u2212", "-")
    if "," in t or not re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?%?", t, re.ASCII):
        raise _HandOver("not a number it reads")
    value = float(t.removesuffix("%"))
    if not (abs(value) <= LIMIT and (value == 0 or abs(value) >= TINY)):
        raise _HandOver("out of bounds")
    return value + 0.0


def _utf8(text: str) -> str:
    if any("\ud800" <= c <= "\udfff" for c in text):
        raise _HandOver("bytes that are not UTF-8")
    return text


def _ref(text: str) -> str:
    """`store.validate.ref`: NFC, valid UTF-8."""
    _utf8(text)
    if text.isascii():
        return text
    import unicodedata

    return unicodedata.normalize("NFC", text)


def _day(text: str, today: date) -> date:
    """`store.validate.day` (actuals: at most a day ahead) for what it accepts."""
    import re
    from datetime import date, timedelta

    t = _utf8(text).strip().lower()
    m = re.fullmatch(r"([+-])(\d+)", t, re.ASCII)
    if t == "today":
        d = today
    elif t == "yesterday":
        d = today - timedelta(days=1)
    elif m is not None and len(m[2]) <= 6:
        n = int(m[2])
        d = today + timedelta(days=-n if m[1] == "-" else n)
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", t, re.ASCII):
        d = date.fromisoformat(t)
    else:
        raise _HandOver("not a date it reads")
    if d.toordinal() > today.toordinal() + 1:
        raise _HandOver("in the future")
    return d


def _store_path(args: dict[str, str]) -> str:
    """The store's real path as `Store` resolves it, when no symlink is on the way (then the
    full path's `storage.resolve` decides whom to trust); hand over for the default path."""
    given = args.get("store")
    if given is None:
        given = os.environ.get("TEAMBOARD_STORE") or ""
        if not given:
            raise _HandOver("the default store path")
    if "\0" in given or given.startswith("postgres") or "://" in given:
        raise _HandOver("not a plain file path")
    path = os.path.normpath(os.path.join(os.getcwd(), os.path.expanduser(given)))
    if path.startswith("//") or os.path.realpath(path) != path:
        raise _HandOver("a symlink on the way")
    return path


def _writable(path: str) -> os.stat_result:
    """`Store.ready_to_write`'s checks, as a yes or no (the full path words a no)."""
    import stat

    st = os.lstat(path)
    folder = os.path.dirname(path) or "."
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0 or st.st_size > MAX_BYTES:
        raise _HandOver("not a small regular store")
    if not (os.access(path, os.R_OK | os.W_OK) and os.access(folder, os.W_OK | os.X_OK)):
        raise _HandOver("read-only")
    me = os.geteuid()
    if me != 0 and st.st_uid != me:
        fst = os.stat(folder)
        if fst.st_mode & stat.S_ISVTX and fst.st_uid != me:
            raise _HandOver("a sticky folder")
    return st


def _whoami() -> str:
    """`store.db.whoami`: the OS login of the real uid."""
    import pwd

    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def _utcnow() -> str:
    """`store.db.utcnow`: UTC, to the second."""
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class _Job:
    """One record, its arguments read as the full path reads them."""

    def __init__(self, args: dict[str, str], now: datetime | None) -> None:
        from datetime import datetime

        if "plan" in args:
            raise _HandOver("a plan")
        self.args = args
        moment = now if now is not None else datetime.now()
        self.today = moment.date()
        self.when = moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment
        self.kpi = _ref(args["kpi"])
        board = args.get("board")
        self.board = None if board is None else _ref(board)
        self.path = _store_path(args)
        wait = args.get("wait")
        if wait is None:
            wait = os.environ.get("TEAMBOARD_WAIT")
        if wait is None or not wait.strip():
            self.timeout = WAIT_DEFAULT
        else:
            self.timeout = _number(_utf8(wait))
            if not 0 <= self.timeout <= WAIT_MAX:
                raise _HandOver("a wait out of range")
        self.value = _number(_utf8(args["value"]))
        text = args.get("date")
        self.day = self.today if text is None else _day(text, self.today)
        note = _utf8(args.get("note", ""))
        if len(note) > MAX_TEXT:
            raise _HandOver("a long note")
        self.note = note.strip()
        _writable(self.path)
        self.who = _whoami()

    def run(self) -> int | None:
        from .lock import locked
        from .safeio import open_regular, read_fd, remove_stale_temps, sync_folder, write_bytes

        with locked(self.path, self.timeout, _waiting):
            try:
                fd = open_regular(self.path)
                if fd is None:
                    return None
                blob, ref = read_fd(fd)
                out, line = self.work(blob)
            except Exception:
                return None  # under the lock, before any write: the full path takes it
            remove_stale_temps(self.path)
            write_bytes(self.path, out, ref, sync=False)
        sync_folder(self.path)
        stream = sys.stdout
        stream.write(line + "\n")
        stream.flush()
        return 0

    def work(self, blob: bytes) -> tuple[bytes, str]:
        """The bytes to write and the status line, from the store's bytes."""
        if len(blob) > MAX_BYTES:
            raise _HandOver("a big store")
        text = blob.decode("utf-8")
        raw, spans = _canonical(text)
        if set(spans) != {"meta", "entries", *spans} or spans["entries"][0] < spans["meta"][0]:
            raise _HandOver("not the layout records append to")
        meta = raw["meta"]
        one = meta.get("1") if type(meta) is dict else None
        if type(one) is not dict or one.get("schema") != SCHEMA:
            raise _HandOver("a schema to migrate")
        _check_change(one)
        entries = raw["entries"]
        table = _check_entries(entries)
        _sealed(text, raw, spans, self.path)
        kpis = raw["kpis"]
        kpi_ids = {d["id"] for d in kpis.values()}
        if not table.kpis <= kpi_ids:
            raise _HandOver("an entry of an unknown KPI")
        k = self.find(raw)
        view = _View(k, raw, entries, self.today, self.when)

        seq = one.setdefault("seq", {})
        if "entries" not in seq:
            seq["entries"] = table.max_id
        if type(seq["entries"]) is not int:
            raise _HandOver("an odd id sequence")
        seq["entries"] += 1
        doc: dict[str, Any] = {"id": seq["entries"], "kpi": k["id"], "date": self.day.isoformat(),
                               "value": self.value}  # fmt: skip
        if self.note:
            doc["note"] = self.note
        at = _utcnow()
        doc["who"], doc["at"] = self.who, at
        one["last_change"] = {"who": self.who, "at": at,
                              "what": f"recorded {k['name']} = {self.value:g}"}  # fmt: skip
        key = str(table.max_key + 1)
        if "e" in _dumps(self.value):  # the only float not from the checked file
            raise _HandOver("a value orjson spells differently")
        member = _dumps(key) + ":" + _dumps(doc)
        new_meta = _dumps(meta)
        (m0, m1), (_, e1) = spans["meta"], spans["entries"]
        close = e1 - 1
        sep = "," if entries else ""
        out = text[:m0] + new_meta + text[m1:close] + sep + member + text[close:]
        line = view.line(doc, self.day, _Painter(_use_colour(sys.stdout)))
        return out.encode("utf-8"), line

    def find(self, raw: dict[str, Any]) -> dict[str, Any]:
        """`Snapshot.kpi_ref(name, board)`: one unarchived KPI of that name (case-insensitive),
        on the named board; anything else (none, several) is the full path's to word."""
        want = self.kpi.strip().casefold()
        pool = [k for k in raw["kpis"].values()
                if k["name"].casefold() == want and not k.get("archived", False)]  # fmt: skip
        if self.board is not None:
            name = self.board.strip().casefold()
            board = next((b for b in raw["boards"].values() if b["name"].casefold() == name), None)
            if board is None:
                raise _HandOver("no such board")
            pool = [k for k in pool if k["board"] == board["id"]]
        if len(pool) != 1:
            raise _HandOver("no such KPI, or several")
        found: dict[str, Any] = pool[0]
        return found


def _waiting(line: str) -> None:
    """The lock's one line about whom we wait for, as the full path prints it."""
    from .validate import printable  # a second of waiting: its import does not matter

    sys.stderr.write(f"teamboard: {printable(line)}\n")
    sys.stderr.flush()


# --- the store's bytes --------------------------------------------------------------------------


def _dumps(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _no_constant(name: str) -> object:
    raise _HandOver("NaN or an infinity: orjson does not read it")


def _odd_number(text: str) -> bool:
    """May `text` hold an integer orjson reads differently from `json` (19 digits or more:
    beyond 64 bits orjson reads a float)? Digits in strings count too: a false alarm only
    costs the full path."""
    import re

    return re.search("[0-9]{19}", text) is not None


def _float(text: str) -> float:
    """A float as `json` reads it, unless its text is in e-notation, which `json` and orjson
    write differently (`1e-05` against `1e-5`)."""
    if "e" in text or "E" in text:
        raise _HandOver("a float orjson spells differently")
    return float(text)


def _canonical(text: str) -> tuple[dict[str, Any], dict[str, tuple[int, int]]]:
    """The parsed store and where each table's value lies in `text`, when `text` is exactly
    what both `json` and orjson write for that parse (as `store.splice.spans` proves it for
    orjson, table by table); else hand over."""
    import json

    # A float in e-notation in canonical text has its sign: then the floats, one by one.
    exponent = "e-" in text or "e+" in text
    floats = _float if exponent else float
    raw = json.loads(text, parse_constant=_no_constant, parse_float=floats)
    if type(raw) is not dict or not text.startswith("{"):
        raise _HandOver("not an object")
    pos, found = 1, {}
    for n, (key, value) in enumerate(raw.items()):
        if n:
            if not text.startswith(",", pos):
                raise _HandOver("not canonical")
            pos += 1
        name = _dumps(key) + ":"
        if not text.startswith(name, pos):
            raise _HandOver("not canonical")
        pos += len(name)
        piece = _dumps(value)
        if not text.startswith(piece, pos):
            raise _HandOver("not canonical")
        found[key] = (pos, pos + len(piece))
        pos += len(piece)
    if text[pos:] != "}":
        raise _HandOver("not canonical")
    if "entries" in found:  # the entries' integers are bounded where they are checked
        start, end = found["entries"]
        if _odd_number(text[:start]) or _odd_number(text[end:]):
            raise _HandOver("an integer orjson reads differently")
    return raw, found


def _check_change(one: dict[str, Any]) -> None:
    """`codec.decode_change`: `last_change` is absent, null or an object of texts."""
    lc = one.get("last_change")
    if lc is not None and (
        type(lc) is not dict or not all(type(lc.get(k, "")) is str for k in ("who", "at", "what"))
    ):
        raise _HandOver("a malformed last change")


class _Entries:
    __slots__ = ("kpis", "max_id", "max_key")

    def __init__(self, kpis: set[int], max_id: int, max_key: int) -> None:
        self.kpis, self.max_id, self.max_key = kpis, max_id, max_key


def _check_entries(entries: object) -> _Entries:
    """`store.fastpath.check_entries`: the one loop both paths run (`store.entrycheck`)."""
    from .entrycheck import Doubt, check

    try:
        kpis, max_id, max_key, _ids = check(entries)
    except Doubt as exc:
        raise _HandOver(str(exc)) from exc
    return _Entries(kpis, max_id, max_key)


# --- the tables a record does not change: checked once by the full path's decoders --------------


def _digest(text: str, raw: dict[str, Any], spans: dict[str, tuple[int, int]]) -> str | None:
    """SHA-256 of everything `_seal_check` checks: the store less its entries and less what a
    record changes in `meta`, with the checking code's file stamps; None when unknown."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]
    except ImportError:  # another Python: hashlib's
        from hashlib import sha256
    here = os.path.dirname(os.path.abspath(__file__))
    stamps = []
    for name in _CHECKERS:
        try:
            st = os.stat(os.path.join(here, name))
        except OSError:
            return None
        stamps.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    one = dict(raw["meta"]["1"])
    one.pop("last_change", None)
    seq = one.get("seq")
    if type(seq) is dict and "entries" in seq:
        seq = dict(seq)
        del seq["entries"]
        one["seq"] = seq
    meta = dict(raw["meta"])
    meta["1"] = one
    parts = [" ".join(stamps)]
    for key, (start, end) in spans.items():
        if key == "entries":
            piece = "{}"
        elif key == "meta":
            piece = _dumps(meta)
        else:
            piece = text[start:end]
        parts.append(_dumps(key) + ":" + piece)
    return str(sha256("\0".join(parts).encode("utf-8")).hexdigest())


def _seals_path() -> str | None:
    """The private file of checked tables, in the user's cache folder (`safeio.cache_folder`)."""
    from .safeio import cache_folder

    where = cache_folder()
    return None if where is None else os.path.join(where, "checked")


def _read_seals(path: str) -> list[str]:
    """The digests kept, from our own private file only (never through a link, a FIFO, or a
    file someone else could have written)."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return []
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            return []
        return os.read(fd, 65 * SEALS_KEPT).decode("ascii", "replace").split()
    finally:
        os.close(fd)


def _keep_seal(path: str, digest: str, seals: list[str]) -> None:
    """Add `digest` to the private file (best effort: a cache; temp file and rename)."""
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)  # fmt: skip
        try:
            kept = [*[s for s in seals if s != digest][-(SEALS_KEPT - 1) :], digest]
            os.write(fd, ("\n".join(kept) + "\n").encode("ascii"))
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        pass


def _sealed(text: str, raw: dict[str, Any], spans: dict[str, tuple[int, int]], path: str) -> None:
    """Hand over unless the tables a record does not change are ones the full path's decoders
    accept: known from the private file, or checked now (and then kept there)."""
    digest = _digest(text, raw, spans)
    where = _seals_path()
    seals = _read_seals(where) if where is not None and digest is not None else []
    if digest is not None and digest in seals:
        return
    _seal_check(raw, path)
    if where is not None and digest is not None:
        _keep_seal(where, digest, seals)


def _seal_check(raw: dict[str, Any], path: str) -> None:
    """What `store.fastpath._check` asks of the store less its entries (which `_check_entries`
    checks), with the same code: no migration due, and the read model builds."""
    import copy

    from . import schema
    from .snapshot import Snapshot

    small = copy.deepcopy({k: v for k, v in raw.items() if k != "entries"})
    small["entries"] = {}
    if schema.migrate(small, path):
        raise _HandOver("a migration")
    Snapshot.from_raw(small, path)  # raises for anything malformed


# --- the status line (`tui.lean.record_line` over `store.rules.view_kpis`) ----------------------


class _Entry:
    __slots__ = ("day", "id", "value", "who")

    def __init__(self, d: dict[str, Any]) -> None:
        from datetime import date

        self.id, self.day, self.value = d["id"], date.fromisoformat(d["date"]), float(d["value"])
        self.who = d.get("who", "")


def _plain(text: str) -> str:
    """`text` when the terminal-safe form of it (`validate.printable`, `tui.lean.one_line`)
    is `text` itself; else hand over (the full path shows it made visible)."""
    if text.isascii():
        if any(not " " <= c <= "~" for c in text):
            raise _HandOver("a control character")
        return text
    import unicodedata

    for c in text:
        code = ord(c)
        if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code <= 0xDFFF:
            raise _HandOver("a control character")
        if code > 0x7F and unicodedata.category(c) == "Cf":
            raise _HandOver("a format character")
    return text


def _period_start(freq: str, day: date) -> date:
    from datetime import timedelta

    if freq == "weekly":
        return day - timedelta(days=day.weekday())
    if freq == "monthly":
        return day.replace(day=1)
    return day


def _previous_start(freq: str, start: date) -> date:
    from datetime import timedelta

    if freq == "weekly":
        return start - timedelta(days=7)
    if freq == "monthly":
        return (start - timedelta(days=1)).replace(day=1)
    return start - timedelta(days=1)


def _next_start(freq: str, start: date) -> date:
    from datetime import timedelta

    if freq == "weekly":
        return start + timedelta(days=7)
    if freq == "monthly":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def _digits(x: float, digits: int = 15) -> str:
    text = f"{abs(x):.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return (MINUS if x < 0 else "") + text


def _num(x: float) -> str:
    """`present.num` for a finite value (the only kind a checked store holds)."""
    return "0" if x == 0 else _digits(x)


def _with_unit(x: float, unit: str) -> str:
    return _num(x) if not unit else f"{_num(x)}{'' if unit == '%' else ' '}{unit}"


def _signed(x: float) -> str:
    return ("+" if x > 0 else "") + _num(x)


def _decimals(x: float) -> int | None:
    text = _num(x)
    return None if "e" in text else len(text.partition(".")[2])


def _difference(value: float, bench: float) -> float:
    import math

    diff = value - bench
    places = [_decimals(value), _decimals(bench)]
    if None in places or not math.isfinite(diff):
        return diff
    return round(diff, max(p for p in places if p is not None)) + 0.0


class _Painter:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, style: str) -> str:
        if not self.colour or not text:
            return text
        return f"\x1b[{_SGR[style]}m{text}\x1b[0m"


def _use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _View:
    """One KPI's view after the record (`rules.view_kpis` for it alone), for the KPIs this
    core vouches for; the checks that hand over run before anything is written."""

    def __init__(
        self, k: dict[str, Any], raw: dict[str, Any], entries: dict[str, Any], today: date,
        when: datetime,
    ) -> None:  # fmt: skip
        from datetime import date

        kid = k["id"]
        if k.get("counter") is not None or k.get("due") not in (None, ""):
            raise _HandOver("a counter-metric or a due time")
        for table in ("estimates", "explanations"):
            if any(d["kpi"] == kid for d in raw.get(table, {}).values()):
                raise _HandOver("estimates or explanations")
        self.freq = k.get("frequency", "daily")
        self.up = k.get("direction", "up") == "up"
        if self.freq not in ("daily", "weekly", "monthly") or k.get("direction", "up") not in (
            "up",
            "down",
        ):
            raise _HandOver("an odd KPI")
        amber = k.get("amber")
        self.amber = None if amber is None else float(amber)
        self.targets = [
            (float(t["value"]), None if t.get("from") is None else date.fromisoformat(t["from"]))
            for t in k["targets"]
        ]
        self.name, self.unit = _plain(k["name"]), _plain(k.get("unit", ""))
        self.kid, self.today, self.when = kid, today, when
        mine = [d for d in entries.values() if d["kpi"] == kid]
        if any(d.get("plan") is not None for d in mine):
            raise _HandOver("an entry with a plan")
        self.before = sorted((_Entry(d) for d in mine), key=lambda e: e.id)
        self.open = any(
            a.get("kpi") == kid and a.get("stage", "plan") != "done"
            for a in raw["actions"].values()
        )

    def target_on(self, day: date) -> float:
        chosen = self.targets[0][0]
        for value, since in self.targets:
            if since is None or since <= day:
                chosen = value
        return chosen

    def colour(self, e: _Entry) -> str:
        bench, target = self.target_on(e.day), self.target_on(e.day)
        better = e.value >= bench if self.up else e.value <= bench
        if better:
            return "green"
        if self.amber is None:
            return "red"
        return "amber" if abs(e.value - bench) <= abs(target - self.amber) else "red"

    def trend(self, history: list[_Entry], periods: int = 5) -> str:
        values = [e.value for e in history[-periods:]]
        n = len(values)
        if n < 2:
            return ""
        mean_x = (n - 1) / 2
        mean_y = sum(values) / n
        sxx = sum((i - mean_x) ** 2 for i in range(n))
        slope = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values)) / sxx
        scale = abs(self.targets[-1][0]) or abs(mean_y) or 1.0
        change = slope * (n - 1)
        if abs(change) < 0.02 * scale:
            word = "flat"
        else:
            good = (change > 0) if self.up else not (change > 0)
            word = "improving" if good else "worsening"
        return f"{_ARROW[word]} {word}"

    def line(self, doc: dict[str, Any], day: date, paint: _Painter) -> str:
        """`tui.lean.record_line` for the entry `doc` just appended."""
        entry = _Entry(doc)
        entry.who = doc["who"]
        freq = self.freq
        best: dict[date, _Entry] = {}
        for e in [*self.before, entry]:
            key = _period_start(freq, e.day)
            cur = best.get(key)
            if cur is None or (e.day, e.id) > (cur.day, cur.id):
                best[key] = e
        history = [best[k] for k in sorted(best)]
        latest = history[-1]
        required = _previous_start(freq, _period_start(freq, self.when.date()))
        stale = _period_start(freq, latest.day) < required
        status = "stale" if stale else self.colour(latest)
        bench = self.target_on(latest.day)
        diff = _difference(latest.value, bench)
        pct = (latest.value - bench) / abs(bench) * 100.0 if bench else None
        var = _signed(diff) + (f" ({_signed(round(pct, 1))}%)" if pct is not None else "")
        label = f"target {_with_unit(bench, self.unit)}"
        later = [(v, s) for v, s in self.targets if s is not None and s > self.today]
        if later:
            first = min(s for _, s in later)
            value, since = [(v, s) for v, s in later if s == first][-1]
            label += f" · {_with_unit(value, self.unit)} from {_day_month(since, self.today)}"
        head = f"{self.name} {_with_unit(latest.value, self.unit)} ({label}, {var})"
        trend = self.trend(history)
        parts = [f"{head} {trend}" if trend else head]
        if status == "red" and not self.open:
            import shlex

            parts.append(
                paint("red without an action", "alarm")
                + f": add one with teamboard action add TITLE --kpi {shlex.quote(self.name)}"
            )
        if stale:
            since = _next_start(freq, _period_start(freq, latest.day))
            parts.append(f"stale since {_short_date(since, self.today)}")
        if latest.id != entry.id:
            parts.append(
                f"recorded {_with_unit(entry.value, self.unit)} for {entry.day.isoformat()}; "
                f"the latest is {latest.day.isoformat()}"
            )
        same = [e for e in self.before if e.day == day]
        if same:
            old = same[-1]
            by = f" by {_plain(old.who)}" if old.who else ""
            parts.append(
                f"replaces {_with_unit(old.value, self.unit)} for {old.day.isoformat()}{by} "
                "(kept in history)"
            )
        word = "no data" if status == "no-data" else status
        return paint(f"{_GLYPH[status]} {word}", status) + "  " + " · ".join(parts)


def _day_month(d: date, today: date) -> str:
    return d.strftime("%-d %b %Y") if d.year != today.year else d.strftime("%-d %b")


def _short_date(d: date, today: date) -> str:
    return d.strftime("%-d %b %Y") if d.year != today.year else d.strftime("%a %-d %b")


__all__ = ["MAX_BYTES", "SCHEMA", "record"]
