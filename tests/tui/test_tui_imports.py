"""The layering, read from the source: no runtime import circle, and no arrow back up.

`store/` imports no Textual and nothing above it; `widgets/` imports nothing from `tui/`; and no
first-party modules import each other in a circle at run time. An import under
`if TYPE_CHECKING:` is for the type checker only (a screen names the app's type that way) and
does not count. Then each screen module is imported alone in a fresh interpreter, as the command
line would, so an order that only works after another import fails here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("store", "widgets", "tui")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(
    tree: ast.Module, name: str, is_package: bool, modules: frozenset[str] = frozenset()
) -> Iterator[str]:
    """Every module `name` imports when it runs, at any depth, except under TYPE_CHECKING.

    `from . import flows` imports the submodule; the package (always imported before its
    modules) counts only when a name is taken from it (one of `modules` is not).
    """
    package = name if is_package else name.rpartition(".")[0]

    def walk(node: ast.AST) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) in (
                "TYPE_CHECKING", "typing.TYPE_CHECKING"
            ):
                yield from (x for n in child.orelse for x in walk(n))
                continue
            if isinstance(child, ast.Import):
                yield from (a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*up, base] if base else up)
                subs = [f"{base}.{a.name}" for a in child.names]
                yield from (m for m in subs if m in modules)
                if not all(m in modules for m in subs):
                    yield base
            yield from walk(child)

    yield from walk(tree)


def graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    names = {module_name(p): p for p in files}
    edges: dict[str, set[str]] = {}
    for name, path in names.items():
        tree = ast.parse(path.read_text(), str(path))
        found = runtime_imports(tree, name, path.name == "__init__.py", frozenset(names))
        edges[name] = {m for m in found if m in names and m != name}
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_runtime_import_circle() -> None:
    assert circles(graph()) == []


def test_the_finder_sees_a_circle_and_ignores_type_checking() -> None:
    """The check itself: a circle is found, and a TYPE_CHECKING import is not an edge."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    code = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .app import X\n"
    assert "tui.app" not in set(runtime_imports(ast.parse(code), "tui.board_screen", False))
    code = "def f():\n    from . import flows\n"
    flows = frozenset({"tui.flows"})
    assert set(runtime_imports(ast.parse(code), "tui.board_screen", False, flows)) == flows


def test_no_arrow_runs_back_up() -> None:
    edges = graph()
    for name, targets in edges.items():
        if name.startswith("store"):
            assert not {t for t in targets if not t.startswith("store")}, name
        if name.startswith("widgets"):
            assert not {t for t in targets if t.startswith("tui")}, name
    store_files = [p for p in (ROOT / "store").rglob("*.py")]
    for path in store_files:  # and no Textual under store/ (the command line's fast start)
        tree = ast.parse(path.read_text())
        found = runtime_imports(tree, module_name(path), path.name == "__init__.py")
        assert not [m for m in found if m.split(".")[0] in ("textual", "rich")], path


SCREENS = ["tui.app", "tui.board_screen", "tui.detail_screen", "tui.huddle_screen",
           "tui.flows", "tui.commands", "tui.forms", "tui.views", "tui.lines"]


@pytest.mark.parametrize("module", SCREENS)
def test_each_module_imports_alone(module: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
