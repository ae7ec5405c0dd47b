"""Imports go one way: the layers of the package, checked on its source.

Every import of an ``otel_serverless`` module counts, at module level or inside a function
(a deferred import is still a dependency); imports under ``if TYPE_CHECKING:`` are names
for the type checker only and are left out. The parts are the subpackages and the public
top-level modules; the private top-level helpers (``_guard``, ``_settings``, ``_scrub``,
``_invocation`` …), ``attributes`` and ``environment_variables`` are one part, the core,
which imports no other part. Checked: no cycle between parts, no cycle between the modules
of a subpackage, and the direction the architecture names.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "otel_serverless"

#: Top-level modules that are wiring or entry points, above the layers (not core).
TOP = {"_configure", "_sample", "cli", "distro", "layer"}
#: What each part may never import (the architecture's direction, made explicit).
NEVER = {
    "core": {"aws_lambda", "processors", "export", "logs", "propagation", "botocore", "instrumentation", *TOP},
    "propagation": {"aws_lambda", "processors", "export", "botocore", "logs", "instrumentation", *TOP},
    "export": {"processors", "aws_lambda", "logs", "instrumentation", "insights", "demo", "local", *TOP},
    "processors": {"aws_lambda", "logs", "instrumentation", "insights", "demo", "local", *TOP},
    "logs": {"aws_lambda", "export", "instrumentation", *TOP},
    "aws_lambda": {"insights", "demo", "local", "rollout"},
}


def _part(module: str) -> str:
    """The part a dotted module name belongs to: a subpackage, a top-level module of TOP, or the core."""
    parts = module.split(".")
    if len(parts) == 1:
        return "<root>"
    name = parts[1]
    if (PACKAGE / name).is_dir() or name in TOP:
        return name
    return "core"


def _runtime_imports(tree: ast.Module) -> list[str]:
    found: list[str] = []
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("otel_serverless"):
            # `from package import module` imports that module; `from module import name`, the module.
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.append(candidate if _is_module(candidate) else node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names if alias.name.startswith("otel_serverless"))
    return found


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        source = _part(module)
        for imported in _runtime_imports(ast.parse(path.read_text())):
            target = _part(imported)
            if target != source:
                edges[source].add(target)
    return edges


def _cycle_from(start: str, edges: dict[str, set[str]]) -> list[str] | None:
    path: list[str] = []
    seen: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in seen:
            return None
        seen.add(node)
        path.append(node)
        for target in sorted(edges.get(node, ())):
            found = visit(target)
            if found:
                return found
        path.pop()
        return None

    return visit(start)


def test_no_part_of_the_package_imports_one_that_imports_it_back() -> None:
    edges = _graph()
    # The root package re-exports lazily (configure, instrument): it may import any part.
    edges.pop("<root>", None)
    for node in sorted(edges):
        cycle = _cycle_from(node, edges)
        assert cycle is None, " -> ".join(cycle or [])


def test_no_module_of_a_subpackage_imports_one_that_imports_it_back() -> None:
    for package in sorted(path for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()):
        edges: dict[str, set[str]] = defaultdict(set)
        prefix = f"otel_serverless.{package.name}."
        for path in package.rglob("*.py"):
            module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
            for imported in _runtime_imports(ast.parse(path.read_text())):
                # Its own modules only; the package's __init__ re-exports and is left out.
                if imported.startswith(prefix) and imported != module and not module.endswith(package.name):
                    edges[module].add(imported)
        for node in sorted(edges):
            cycle = _cycle_from(node, edges)
            assert cycle is None, " -> ".join(cycle or [])


def test_the_layers_keep_their_direction() -> None:
    edges = _graph()
    for part, forbidden in NEVER.items():
        assert not edges[part] & forbidden, f"{part} imports {sorted(edges[part] & forbidden)}"


def test_the_check_sees_deferred_imports() -> None:
    tree = ast.parse(
        "def f():\n    from otel_serverless.processors import x\nif TYPE_CHECKING:\n    import otel_serverless.demo\n"
    )
    assert _runtime_imports(tree) == ["otel_serverless.processors"]
