"""Memory: the process's peak memory against the configured size, and a warning event.

Peak memory is the process's maximum resident set (``getrusage``), what Lambda's
own "Max Memory Used" reports for the runtime: it only grows during the life of
the environment, so an invocation shows the peak reached so far.
"""

from __future__ import annotations

import resource
import sys

from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.util.types import AttributeValue

from otel_serverless import _settings
from otel_serverless import attributes as attr
from otel_serverless import environment_variables as env
from otel_serverless.aws_lambda._invocation import Invocation
from otel_serverless.processors._stage import AddingProcessor


def peak_mb() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return usage / (1024 * 1024) if sys.platform == "darwin" else usage / 1024


def _warn_ratio() -> float:
    return _settings.per_process(
        env.OTEL_SERVERLESS_MEMORY_WARN_RATIO,
        lambda: _settings.read_float(env.OTEL_SERVERLESS_MEMORY_WARN_RATIO, 0.9, minimum=0, maximum=10),
    )


class MemoryProcessor(AddingProcessor):
    name = "memory"

    def __init__(self, then: SpanProcessor | None = None, *, warn_ratio: float | None = None) -> None:
        super().__init__(then)
        self.warn_ratio = warn_ratio

    def contribute(
        self, span: ReadableSpan, invocation: Invocation
    ) -> tuple[dict[str, AttributeValue], list[Event]] | None:
        peak = round(peak_mb(), 1)
        attributes: dict[str, AttributeValue] = {attr.MEMORY_PEAK_MB: peak}
        events: list[Event] = []
        limit = invocation.memory_mb
        if limit:
            ratio = round(peak / limit, 4)
            attributes[attr.MEMORY_LIMIT_MB] = limit
            attributes[attr.MEMORY_UTILIZATION] = ratio
            threshold = self.warn_ratio if self.warn_ratio is not None else _warn_ratio()
            if ratio >= threshold:
                events.append(
                    Event(
                        attr.MEMORY_NEAR_LIMIT_EVENT,
                        {attr.MEMORY_PEAK_MB: peak, attr.MEMORY_LIMIT_MB: limit, attr.MEMORY_UTILIZATION: ratio},
                        timestamp=span.end_time,
                    )
                )
        return attributes, events
