"""Lambda Invoke: context in ClientContext.custom, merged with the user's; the Payload is never touched."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import boto3
import pytest
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind

from otel_serverless import attributes as attr
from otel_serverless.propagation import lambda_invoke
from tests.botocore.conftest import producer_spans
from tests.botocore.lambda_endpoint import LambdaEndpoint, lambda_endpoint


@pytest.fixture
def endpoint(instrumented: None) -> Iterator[LambdaEndpoint]:
    with lambda_endpoint() as running:
        yield running


def span_id(ctx: object) -> int:
    span_context = trace.get_current_span(ctx).get_span_context()  # type: ignore[arg-type]
    assert span_context.is_valid and span_context.is_remote
    return span_context.span_id


PAYLOAD = b'{"order": 1,  "headers": {"x": "y"}}'


@pytest.mark.parametrize("invocation_type", ["RequestResponse", "Event"])
def test_invoke_carries_context_in_client_context(
    endpoint: LambdaEndpoint, spans: object, parent: Span, invocation_type: str
) -> None:
    client = boto3.client("lambda", endpoint_url=endpoint.url)
    response = client.invoke(FunctionName="checkout", Payload=PAYLOAD, InvocationType=invocation_type)
    assert response["StatusCode"] in (200, 202)
    (producer,) = producer_spans(spans, "invoke checkout")
    assert producer.kind is (SpanKind.PRODUCER if invocation_type == "Event" else SpanKind.CLIENT)
    assert producer.attributes[attr.FAAS_INVOKED_NAME] == "checkout"
    (request,) = endpoint.received
    assert request.body == PAYLOAD, "the payload is the user's, byte for byte"
    assert span_id(lambda_invoke.extract_client_context(endpoint.client_context())) == producer.context.span_id


def test_user_client_context_is_merged(endpoint: LambdaEndpoint, spans: object, parent: Span) -> None:
    mine = {"custom": {"tenant": "acme"}, "client": {"app_title": "shop"}, "env": {"locale": "fr"}}
    encoded = base64.b64encode(json.dumps(mine).encode()).decode()
    boto3.client("lambda", endpoint_url=endpoint.url).invoke(
        FunctionName="arn:aws:lambda:us-east-1:123456789012:function:checkout:live", ClientContext=encoded
    )
    context = endpoint.client_context()
    assert context.custom["tenant"] == "acme"
    assert context.client == mine["client"] and context.env == mine["env"]
    (producer,) = producer_spans(spans)
    assert producer.attributes[attr.FAAS_INVOKED_NAME] == "checkout"
    assert span_id(lambda_invoke.extract_client_context(context)) == producer.context.span_id


def test_client_context_limit_and_foreign_value(endpoint: LambdaEndpoint, spans: object, parent: Span) -> None:
    client = boto3.client("lambda", endpoint_url=endpoint.url)
    nearly_full = base64.b64encode(json.dumps({"custom": {"pad": "p" * 2600}}).encode()).decode()
    assert len(nearly_full) <= 3583
    client.invoke(FunctionName="f", ClientContext=nearly_full)
    not_json = base64.b64encode(b"opaque").decode()
    client.invoke(FunctionName="f", ClientContext=not_json)
    first, second = endpoint.received
    assert first.headers["X-Amz-Client-Context"] == nearly_full
    assert second.headers["X-Amz-Client-Context"] == not_json
    reasons = [s.attributes[attr.PROPAGATION_SKIP_REASONS] for s in producer_spans(spans)]
    assert reasons == [("size_limit",), ("not_applicable",)]
    merged, outcome = lambda_invoke.inject_client_context(None, {"traceparent": "t" * 55})
    assert outcome.injected and merged is not None and len(merged) <= lambda_invoke.MAX_CLIENT_CONTEXT_BYTES
