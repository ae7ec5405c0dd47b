"""No secret leaves the process: a corpus of secret-bearing inputs through the real pipeline.

Every case of :mod:`tests.processors.secret_corpus` (each kind of secret through each
carrier: SQS bodies, SNS→SQS envelopes, Kinesis base64 data, EventBridge details, HTTP
requests, responses, log lines, exception messages, URLs) is one invocation of a traced
handler with payload capture on, its records processed with ``traced_records``, its log
lines on the span. The spans go out through the export pipeline ``configure()`` builds —
the scrubbing stage in front of our batch processor and OTLP exporter (the default), or
of the SDK's — to a real OTLP receiver on 127.0.0.1. Counted: cases whose secret appears
anywhere in the received bytes or in our own log lines (README, "Reliability and security").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from otel_serverless.aws_lambda import traced, traced_records
from otel_serverless.export import DeadlineBatchSpanProcessor
from otel_serverless.export._otlp_http import OTLPSpanExporter
from otel_serverless.logs import span_events
from otel_serverless.processors import ScrubbingProcessor, export_chain, install
from tests.aws_lambda.conftest import LambdaContext
from tests.otlp_receiver import Receiver, otlp_receiver
from tests.processors.secret_corpus import Case, corpus

CASES = corpus()


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Receiver]:
    monkeypatch.setenv("OTEL_SERVERLESS_CAPTURE_PAYLOAD_MAX_CHARS", "262144")
    monkeypatch.setenv("OTEL_SERVERLESS_STATE_DIR", str(tmp_path))
    span_events.reset_for_tests()
    span_events.install()
    with otlp_receiver() as found:
        yield found
    span_events.reset_for_tests()


def _provider(path: str, endpoint: str) -> TracerProvider:
    provider = TracerProvider()
    install(provider)
    if path == "ours":  # the default: our batch processor and exporter
        exporting: Any = DeadlineBatchSpanProcessor(OTLPSpanExporter(endpoint))
    else:  # the SDK's own batch processor and exporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as SdkExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        exporting = BatchSpanProcessor(SdkExporter(endpoint))
    chain = export_chain(exporting)
    assert isinstance(chain, ScrubbingProcessor) and chain.then is exporting
    provider.add_span_processor(chain)
    return provider


def _handler(case: Case, provider: TracerProvider) -> Any:
    def handler(event: Any, context: Any) -> Any:
        if case.records:
            for _ in traced_records(event, tracer_provider=provider):
                pass
        if case.log is not None:
            logging.getLogger("app").warning(case.log)
        if case.url is not None:
            with provider.get_tracer("app.http").start_as_current_span("GET", attributes={"url.full": case.url}):
                pass
        if case.raises is not None:
            raise ValueError(case.raises)
        return case.response

    return traced(handler, tracer_provider=provider)


def _run(case: Case, provider: TracerProvider) -> None:
    handler = _handler(case, provider)
    try:
        handler(case.event, LambdaContext(f"req-{case.marker}"))
    except ValueError:
        assert case.raises is not None


def _exported(receiver: Receiver) -> bytes:
    return b"".join(request.SerializeToString() for request in receiver.requests)


def _leaks(case: Case, exported: bytes, logged: str) -> list[str]:
    return [needle for needle in case.secret.needles if needle.encode() in exported or needle in logged]


@pytest.mark.parametrize(("path", "capture"), [("ours", True), ("sdk", True), ("ours", False)])
def test_no_secret_of_the_corpus_is_exported(
    path: str, capture: bool, receiver: Receiver, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_CAPTURE_PAYLOAD", str(capture).lower())
    # Capture off: only what reaches a span without it (log lines, exception messages, URLs).
    cases = CASES if capture else [case for case in CASES if case.event == {} and case.response is None]
    assert len(cases) >= (200 if capture else 70)
    provider = _provider(path, f"{receiver.endpoint}/v1/traces")
    leaked: dict[str, list[str]] = {}
    unseen: list[str] = []
    with caplog.at_level(logging.DEBUG, logger="otel_serverless"):
        for case in cases:
            receiver.requests.clear()
            _run(case, provider)
            assert provider.force_flush(10_000), case.name
            exported = _exported(receiver)
            ours = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("otel"))
            if found := _leaks(case, exported, ours):
                leaked[case.name] = found
            if case.marker.encode() not in exported or b"[REDACTED]" not in exported:
                unseen.append(case.name)  # the carrier did not reach the span, or nothing was masked
    provider.shutdown()
    assert not unseen, unseen
    assert leaked == {}, f"{len(leaked)} of {len(cases)} cases leaked: {leaked}"
    print(f"\nsecret corpus ({path}, capture {'on' if capture else 'off'}): {len(cases)} inputs, {len(leaked)} leaked")
