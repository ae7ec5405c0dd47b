"""Memory: the invocation's peak memory against the configured size, and a warning event.

The peak is the invocation's own high-water mark of the process's resident set
(``_memory``: reset as the invocation starts), not the process's peak over
its life that ``getrusage`` and Lambda's "Max Memory Used" report: a light invocation
after a heavy one shows its own peak, and the ``serverless.memory.near_limit`` event is
only on invocations that came near the limit themselves.
"""

from __future__ import annotations

from opentelemetry.sdk.trace import Span
from opentelemetry.trace import Span as ApiSpan
from opentelemetry.util.types import AttributeValue

from otel_serverless import _settings
from otel_serverless import attributes as attr
from otel_serverless import environment_variables as env
from otel_serverless._invocation import Invocation
from otel_serverless._memory import process_peak_mb
from otel_serverless.processors._stage import ServerlessProcessor


def peak_mb() -> float:
    """The process's peak over its life (see :func:`_memory.process_peak_mb`)."""
    return process_peak_mb()


def _warn_ratio() -> float:
    return _settings.per_process(
        env.OTEL_SERVERLESS_MEMORY_WARN_RATIO,
        lambda: _settings.read_float(env.OTEL_SERVERLESS_MEMORY_WARN_RATIO, 0.9, minimum=0, maximum=10),
    )


class MemoryProcessor(ServerlessProcessor):
    name = "memory"

    def __init__(self, *, warn_ratio: float | None = None) -> None:
        self.warn_ratio = warn_ratio

    def started(self, span: Span, invocation: Invocation) -> None:
        invocation.memory.start()  # the invocation's own high-water mark from here

    def ending(self, span: ApiSpan, invocation: Invocation, end_time: int) -> dict[str, AttributeValue]:
        found, reached = invocation.memory.peak_mb()
        peak = round(found, 1)
        attributes: dict[str, AttributeValue] = {attr.MEMORY_PEAK_MB: peak}
        limit = invocation.memory_mb
        if limit:
            ratio = round(peak / limit, 4)
            attributes[attr.MEMORY_LIMIT_MB] = limit
            attributes[attr.MEMORY_UTILIZATION] = ratio
            threshold = self.warn_ratio if self.warn_ratio is not None else _warn_ratio()
            if reached and ratio >= threshold:
                span.add_event(
                    attr.MEMORY_NEAR_LIMIT_EVENT,
                    {attr.MEMORY_PEAK_MB: peak, attr.MEMORY_LIMIT_MB: limit, attr.MEMORY_UTILIZATION: ratio},
                    timestamp=end_time,
                )
        return attributes
