"""Load an upstream instrumentor at the library's first call, not at its import.

Importing any upstream OpenTelemetry instrumentor costs about 35 ms the first time
(wrapt, ``opentelemetry.instrumentation``'s dependency checks with ``packaging``,
the semantic-convention modules), and botocore imports urllib3 in every function
that uses boto3. Paid at import, that would triple what tracing adds to a cold
start (benchmark G1) for calls a handler may make late or never. So when a
library is imported we put a plain function (no wrapt) on the method every call
of that library goes through; its first call puts the original back, has the
upstream instrumentor wrap the library as usual, and passes the call on through
what is now the instrumented method. From then on the library runs exactly as
upstream instrumented it; nothing of ours stays in the path.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from otel_serverless._guard import report

_lock = threading.RLock()


def arm(owner: type, method: str, load: Callable[[], None]) -> None:
    """Put a one-shot trampoline on ``owner.method`` that calls *load* once, then forwards."""
    original = owner.__dict__.get(method)
    if original is None or getattr(original, "_otel_serverless_first_call", False):
        return
    state = {"armed": True, "restored": False}

    @functools.wraps(original)
    def trampoline(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            if state["armed"]:
                state["armed"] = False
                if owner.__dict__.get(method) is trampoline:
                    setattr(owner, method, original)
                    state["restored"] = True
                try:
                    load()
                except Exception as error:  # the call goes on uninstrumented
                    report(f"instrumentation.{owner.__module__}.{owner.__qualname__}.{method}", error)
        if state["restored"]:
            # We are off the class: pass the call on through whatever is there now (the
            # upstream wrapper around the original), so the first call is traced too.
            return getattr(owner, method)(self, *args, **kwargs)
        # Someone wrapped over us before the first call: we are inside their wrapper, and
        # going through the class again would loop. Just be the original.
        return original(self, *args, **kwargs)

    trampoline._otel_serverless_first_call = True  # type: ignore[attr-defined]
    setattr(owner, method, trampoline)


def disarm(owner: type, method: str) -> None:
    """Take an unfired trampoline off again (uninstrument, tests)."""
    with _lock:
        current = owner.__dict__.get(method)
        if current is not None and getattr(current, "_otel_serverless_first_call", False):
            setattr(owner, method, current.__wrapped__)
