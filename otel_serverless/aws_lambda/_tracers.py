"""Our tracer on a provider, and the serverless processors installed on it, once per provider.

Shared by the invocation wrapper and :func:`traced_records` (which may run with a provider
of its own), so that neither imports the other for it.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from opentelemetry import trace
from opentelemetry.trace import Tracer

from otel_serverless import __version__, _invocation

SCOPE: Final = "otel_serverless.aws_lambda"

#: Per provider: the provider and our tracer on it.
_tracers: dict[int, tuple[object, Tracer]] = {}
_tracers_lock = threading.Lock()


def tracer_for(provider: Any) -> Tracer:
    """Our tracer on *provider* (None: the global one); installs our processors on an SDK provider."""
    target = provider if provider is not None else trace.get_tracer_provider()
    key = id(target)
    cached = _tracers.get(key)
    if cached is None or cached[0] is not target:
        with _tracers_lock:
            _install(target)
            cached = _tracers[key] = (target, trace.get_tracer(SCOPE, __version__, tracer_provider=target))
    return cached[1]


def _install(provider: Any) -> None:
    """Our processors on an SDK *provider*: the serverless ones, and the open spans' keeper."""
    from opentelemetry.sdk.trace import TracerProvider

    if not isinstance(provider, TracerProvider):
        return
    from otel_serverless import processors
    from otel_serverless.aws_lambda import _snapstart

    _snapstart.providers.add(provider)  # its resource is renewed after a SnapStart restore
    processors.install(provider)
    # Once per provider: tracer_for keeps each provider it has seen, and comes here only for a new one.
    provider.add_span_processor(_invocation.OpenSpans())
