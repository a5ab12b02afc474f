"""The floor for one write to a JSON-file store: start Python, parse the file with orjson,
serialise it with orjson, write a temp file, fsync it, rename it over the store.

    python bench/floor.py STORE

Any design that rewrites one JSON file on every write does at least this much; `teamboard
record` is measured against it (bench/bench_scale.py).
"""

import os
import sys

import orjson


def main() -> None:
    path = sys.argv[1]
    with open(path, "rb") as f:
        data = orjson.loads(f.read())
    blob = orjson.dumps(data)
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.floor")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(blob)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
