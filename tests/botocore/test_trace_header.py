"""Lambda Invoke carries the invoke span in X-Amzn-Trace-Id too: what an async invoke hands the function."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from opentelemetry import propagate
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace import Span

from otel_serverless.botocore._trace_header import merged
from tests.botocore.conftest import producer_spans
from tests.botocore.lambda_endpoint import LambdaEndpoint, lambda_endpoint

PLATFORM = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:1"


@pytest.fixture
def endpoint(instrumented: None) -> Iterator[LambdaEndpoint]:
    with lambda_endpoint() as running:
        yield running


def xray_of(span: object) -> str:
    context = span.context  # type: ignore[attr-defined]
    trace_id = format(context.trace_id, "032x")
    sampled = int(context.trace_flags.sampled)
    return f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={format(context.span_id, '016x')};Sampled={sampled}"


@pytest.mark.parametrize("invocation_type", ["Event", "RequestResponse"])
def test_invoke_span_in_the_trace_header(
    endpoint: LambdaEndpoint, spans: object, parent: Span, invocation_type: str
) -> None:
    boto3.client("lambda", endpoint_url=endpoint.url).invoke(
        FunctionName="worker", InvocationType=invocation_type, Payload=b"{}"
    )
    (producer,) = producer_spans(spans, "invoke worker")
    (request,) = endpoint.received
    assert request.headers["X-Amzn-Trace-Id"] == xray_of(producer)


def test_inside_lambda_the_platform_fields_are_kept(
    endpoint: LambdaEndpoint, spans: object, parent: Span, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In a function, botocore forwards the platform's header (recursive loop detection reads its Lineage).
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "caller")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", PLATFORM)
    boto3.client("lambda", endpoint_url=endpoint.url).invoke(FunctionName="worker", InvocationType="Event")
    (producer,) = producer_spans(spans)
    (request,) = endpoint.received
    assert request.headers["X-Amzn-Trace-Id"] == xray_of(producer) + ";Lineage=a87bd80c:1"


def test_nothing_when_propagation_carries_nothing(
    endpoint: LambdaEndpoint, spans: object, parent: Span, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "caller")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", PLATFORM)
    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(CompositePropagator([]))  # what OTEL_PROPAGATORS=none builds
    try:
        boto3.client("lambda", endpoint_url=endpoint.url).invoke(FunctionName="worker", InvocationType="Event")
    finally:
        propagate.set_global_textmap(previous)
    (request,) = endpoint.received
    assert request.headers["X-Amzn-Trace-Id"] == PLATFORM, "botocore's own header, untouched"


def test_nothing_when_lambda_is_excluded(
    endpoint: LambdaEndpoint, spans: object, parent: Span, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_PROPAGATION_EXCLUDE", "lambda")
    boto3.client("lambda", endpoint_url=endpoint.url).invoke(FunctionName="worker", InvocationType="Event")
    (request,) = endpoint.received
    assert "X-Amzn-Trace-Id" not in request.headers


def test_merged_keeps_other_fields_only() -> None:
    ours = "Root=1-00000000-000000000000000000000001;Parent=0000000000000002;Sampled=1"
    assert merged(ours, None) == ours
    assert merged(ours, "") == ours
    assert merged(ours, b"Root=1-a-b;Lineage=x:2") == ours + ";Lineage=x:2"
    assert merged(ours, "root=1-a-b; parent=c ;SAMPLED=?;Self=1-x;junk") == ours + ";Self=1-x"
