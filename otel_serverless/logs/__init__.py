"""Log records on the trace.

:mod:`.span_events` adds every log record written while a span is active (stdlib
``logging``, and so Powertools' logger and any library's) to that span as an event,
so a Jaeger user reads a request's log lines on its timeline.

:mod:`.otlp` exports them over OTLP when ``OTEL_LOGS_EXPORTER`` names ``otlp``; it is
imported only then (:func:`otlp_wanted`), so a function without it does not load it.
"""

from __future__ import annotations

from otel_serverless import _settings


def otlp_wanted() -> bool:
    """True when ``OTEL_LOGS_EXPORTER`` names ``otlp``."""
    return "otlp" in (name.lower() for name in _settings.read_list("OTEL_LOGS_EXPORTER", ("none",)))
