"""Our post-import hook against wrapt's: same module, same moment, nothing else changed."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import wrapt

from otel_serverless import _guard
from otel_serverless.instrumentation import _post_import


@pytest.fixture
def package(tmp_path: Path) -> Iterator[str]:
    """A fresh package with a submodule, importable once, forgotten afterwards."""
    name = f"hooked_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("READY = True\n")
    (root / "sub.py").write_text("import importlib.resources\nFIRST = 1\nLAST = __spec__.loader.__class__.__name__\n")
    sys.path.insert(0, str(tmp_path))
    try:
        yield name
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]
        _post_import.forget_all()


def test_same_module_same_moment_as_wrapt(package: str) -> None:
    seen: list[tuple[str, ModuleType, bool]] = []
    name = f"{package}.sub"
    wrapt.register_post_import_hook(lambda module: seen.append(("wrapt", module, hasattr(module, "LAST"))), name)
    _post_import.when_imported(name, lambda module: seen.append(("ours", module, hasattr(module, "LAST"))))
    assert name in _post_import.waiting()
    module = importlib.import_module(name)
    assert sorted(who for who, _, _ in seen) == ["ours", "wrapt"]
    # Both run once, after the module's body ran to its end, with the module the import returns.
    assert all(seen_module is module and complete for _, seen_module, complete in seen)
    assert name not in _post_import.waiting()
    # The module saw the real loader while it ran, and keeps it: nothing of ours is left on it.
    assert module.LAST == "SourceFileLoader"
    assert type(module.__loader__).__name__ == "SourceFileLoader"
    assert type(module.__spec__.loader).__name__ == "SourceFileLoader"
    importlib.reload(module)
    assert len(seen) == 2, "a reload is not a first import"


def test_already_imported_runs_now(package: str) -> None:
    module = importlib.import_module(package)
    seen: list[ModuleType] = []
    _post_import.when_imported(package, seen.append)
    assert seen == [module]
    assert package not in _post_import.waiting()


def test_an_unimported_name_costs_no_import(package: str) -> None:
    _post_import.when_imported(package + ".sub", lambda module: None)
    assert package not in sys.modules and package + ".sub" not in sys.modules


@pytest.mark.swallows
def test_a_failing_callback_does_not_break_the_import(package: str) -> None:
    def broken(module: ModuleType) -> None:
        raise RuntimeError("hook failed")

    after: list[ModuleType] = []
    _post_import.when_imported(package, broken)
    _post_import.when_imported(package, after.append)
    module = importlib.import_module(package)
    assert module.READY is True
    assert after == [module], "the next callback still runs"
    assert [key for key, _ in _guard.swallowed] == [f"post_import.{package}"]
