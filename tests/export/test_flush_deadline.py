"""force_flush has a hard deadline, whatever the collector does (real sockets on 127.0.0.1)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_serverless.export._batch import DeadlineBatchSpanProcessor
from otel_serverless.export._exporters import otlp_exporter
from otel_serverless.export._otlp_http import Export, OTLPSpanExporter
from tests.otlp_receiver import Receiver, closed_port, otlp_receiver, silent_listener, slamming_listener

# The exporter's own timeout is far longer than the flush deadline: the deadline must win.
EXPORTER_TIMEOUT_S = "10"
DEADLINE_MS = 300
# Scheduling slack on a loaded 2-core machine; still far below the exporter's 10 s.
SLACK_S = 2.5


@contextmanager
def _down() -> Iterator[int]:
    yield closed_port()


@contextmanager
def _http_503() -> Iterator[int]:
    with otlp_receiver() as receiver:
        receiver.status = 503  # retryable: the exporter would back off and retry
        yield receiver.port


FAILURES: dict[str, Callable[[], AbstractContextManager[int]]] = {
    "down": _down,
    "refuses": slamming_listener,
    "hangs": silent_listener,
}


def _flush_once(protocol: str, port: int, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, float]:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", EXPORTER_TIMEOUT_S)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
    processor = DeadlineBatchSpanProcessor(otlp_exporter(protocol), flush_timeout_millis=DEADLINE_MS)
    provider = TracerProvider(resource=Resource({"service.name": "deadline"}))
    provider.add_span_processor(processor)
    with provider.get_tracer("t").start_as_current_span("work"):
        pass
    started = time.monotonic()
    sent = processor.force_flush()
    return sent, time.monotonic() - started


def _pipeline_to(
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    flush_timeout_millis: int,
    exporter: Callable[[], SpanExporter] = lambda: otlp_exporter("http/protobuf"),
) -> tuple[DeadlineBatchSpanProcessor, TracerProvider]:
    """A provider exporting to *receiver* through our processor (the exporter made once the endpoint is set)."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    processor = DeadlineBatchSpanProcessor(exporter(), flush_timeout_millis=flush_timeout_millis)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    return processor, provider


def _flush_until_sent(processor: DeadlineBatchSpanProcessor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not processor.force_flush():
        pass


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_flush_returns_by_the_deadline_when_the_collector_fails(
    protocol: str, failure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FAILURES[failure]() as port:
        sent, elapsed = _flush_once(protocol, port, monkeypatch)
    assert sent is False
    assert elapsed < DEADLINE_MS / 1000 + SLACK_S


def test_flush_returns_by_the_deadline_on_retryable_http_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with _http_503() as port:
        sent, elapsed = _flush_once("http/protobuf", port, monkeypatch)
    assert sent is False
    assert elapsed < DEADLINE_MS / 1000 + SLACK_S


def test_flush_delivers_and_reports_success_when_the_collector_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    with otlp_receiver() as receiver:
        sent, _ = _flush_once("http/protobuf", receiver.port, monkeypatch)
        assert sent is True
        names = [span.name for _, span in receiver.spans()]
    assert names == ["work"]


def test_spans_left_by_a_missed_deadline_go_out_with_a_later_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    with otlp_receiver() as receiver:
        receiver.delay = 1.0  # a slow collector: answers, but after the deadline
        processor, provider = _pipeline_to(receiver, monkeypatch, 200)
        with provider.get_tracer("t").start_as_current_span("first"):
            pass
        assert processor.force_flush() is False
        receiver.delay = 0.0
        with provider.get_tracer("t").start_as_current_span("second"):
            pass
        _flush_until_sent(processor, 15)
        names = sorted(span.name for _, span in receiver.spans())
    assert names == ["first", "second"]


class _ThreadNoting(OTLPSpanExporter):
    """Our exporter, noting which thread sends each batch."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[threading.Thread] = []

    def begin(self, spans: Sequence[ReadableSpan]) -> Export | None:
        self.threads.append(threading.current_thread())
        return super().begin(spans)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.threads.append(threading.current_thread())
        return super().export(spans)


def test_a_small_flush_is_sent_on_the_callers_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    with otlp_receiver() as receiver:
        processor, provider = _pipeline_to(receiver, monkeypatch, 5000, _ThreadNoting)
        exporter = processor.exporter
        assert isinstance(exporter, _ThreadNoting)
        for name in ("a", "b"):
            with provider.get_tracer("t").start_as_current_span(name):
                pass
            assert processor.force_flush() is True
        assert sorted(span.name for _, span in receiver.spans()) == ["a", "b"]
    assert exporter.threads == [threading.current_thread()] * 2


def test_a_request_half_sent_at_the_deadline_is_finished_by_the_worker_exactly_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with otlp_receiver() as receiver:
        # Far more than the socket buffers hold, to a collector slow to read: the deadline
        # comes in the middle of sending; the worker must send the rest, not start again.
        receiver.read_delay = 1.0
        processor, provider = _pipeline_to(receiver, monkeypatch, 200)
        tracer = provider.get_tracer("t")
        for index in range(40):
            with tracer.start_as_current_span(f"big-{index}") as span:
                span.set_attribute("payload", "x" * 500_000)
        started = time.monotonic()
        assert processor.force_flush() is False
        assert time.monotonic() - started < 0.2 + SLACK_S
        receiver.read_delay = 0.0
        _flush_until_sent(processor, 30)
        names = sorted(span.name for _, span in receiver.spans())
        provider.shutdown()
    assert names == sorted(f"big-{index}" for index in range(40))
    assert len(receiver.requests) == 1


def test_a_failed_export_makes_the_flush_unconfirmed(monkeypatch: pytest.MonkeyPatch) -> None:
    with otlp_receiver() as receiver:
        receiver.status = 400  # not retryable: the exporter gives up at once
        processor, provider = _pipeline_to(receiver, monkeypatch, 5000)
        with provider.get_tracer("t").start_as_current_span("rejected"):
            pass
        assert processor.force_flush() is False


def test_flush_with_nothing_pending_returns_at_once_without_a_worker() -> None:
    processor = DeadlineBatchSpanProcessor(otlp_exporter("http/protobuf"), flush_timeout_millis=DEADLINE_MS)
    assert processor.force_flush() is True
    assert processor._worker is None  # nothing was started on the cold path


class _BlockingExporter(SpanExporter):
    """Holds the worker inside its first export until released: the queue state is then exact."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.exported: list[str] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.entered.set()
        self.release.wait(30)
        self.exported.extend(span.name for span in spans)
        return SpanExportResult.SUCCESS


def test_queue_overflow_drops_and_counts_without_raising() -> None:
    exporter = _BlockingExporter()
    # The batch size is clamped to the queue size (2): a full queue wakes the worker.
    processor = DeadlineBatchSpanProcessor(
        exporter, max_queue_size=2, max_export_batch_size=512, schedule_delay_millis=60000
    )
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    for name in ("a", "b"):
        with tracer.start_as_current_span(name):
            pass
    assert exporter.entered.wait(10), "the worker took the first batch"
    # The worker is held in that export: the queue fills to 2 and the rest is dropped.
    for name in ("c", "d", "e", "f", "g"):
        with tracer.start_as_current_span(name):
            pass
    assert processor.dropped == 3
    exporter.release.set()
    assert processor.force_flush(10_000)
    assert exporter.exported == ["a", "b", "c", "d"]
    provider.shutdown()
