"""The package-level import cycles removed by issue 13 step 8 (docs/architecture.md §1.2, §4)
stay removed: ``models`` ↔ ``tasks`` and, since step 13 moved ``_preflight`` into ``pipeline/``
and ``suites`` into ``tasks/``, ``models`` ↔ ``pipeline`` and ``cli`` ↔ ``tasks`` (the packages
that now hold the two other ends of the old cycles).

The graph is read from the source with :mod:`ast`, every import counted: top-level, inside a
function and under ``TYPE_CHECKING`` (a lazy import is still a dependency, and a
``TYPE_CHECKING`` one still ties the packages together for a type checker and a reader). A node
is a top-level package or module of ``trustgauge`` (``trustgauge.models.scripted`` -> ``models``,
``trustgauge.suites`` -> ``suites``). Two nodes are in a cycle when each reaches the other, so
an indirect way back (``models`` -> X -> ``tasks`` -> ``models``) fails too.

Cheap insurance next to the import-linter contracts (§2.2); it can go once those run in CI.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "trustgauge"

#: (A, B): A and B must not reach each other
REMOVED = [("models", "pipeline"), ("cli", "tasks"), ("models", "tasks")]

Edge = tuple[str, str, str]  # (source node, target node, "file:line" of the import)


def _module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _node(module: str) -> str | None:
    """The top-level package or module of ``trustgauge`` that ``module`` is in (``None``: the
    root package itself, or outside trustgauge)."""
    parts = module.split(".")
    if parts[0] != ROOT or len(parts) < 2:
        return None
    return parts[1]


def _imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    """Every module ``tree`` imports, with its line; ``from X import Y`` counts as ``X.Y``
    (``Y`` may be a submodule; for a name in ``X`` the node is the same as ``X``'s)."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.extend((f"{target}.{alias.name}", node.lineno) for alias in node.names)
    return found


def import_edges(src: Path = SRC) -> list[Edge]:
    """Package-level import edges of ``src/trustgauge`` (self edges left out)."""
    edges: list[Edge] = []
    for path in sorted((src / ROOT).rglob("*.py")):
        module = _module_name(path, src)
        source = _node(module)
        if source is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target_module, line in _imported(tree, module, path.name == "__init__.py"):
            target = _node(target_module)
            if target is not None and target != source:
                edges.append((source, target, f"{path.relative_to(src)}:{line}"))
    return edges


def path_between(edges: list[Edge], start: str, goal: str) -> list[Edge] | None:
    """A shortest chain of imports from ``start`` to ``goal`` (``None``: unreachable)."""
    out: dict[str, list[Edge]] = {}
    for edge in edges:
        out.setdefault(edge[0], []).append(edge)
    came: dict[str, Edge | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        if current == goal:
            chain: list[Edge] = []
            step = came[current]
            while step is not None:
                chain.append(step)
                step = came[step[0]]
            return chain[::-1]
        for edge in out.get(current, []):
            if edge[1] not in came:
                came[edge[1]] = edge
                queue.append(edge[1])
    return None


def _shown(chain: list[Edge]) -> str:
    return " ; ".join(f"{a} -> {b} ({where})" for a, b, where in chain)


@pytest.mark.parametrize(("a", "b"), REMOVED, ids=[f"{a}-{b}" for a, b in REMOVED])
def test_removed_cycle_stays_removed(a: str, b: str) -> None:
    edges = import_edges()
    there, back = path_between(edges, a, b), path_between(edges, b, a)
    assert there is None or back is None, (
        f"import cycle {a} <-> {b} is back: {_shown(there or [])} || {_shown(back or [])}"
    )


def test_the_walk_sees_lazy_type_checking_and_relative_imports(tmp_path: Path) -> None:
    """The checker itself: an import inside a function, one under ``TYPE_CHECKING`` and a
    relative one each make an edge, with the file and line; a cycle through a third package is
    found as a chain."""
    pkg = tmp_path / ROOT
    for folder in ("a", "b", "c"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "x.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from trustgauge.b.y import Y\n"
    )
    (pkg / "b" / "y.py").write_text("def f():\n    from ..c import z\n")
    (pkg / "c" / "z.py").write_text("import trustgauge.a.x\n")
    edges = import_edges(tmp_path)
    assert sorted(edges) == [
        ("a", "b", "trustgauge/a/x.py:3"),
        ("b", "c", "trustgauge/b/y.py:2"),
        ("c", "a", "trustgauge/c/z.py:1"),
    ]
    assert path_between(edges, "a", "c") == [("a", "b", "trustgauge/a/x.py:3"), ("b", "c", "trustgauge/b/y.py:2")]
    assert path_between(edges, "c", "b") == [("c", "a", "trustgauge/c/z.py:1"), ("a", "b", "trustgauge/a/x.py:3")]
    (pkg / "c" / "z.py").write_text("")
    assert path_between(import_edges(tmp_path), "c", "a") is None


def test_the_walk_sees_todays_known_edges() -> None:
    """Edges that exist by design are found (a walk that saw nothing would pass the test above)."""
    pairs = {(a, b) for a, b, _ in import_edges()}
    assert {("tasks", "types"), ("pipeline", "models"), ("cli", "tasks"), ("api", "pipeline")} <= pairs
