"""Make a store of N entries fast, by writing its JSON directly (no transaction per entry).

    python bench/make_store.py PATH N

The store looks like a plant's after a few years: 10 boards of 7 daily KPIs, one entry per KPI
and day going back from yesterday, each with who and when; a tenth of them with a note. The
KPI "Output" on board "Line 1" is the one to record against.
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

SCHEMA = 2
BOARDS = 10
KPIS_PER_BOARD = 7
LOGINS = ("ana", "ben", "chen", "dara", "eli", "fay")


def raw_store(n_entries: int, today: date, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    boards: dict[str, Any] = {}
    kpis: dict[str, Any] = {}
    for b in range(1, BOARDS + 1):
        boards[str(b)] = {
            "id": b,
            "name": f"Line {b}",
            "description": "",
            "parent": None,
            "kpi_limit": 7,
            "who": "ana",
            "at": "2020-01-06T08:00:00Z",
        }
        for k in range(KPIS_PER_BOARD):
            kid = (b - 1) * KPIS_PER_BOARD + k + 1
            kpis[str(kid)] = {
                "id": kid,
                "board": b,
                "name": "Output" if (b, k) == (1, 0) else f"KPI {b}.{k}",
                "targets": [{"value": 100.0, "who": "ana", "at": "2020-01-06T08:00:00Z"}],
                "direction": "up",
                "unit": "units",
                "amber": 90.0,
                "frequency": "daily",
                "owner": rng.choice(LOGINS),
                "goal": "",
                "kind": "lagging",
                "counter": None,
                "description": "",
                "archived": False,
                "who": "ana",
                "at": "2020-01-06T08:00:00Z",
            }
    n_kpis = len(kpis)
    entries: dict[str, Any] = {}
    for i in range(n_entries):
        eid = i + 1
        kid = i % n_kpis + 1
        day = today - timedelta(days=(n_entries - 1 - i) // n_kpis + 1)
        doc: dict[str, Any] = {
            "id": eid,
            "kpi": kid,
            "date": day.isoformat(),
            "value": round(rng.gauss(100.0, 8.0), 1),
            "who": rng.choice(LOGINS),
            "at": f"{(day + timedelta(days=1)).isoformat()}T06:30:00Z",
        }
        if rng.random() < 0.1:
            doc["note"] = "Short stop at station 3; material late from the warehouse."
        entries[str(eid)] = doc
    meta = {"schema": SCHEMA, "seq": {"boards": BOARDS, "kpis": n_kpis, "entries": n_entries}}
    return {
        "meta": {"1": meta},
        "boards": boards,
        "kpis": kpis,
        "entries": entries,
        "actions": {},
        "huddles": {},
    }


def make_store(path: Path, n_entries: int, today: date | None = None) -> Path:
    path.write_bytes(orjson.dumps(raw_store(n_entries, today or date.today())))
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = make_store(Path(argv[0]), int(argv[1]))
    print(f"{path}: {int(argv[1]):,} entries, {path.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
