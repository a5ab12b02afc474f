"""The loader's read after a record: the bytes it appended alone (`store.reread`) against the
whole file, in one process, on stores of N entries (bench/make_store.py).

    .venv/bin/python bench/bench_splice.py [--sizes 10000,100000,1000000] [--writes 5]

For each size: a bare `orjson.loads` of the file (the floor of any whole read), the loader's
`Reader` reading it whole, the layout it works out after answering (`Reader.prime`: one
serialisation of the store, off the answer's path), then `--writes` records (the fast path,
in this process), each read by the same `Reader` (spliced) and by `Store.read` (whole, reusing
the previous snapshot's entries, as the app did before the loader). Timings, never assertions.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from make_store import make_store  # noqa: E402

from store import Store, ops  # noqa: E402
from store.loader import Reader  # noqa: E402


def ms(x: float) -> str:
    return f"{x * 1000:,.1f} ms"


def timed(fn: object) -> float:
    t = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t


def run(n: int, writes: int, folder: Path) -> str:
    path = make_store(folder / f"s{n}.json", n)
    store, day = Store(path), date.today()
    ops.record(store, "Output", 1.0, day, day)  # the general path migrates the store once
    blob = path.read_bytes()
    bare = min(timed(functools.partial(orjson.loads, blob)) for _ in range(3))
    del blob
    gc.disable()  # as in the loader process (store.loader.serve)
    reader = Reader(store)
    whole_read = timed(reader.read)
    prime = timed(reader.prime)
    spliced, whole, how = [], [], set()
    previous = reader.snapshot
    for i in range(writes):
        ops.record(store, "Output", 2.0 + i, day, day)
        spliced.append(timed(reader.read))
        how.add(reader.how)
        t = time.perf_counter()
        again = store.read_here(previous)
        whole.append(time.perf_counter() - t)
        assert again == reader.snapshot  # a check of the run, not a timing
        previous = again
    gc.enable()
    path.unlink()
    s, w = statistics.median(spliced), statistics.median(whole)
    return (
        f"| {n:,} | {ms(bare)} | {ms(whole_read)} | {ms(prime)} | {ms(w)} | {ms(s)} | "
        f"{w / s:.0f}× | {', '.join(sorted(how))} |"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--writes", type=int, default=5)
    a = p.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f}")
    print()
    print(
        "| entries | bare orjson.loads | loader's whole read | its layout (after the answer) | "
        "Store.read after a record | loader's read after a record | ratio | how |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory(prefix="bench-splice-") as tmp:
        for n in (int(x) for x in a.sizes.split(",") if x):
            print(run(n, a.writes, Path(tmp)), flush=True)
    print(f"\nload average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
