"""A small traced sample that needs neither Docker nor Jaeger: the embedded default.

It configures otel-serverless exactly as a user would (standard OTEL_* variables;
spans also go to ``OTEL_EXPORTER_OTLP_ENDPOINT`` when that is set), emits a
small trace and prints it as a tree from an in-memory copy of what was exported.
"""

from __future__ import annotations

import os
import time

from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from otel_serverless import _treeview
from otel_serverless._configure import configure


def run() -> int:
    memory = InMemorySpanExporter()
    # With an endpoint set, the standard exporters too; without, only the tree below.
    exporters: list[SpanExporter] | None = None if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") else []
    telemetry = configure(
        service_name=os.environ.get("OTEL_SERVICE_NAME") or "otel-serverless-sample",
        exporters=exporters,
        span_processors=[SimpleSpanProcessor(memory)],
        instrument=False,
    )
    tracer = trace.get_tracer("otel_serverless.sample")
    with tracer.start_as_current_span("POST /posts", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.request.method", "POST")
        with tracer.start_as_current_span("validate post"):
            time.sleep(0.002)
        with tracer.start_as_current_span("posts-queue send", kind=SpanKind.PRODUCER) as send:
            send.set_attribute("messaging.system", "aws_sqs")
            send.set_attribute("messaging.destination.name", "posts-queue")
            time.sleep(0.003)
        root.set_attribute("http.response.status_code", 201)
    sent = telemetry.flush() if telemetry is not None else True
    print(_treeview.render(memory.get_finished_spans()))
    if exporters is None:
        print(f"\nexported to {os.environ['OTEL_EXPORTER_OTLP_ENDPOINT']}: {'ok' if sent else 'not confirmed'}")
    return 0
