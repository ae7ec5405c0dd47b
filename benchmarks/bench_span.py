"""G3: the cost of one span with all our processors on, against a bare SDK span.

Ours: the provider ``otel_serverless.configure()`` builds (every serverless
processor ``OTEL_SERVERLESS_PROCESSORS`` enables by default, then our deadline
batch processor). The peer: an SDK ``TracerProvider`` with a
``BatchSpanProcessor``, the least a pipeline that exports has. Both export to an
exporter that drops everything, so only the span's own path is measured: start,
three attributes, end, processors. Rounds alternate; the figure is the median
round's time per span.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Tracer

from benchmarks._lambda_env import environment, handler_dir
from benchmarks._report import Result, median, result


class DropExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _round(tracer: Tracer, count: int) -> float:
    attributes: dict[str, str | int] = {
        "http.request.method": "GET",
        "url.path": "/orders",
        "http.response.status_code": 200,
    }
    started = time.perf_counter()
    for _ in range(count):
        with tracer.start_as_current_span("GET /orders", kind=SpanKind.SERVER, attributes=attributes):
            pass
    return (time.perf_counter() - started) / count


def run(smoke: bool = False) -> dict[str, Result]:
    # The processors read the Lambda environment; give them the one a function has.
    os.environ.update(environment(handler_dir(), "http://127.0.0.1:9"))
    import otel_serverless

    telemetry = otel_serverless.configure(exporters=[DropExporter()], set_global=False, instrument=False)
    assert telemetry is not None
    ours = telemetry.provider.get_tracer("bench")
    peer_provider = TracerProvider()
    peer_provider.add_span_processor(BatchSpanProcessor(DropExporter()))
    peer = peer_provider.get_tracer("bench")

    spans, rounds = (50, 3) if smoke else (2000, 31)
    _round(ours, spans)  # warm both: first-use imports and caches are not per-span costs
    _round(peer, spans)
    timings: dict[str, list[float]] = {"ours": [], "peer": []}
    for _ in range(rounds):
        timings["ours"].append(_round(ours, spans))
        timings["peer"].append(_round(peer, spans))
    telemetry.shutdown()
    peer_provider.shutdown()
    return {
        "G3": result(
            "cost of one span with all our processors on",
            median(timings["ours"]) * 1e6,
            median(timings["peer"]) * 1e6,
            "µs/span",
            None,  # informational since #18 (was <= 1.15): a few µs per span nobody feels
            note=f"median of {rounds} alternating rounds of {spans} spans",
        )
    }
