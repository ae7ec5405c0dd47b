"""Producer side: every boto3/botocore call that starts asynchronous work carries the trace context.

:func:`instrument` hooks botocore once per process (idempotent); from then on
each call in the registry (:data:`EXTENSIONS`: SQS, SNS, EventBridge, Kinesis,
Step Functions, Lambda, S3, DynamoDB) gets a producer span following the
messaging semantic conventions and carries that span's context in the one
channel its service offers, within the service's limits. The call itself
always proceeds: when the context cannot fit, the message goes unchanged and
the skip is counted on the span.

Coexistence with upstream opentelemetry-instrumentation-botocore is described
in :mod:`otel_serverless.botocore._upstream`: one span per call, one copy of the
context per message, whichever is instrumented first.
"""

from __future__ import annotations

import functools
import threading
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otel_serverless.botocore._base import Extension

__all__ = ["EXTENSIONS", "instrument", "is_instrumented", "uninstrument"]

_lock = threading.Lock()
# (module, class, method) → our hook, found by name in _hooks.
_TARGETS = (
    ("botocore.client", "BaseClient", "_make_api_call", "make_api_call"),
    ("botocore.client", "BaseClient", "_emit_api_params", "emit_api_params"),
)
_enabled = False
# The hooks and everything they need (registry, settings, propagators) load on the first
# AWS call, not on the cold start: instrumenting costs only the two wrappers.
_hook_module: Any = None


def instrument() -> None:
    """Install the hooks (idempotent; cheap after the first call)."""
    global _enabled
    import importlib

    with _lock:
        for module, cls, method, hook in _TARGETS:
            owner = getattr(importlib.import_module(module), cls)
            if not _ours_in_chain(getattr(owner, method), hook):
                setattr(owner, method, _wrap(owner.__dict__[method], hook))
        _enabled = True


def uninstrument() -> None:
    """Stop changing requests and opening spans (idempotent).

    Our wrapper is removed when it is the outermost one; when another
    instrumentation wrapped over it since, it stays in place as a pass-through
    (removing it would remove theirs too).
    """
    global _enabled
    import sys

    with _lock:
        _enabled = False
        for module, cls, method, hook in _TARGETS:
            owner = getattr(sys.modules.get(module), cls, None)
            current = None if owner is None else owner.__dict__.get(method)
            if current is not None and _hook_of(current) == hook:
                setattr(owner, method, current.__wrapped__)


def is_instrumented() -> bool:
    return _enabled


def _load_hooks() -> Any:
    global _hook_module
    import importlib

    _hook_module = importlib.import_module("otel_serverless.botocore._hooks")
    return _hook_module


# Our wrappers, each with the name of the hook it calls. A plain function, not wrapt:
# wrapt's import pulls asyncio into the cold start (12-20 ms). Upstream's wrapt proxies
# forward attribute reads to what they wrap, so ours are recognised by identity here.
_wrappers: dict[Callable[..., Any], str] = {}


def _wrap(original: Any, hook: str) -> Callable[..., Any]:
    """*original* (a plain function or another instrumentation's wrapper) behind *hook*.

    The hook has wrapt's signature ``(wrapped, instance, args, kwargs)``; *wrapped* is
    *original* bound to the client, as wrapt would pass it, so an upstream wrapt
    wrapper beneath ours still sees its instance.
    """

    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = original.__get__(self, type(self))
        if not _enabled:
            return bound(*args, **kwargs)
        return getattr(_hook_module or _load_hooks(), hook)(bound, self, args, kwargs)

    _wrappers[wrapper] = hook
    return wrapper


def _hook_of(function: Any) -> Any:
    # A wrapt proxy compares and hashes as what it wraps: look up ours by identity only.
    return _wrappers.get(function) if type(function) is types.FunctionType else None


def _ours_in_chain(function: Any, hook: str) -> bool:
    # Walk the wrapper chain: another instrumentor may have wrapped over ours.
    seen = 0
    while function is not None and seen < 32:
        if _hook_of(function) == hook:
            return True
        function = getattr(function, "__wrapped__", None)
        seen += 1
    return False


def __getattr__(name: str) -> dict[str, type[Extension]]:
    if name == "EXTENSIONS":
        from otel_serverless.botocore._registry import EXTENSIONS

        return EXTENSIONS
    raise AttributeError(f"module 'otel_serverless.botocore' has no attribute {name!r}")
