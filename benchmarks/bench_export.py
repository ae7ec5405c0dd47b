"""G6 and G7: flush time seen by the handler, and exporter throughput.

G6: an invocation's worth of spans (a server span, two client spans) is ended,
then the pipeline is flushed, as a handler does before the Lambda freeze; the
figure is the p99 of the flush time. Ours: ``DeadlineBatchSpanProcessor`` with
our OTLP/HTTP exporter; the peer: the SDK's ``BatchSpanProcessor.force_flush``
with the SDK's OTLP/HTTP exporter. Both send to the same loopback receiver.

G7: spans exported per CPU-second of the exporting process (encode and send
OTLP/HTTP to a loopback receiver in another process, so the receiver's work is
not counted), ours against the SDK's ``OTLPSpanExporter``. Two informational
rows split it: the encoders alone (G7-encode: ours against the SDK's
``encode_spans(...).SerializeToString()``, the measurement that decided to keep
our encoder) and the SDK encoder behind our sender (G7-sender).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from benchmarks._loopback import otlp_receiver
from benchmarks._report import Result, median, percentile, result

RESOURCE = Resource(
    {
        "service.name": "orders",
        "cloud.provider": "aws",
        "cloud.platform": "aws_lambda",
        "cloud.region": "us-east-1",
        "faas.name": "orders",
        "faas.version": "$LATEST",
        "faas.max_memory": 134217728,
    }
)


def invocation_spans(provider: TracerProvider) -> None:
    """What one invocation of an HTTP handler that calls SQS and DynamoDB makes."""
    tracer = provider.get_tracer("otel_serverless.aws_lambda", "0.1.0")
    with tracer.start_as_current_span(
        "POST /orders",
        kind=SpanKind.SERVER,
        attributes={
            "faas.trigger": "http",
            "faas.coldstart": False,
            "faas.invocation_id": "9f4c1e52-2c1e-4bd5-8f43-0e2cbe0f8c11",
            "http.request.method": "POST",
            "url.path": "/orders",
            "http.response.status_code": 200,
            "serverless.cost.usd": 2.1e-7,
        },
    ) as server:
        for operation, service in (("SendMessage", "SQS"), ("PutItem", "DynamoDB")):
            with tracer.start_as_current_span(
                f"{service}.{operation}",
                kind=SpanKind.PRODUCER if service == "SQS" else SpanKind.CLIENT,
                attributes={"rpc.system": "aws-api", "rpc.service": service, "rpc.method": operation},
            ):
                pass
        server.add_event("order.accepted", {"order.id": 42})


def span_batch(count: int) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("bench")
    while len(memory.get_finished_spans()) < count:
        invocation_spans(provider)
        with tracer.start_as_current_span(
            "failed", links=[Link(provider.get_tracer("x").start_span("l").get_span_context())]
        ) as span:
            span.set_status(Status(StatusCode.ERROR, "Timeout"))
    return list(memory.get_finished_spans())[:count]


def _flush_times(make: Callable[[], BatchSpanProcessor], count: int) -> Callable[[], float]:
    processor = make()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(processor)

    def one() -> float:
        invocation_spans(provider)
        started = time.perf_counter()
        if not processor.force_flush(5000):
            raise RuntimeError("flush did not complete")
        return time.perf_counter() - started

    return one


def g6(endpoint: str, smoke: bool) -> Result:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as SdkExporter

    from otel_serverless.export._batch import DeadlineBatchSpanProcessor
    from otel_serverless.export._otlp_http import OTLPSpanExporter

    url = endpoint + "/v1/traces"
    flushes = 10 if smoke else 400
    ours = _flush_times(lambda: DeadlineBatchSpanProcessor(OTLPSpanExporter(url), flush_timeout_millis=5000), flushes)  # type: ignore[arg-type, return-value]
    peer = _flush_times(lambda: BatchSpanProcessor(SdkExporter(url)), flushes)
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    ours(), peer()  # connections opened, first-use imports done
    for _ in range(flushes):
        times["ours"].append(ours())
        times["peer"].append(peer())
    return result(
        "flush time seen by the handler, p99",
        percentile(times["ours"], 0.99) * 1000,
        percentile(times["peer"], 0.99) * 1000,
        "ms",
        "<= 0.5",
        note=f"{flushes} alternating flushes; medians {median(times['ours']) * 1000:.2f} / "
        f"{median(times['peer']) * 1000:.2f} ms",
    )


def _throughput(call: Callable[[], object], spans: int, cpu_seconds: float) -> float:
    """Spans per CPU-second of this process, over at least *cpu_seconds* of CPU."""
    calls = 0
    started = time.process_time()
    while True:
        call()
        calls += 1
        used = time.process_time() - started
        if used >= cpu_seconds:
            return calls * spans / used


def _alternate(
    ours: Callable[[], object], peer: Callable[[], object], spans: int, rounds: int, cpu: float
) -> tuple[float, float]:
    found: dict[str, list[float]] = {"ours": [], "peer": []}
    for _ in range(rounds):
        found["ours"].append(_throughput(ours, spans, cpu))
        found["peer"].append(_throughput(peer, spans, cpu))
    return median(found["ours"]), median(found["peer"])


def _checked(
    export: Callable[[Sequence[ReadableSpan]], SpanExportResult], batch: list[ReadableSpan]
) -> Callable[[], object]:
    def call() -> None:
        if export(batch) is not SpanExportResult.SUCCESS:
            raise RuntimeError("export failed")

    return call


def g7(endpoint: str, smoke: bool) -> dict[str, Result]:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as SdkExporter

    from otel_serverless.export._encode import encode_spans
    from otel_serverless.export._otlp_http import OTLPSpanExporter

    size = 64 if smoke else 512
    rounds, cpu = (1, 0.02) if smoke else (5, 1.0)
    batch = span_batch(size)
    url = endpoint + "/v1/traces"
    ours_exporter, peer_exporter = OTLPSpanExporter(url), SdkExporter(url)
    note = f"batches of {size} spans, median of {rounds} alternating rounds of ≥ {cpu:g} CPU-s"
    ours, peer = _alternate(
        _checked(ours_exporter.export, batch), _checked(peer_exporter.export, batch), size, rounds, cpu
    )
    encode_ours, encode_peer = _alternate(
        lambda: encode_spans(batch), lambda: sdk_encode(batch).SerializeToString(), size, rounds, cpu
    )
    # Our sender with the SDK's encoder: what the sender alone is worth.
    sender_exporter = OTLPSpanExporter(url)
    sender_exporter.encode = lambda spans: sdk_encode(spans).SerializeToString()
    sender_ours, sender_peer = _alternate(
        _checked(sender_exporter.export, batch), _checked(peer_exporter.export, batch), size, rounds, cpu
    )
    sender_exporter.shutdown()
    ours_exporter.shutdown()
    peer_exporter.shutdown()  # type: ignore[no-untyped-call]
    unit = "spans/CPU-s"
    # Informational since #18 (no target): throughput users do not feel; G6 gates the flush.
    return {
        "G7": result("exporter throughput (encode + send OTLP/HTTP)", ours, peer, unit, None, note=note),
        "G7-encode": result("  of which: encoder alone", encode_ours, encode_peer, unit, None, note=note),
        "G7-sender": result(
            "  of which: our sender with the SDK encoder", sender_ours, sender_peer, unit, None, note=note
        ),
    }


def run(smoke: bool = False) -> dict[str, Result]:
    # Both exporters log failed exports; a benchmark run must not drown its table.
    logging.getLogger("opentelemetry").setLevel(logging.ERROR)
    with otlp_receiver() as endpoint:
        return {"G6": g6(endpoint, smoke), **g7(endpoint, smoke)}
