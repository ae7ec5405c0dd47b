"""Every way the export path fails, with real sockets: the flush keeps its deadline, only retryable
answers are retried, and every lost span is counted, logged and reported with the next export (#23).

A switchable TCP proxy (:mod:`tests.fault_proxy`) sits between the exporter and a collector
stand-in: it is down, resets connections, swallows them, or drips an answer; the collector
answers 429 with ``Retry-After``, 503, 400, 500, or a partial success; TLS fails on a
certificate the exporter does not trust. Then the fault goes away, and the next invocation's
span arrives carrying the exact number of spans lost.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from otel_serverless import _guard
from otel_serverless.attributes import EXPORT_DROPPED
from otel_serverless.export._batch import DeadlineBatchSpanProcessor
from otel_serverless.export._otlp_http import OTLPSpanExporter
from tests.export.test_otlp_http import Collector, _certificate, collector
from tests.fault_proxy import FaultProxy, fault_proxy

DEADLINE_MS = 300
EXPORT_TIMEOUT_S = 1.0
# Scheduling slack on a loaded 2-core machine; far below an unbounded wait.
SLACK_S = 2.0
SPANS_PER_INVOCATION = 2


def _partial(rejected: int) -> bytes:
    return ExportTraceServiceResponse(
        partial_success=ExportTracePartialSuccess(rejected_spans=rejected, error_message="span name too long")
    ).SerializeToString()


@dataclass(frozen=True)
class Fault:
    proxy_mode: str | None  # None: the proxy forwards, the collector misbehaves
    script: tuple[tuple[int, dict[str, str], bytes], ...] = ()
    lost: int = SPANS_PER_INVOCATION
    retried: bool | None = None  # whether the collector saw more than one attempt (None: no answer to count)


FAULTS = {
    "down": Fault("down"),
    "refusing": Fault("refuse"),
    "black-holed": Fault("blackhole"),
    "slow": Fault("drip"),
    "429 with Retry-After": Fault(None, ((429, {"Retry-After": "0"}, b""),) * 200, retried=True),
    "503": Fault(None, ((503, {}, b""),) * 200, retried=True),
    "400": Fault(None, ((400, {}, b"bad request"),), retried=False),
    "500": Fault(None, ((500, {}, b"boom"),), retried=False),
    "partial success": Fault(None, ((200, {}, _partial(1)),), lost=1, retried=False),
}


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    _guard.reset_for_tests()


def _pipeline(endpoint: str, **exporter_options: str) -> tuple[DeadlineBatchSpanProcessor, TracerProvider]:
    exporter = OTLPSpanExporter(endpoint + "/v1/traces", timeout=EXPORT_TIMEOUT_S, **exporter_options)
    processor = DeadlineBatchSpanProcessor(exporter, flush_timeout_millis=DEADLINE_MS)
    provider = TracerProvider(resource=Resource({"service.name": "faults"}))
    provider.add_span_processor(processor)
    return processor, provider


def _invoke(provider: TracerProvider, name: str) -> None:
    tracer = provider.get_tracer("faults")
    with tracer.start_as_current_span(name), tracer.start_as_current_span(f"{name} call"):
        pass


def _timed_flush(processor: DeadlineBatchSpanProcessor) -> float:
    started = time.monotonic()
    processor.force_flush()
    return time.monotonic() - started


def _wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def _dropped_on(server: Collector, span_name: str) -> object:
    for received in server.received:
        for resource_spans in received.request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    if span.name == span_name:
                        found = {kv.key: kv.value.int_value for kv in span.attributes}
                        return found.get(EXPORT_DROPPED)
    raise AssertionError(f"{span_name} never arrived")


@pytest.fixture
def proxied() -> Iterator[tuple[FaultProxy, Collector]]:
    with collector() as server, fault_proxy() as proxy:
        proxy.set(("forward", server.port))
        yield proxy, server


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_fault_costs_the_flush_at_most_its_deadline_and_every_lost_span_is_reported(
    name: str, proxied: tuple[FaultProxy, Collector], caplog: pytest.LogCaptureFixture
) -> None:
    fault = FAULTS[name]
    proxy, server = proxied
    processor, provider = _pipeline(f"http://127.0.0.1:{proxy.port}")
    if fault.proxy_mode is not None:
        proxy.set(fault.proxy_mode)
    server.script = list(fault.script)

    _invoke(provider, "invocation-1")
    took = _timed_flush(processor)
    assert took < DEADLINE_MS / 1000 + SLACK_S, f"{name}: the flush took {took:.2f} s"
    # The export itself ends by its own timeout (or at once when not retryable).
    assert _wait_for(lambda: processor.failed >= fault.lost, EXPORT_TIMEOUT_S + SLACK_S + 1), processor.failed
    assert processor.failed == fault.lost
    assert processor.lost == fault.lost
    if fault.retried is not None:
        assert (server.attempts > 1) is fault.retried, server.attempts
    # The thread that ended the export logs the loss just after counting it.
    _wait_for(lambda: any("spans were lost" in r.getMessage() for r in caplog.records), SLACK_S)
    lines = [r.getMessage() for r in caplog.records if "spans were lost" in r.getMessage()]
    assert len(lines) == 1, lines
    assert f"{fault.lost} so far" in lines[0] and len(lines[0]) < 1024

    # The fault goes away: the next invocation's span carries the count, and nothing else is lost.
    proxy.set(("forward", server.port))
    server.script = []
    _invoke(provider, "invocation-2")
    assert _wait_for(processor.force_flush, 10)
    assert _dropped_on(server, "invocation-2") == fault.lost
    assert _dropped_on(server, "invocation-2 call") is None  # a child does not carry it
    _invoke(provider, "invocation-3")
    assert _wait_for(processor.force_flush, 10)
    assert _dropped_on(server, "invocation-3") is None  # reported once
    assert processor.lost == fault.lost
    provider.shutdown()


def _tls(cert: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert)
    return context


def test_a_tls_failure_costs_the_flush_at_most_its_deadline_and_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    trusted, untrusted = _certificate(tmp_path, "trusted"), _certificate(tmp_path, "untrusted")
    with (
        collector(_tls(trusted)) as good,
        collector(_tls(untrusted)) as impostor,
        fault_proxy() as proxy,
    ):
        proxy.set(("forward", impostor.port))
        processor, provider = _pipeline(f"https://127.0.0.1:{proxy.port}", certificate_file=str(trusted[0]))
        _invoke(provider, "invocation-1")
        assert _timed_flush(processor) < DEADLINE_MS / 1000 + SLACK_S
        assert _wait_for(lambda: processor.failed >= SPANS_PER_INVOCATION, EXPORT_TIMEOUT_S + SLACK_S)
        assert impostor.received == []
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert any("CERTIFICATE_VERIFY_FAILED" in w for w in warnings), warnings

        proxy.set(("forward", good.port))
        _invoke(provider, "invocation-2")
        assert _wait_for(processor.force_flush, 10)
        assert _dropped_on(good, "invocation-2") == SPANS_PER_INVOCATION
        provider.shutdown()


def test_a_full_queue_is_counted_exactly_and_reported_with_the_next_export(
    proxied: tuple[FaultProxy, Collector],
) -> None:
    proxy, server = proxied
    exporter = OTLPSpanExporter(f"http://127.0.0.1:{proxy.port}/v1/traces", timeout=EXPORT_TIMEOUT_S)
    processor = DeadlineBatchSpanProcessor(exporter, max_queue_size=100, schedule_delay_millis=60_000)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("overload")
    proxy.set("blackhole")  # nothing leaves: the queue fills
    with tracer.start_as_current_span("big-invocation"):
        for i in range(2_500):
            with tracer.start_as_current_span(f"step {i}"):
                pass
    # 2,501 spans ended: one batch of 100 went out (into the black hole), 100 wait, the rest is dropped.
    proxy.set(("forward", server.port))
    assert _wait_for(lambda: processor.failed >= 100, EXPORT_TIMEOUT_S + SLACK_S)
    assert _wait_for(processor.force_flush, EXPORT_TIMEOUT_S + 10)
    with tracer.start_as_current_span("next-invocation"):
        pass
    assert _wait_for(processor.force_flush, 10)
    delivered = sum(
        len(scope.spans) for item in server.received for rs in item.request.resource_spans for scope in rs.scope_spans
    )
    assert delivered + processor.lost == 2_502  # every span either arrived or is counted
    assert processor.failed == 100
    assert processor.dropped >= 2_000
    assert _dropped_on(server, "next-invocation") == processor.lost
    provider.shutdown()
