"""Run a callback right after a module is first imported (or now, if it already is).

This is what ``wrapt.register_post_import_hook`` does, and the contract is the same
(tested side by side in tests/instrumentation/test_post_import.py): the callback gets
the module once it has executed, before the ``import`` statement returns. We do not
import wrapt for it because ``import wrapt`` (2.x) imports :mod:`asyncio` and costs
9-40 ms, which would be paid on every cold start just to *wait* for a library the
handler may never import (benchmark G1).

A meta path finder answers only for the watched names: it asks the other finders
for the real spec and wraps the loader's ``exec_module``; after the module runs, the
original loader is put back on the module and its spec, so nothing downstream
(``importlib.resources``, ``pkgutil``, reloads) ever sees ours.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec

from otel_serverless._guard import report

Callback = Callable[[ModuleType], None]

_lock = threading.RLock()
_waiting: dict[str, list[Callback]] = {}
_finder: _Finder | None = None
_resolving = threading.local()


def when_imported(name: str, callback: Callback) -> None:
    """Call *callback(module)* once *name* is imported: now if it is already, else right after its import."""
    with _lock:
        module = sys.modules.get(name)
        if module is None:
            _waiting.setdefault(name, []).append(callback)
            _ensure_finder()
            return
    _run(name, module, [callback])


def waiting() -> frozenset[str]:
    """Module names with callbacks not yet run (tests and diagnostics)."""
    with _lock:
        return frozenset(_waiting)


def forget_all() -> None:
    """Drop every callback not yet run (tests only)."""
    with _lock:
        _waiting.clear()


def _ensure_finder() -> None:
    global _finder
    if _finder is None:
        _finder = _Finder()
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def _run(name: str, module: ModuleType, callbacks: list[Callback]) -> None:
    for callback in callbacks:
        try:
            callback(module)
        except Exception as error:  # telemetry never breaks the user's import
            report(f"post_import.{name}", error)


def _fire(name: str, module: ModuleType) -> None:
    with _lock:
        callbacks = _waiting.pop(name, [])
    _run(name, module, callbacks)


# Plain classes, not importlib.abc's: the import system only calls these methods, and
# importing importlib.abc (it pulls in importlib.resources) is cold-start time for nothing.
class _Finder:
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in _waiting or getattr(_resolving, "name", None) == fullname:
            return None
        _resolving.name = fullname  # the real finders answer for this one lookup, not us again
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            _resolving.name = None
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = cast("Loader", _Loader(spec.loader))  # duck-typed: see the class comment above
        return spec


class _Loader:
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        # Put the real loader back first: the module's own code may read its __spec__.loader.
        module.__loader__ = self.loader
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self.loader
        self.loader.exec_module(module)
        # sys.modules, not *module*: a module may replace itself there while it runs.
        _fire(module.__name__, sys.modules.get(module.__name__, module))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)
