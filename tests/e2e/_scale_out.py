"""Serverless-shaped traces over OTLP/HTTP, and Prometheus' query API, for the scale-out tests.

A *dataflow* is one trace across two functions: the producer's invocation (an HTTP request
that sends an SQS message) goes through one agent, the consumer's invocation (the message,
then a DynamoDB write) through another, as two Lambda sandboxes on two hosts would send them.
The attributes are the ones otel-serverless writes (otel_serverless/attributes.py), so the
gateways' span metrics and sampling policies see what they would see in production.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

from otel_serverless import attributes as attr

PRODUCER_FUNCTION = "upload-post"
CONSUMER_FUNCTION = "process-post"
MEMORY_MB = {PRODUCER_FUNCTION: 512, CONSUMER_FUNCTION: 1024}
TIMEOUT_MS = {PRODUCER_FUNCTION: 10_000, CONSUMER_FUNCTION: 30_000}
SPANS_PER_FLOW = 4  # producer invocation + its SQS send, consumer invocation + its DynamoDB call

#: The traits of a dataflow that a sampling policy keys on; "ordinary" has none of them.
KINDS = ("ordinary", "error", "timeout", "cold_start", "retry", "slow")


@dataclass(frozen=True)
class Flow:
    trace_id: str  # 32 hex digits
    kind: str
    start_ns: int

    @property
    def producer_error(self) -> bool:
        return False

    @property
    def consumer_error(self) -> bool:
        return self.kind in ("error", "timeout")


def new_flows(kinds: Iterable[str], start_ns: int | None = None) -> list[Flow]:
    start = start_ns if start_ns is not None else time.time_ns()
    # Spread over the last seconds so that the spans look like a real burst, not one instant.
    return [Flow(secrets.token_hex(16), kind, start + i * 1_000_000) for i, kind in enumerate(kinds)]


def _value(value: object) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    return AnyValue(string_value=str(value))


def _attributes(values: dict[str, object]) -> list[KeyValue]:
    return [KeyValue(key=key, value=_value(value)) for key, value in values.items()]


def _resource(function: str) -> dict[str, object]:
    return {
        attr.SERVICE_NAME: function,
        attr.CLOUD_PROVIDER: "aws",
        attr.CLOUD_PLATFORM: "aws_lambda",
        attr.CLOUD_REGION: "eu-west-1",
        attr.FAAS_NAME: function,
        attr.FAAS_MAX_MEMORY: MEMORY_MB[function] * 1024 * 1024,
        # Per sandbox: must not become a metric dimension.
        attr.FAAS_INSTANCE: f"2026/12/07/[$LATEST]{secrets.token_hex(16)}",
    }


def _span(  # noqa: PLR0917 - a span is these nine facts
    trace_id: str,
    span_id: str,
    parent_id: str,
    name: str,
    kind: int,
    start_ns: int,
    duration_ms: float,
    attributes: dict[str, object],
    error: bool = False,
) -> Span:
    span = Span(
        trace_id=bytes.fromhex(trace_id),
        span_id=bytes.fromhex(span_id),
        parent_span_id=bytes.fromhex(parent_id) if parent_id else b"",
        name=name,
        kind=kind,  # type: ignore[arg-type]
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + int(duration_ms * 1_000_000),
        attributes=_attributes(attributes),
    )
    if error:
        span.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message="boom"))
    return span


def producer_spans(flow: Flow) -> tuple[list[Span], str]:
    """The producer function's two spans, and the span id of its SQS send (the consumer's parent)."""
    invocation, send = secrets.token_hex(8), secrets.token_hex(8)
    cold = flow.kind == "cold_start"
    spans = [
        _span(
            flow.trace_id,
            invocation,
            "",
            "POST /posts",
            Span.SPAN_KIND_SERVER,
            flow.start_ns,
            40.0,
            {
                attr.FAAS_TRIGGER: "http",
                attr.FAAS_INVOCATION_ID: secrets.token_hex(16),
                attr.FAAS_COLDSTART: cold,
                attr.HTTP_REQUEST_METHOD: "POST",
                attr.HTTP_ROUTE: "/posts",
                attr.MEMORY_LIMIT_MB: MEMORY_MB[PRODUCER_FUNCTION],
                attr.TIMEOUT_CONFIGURED_MS: TIMEOUT_MS[PRODUCER_FUNCTION],
            },
        ),
        _span(
            flow.trace_id,
            send,
            invocation,
            "post-uploaded send",
            Span.SPAN_KIND_PRODUCER,
            flow.start_ns + 10_000_000,
            8.0,
            {attr.MESSAGING_SYSTEM: "aws_sqs", attr.MESSAGING_DESTINATION_NAME: "post-uploaded"},
        ),
    ]
    return spans, send


def consumer_spans(flow: Flow, parent_id: str) -> list[Span]:
    invocation, put = secrets.token_hex(8), secrets.token_hex(8)
    start = flow.start_ns + 60_000_000
    duration = 4_000.0 if flow.kind == "slow" else 120.0
    attributes: dict[str, object] = {
        attr.FAAS_TRIGGER: "pubsub",
        attr.FAAS_INVOCATION_ID: secrets.token_hex(16),
        attr.FAAS_COLDSTART: False,
        attr.MESSAGING_SYSTEM: "aws_sqs",
        attr.MESSAGING_DESTINATION_NAME: "post-uploaded",
        attr.MEMORY_LIMIT_MB: MEMORY_MB[CONSUMER_FUNCTION],
        attr.TIMEOUT_CONFIGURED_MS: TIMEOUT_MS[CONSUMER_FUNCTION],
    }
    if flow.kind == "retry":
        attributes[attr.RETRY] = True
        attributes[attr.RETRY_ATTEMPT] = 2
    if flow.kind == "timeout":
        attributes[attr.TIMEOUT] = True
    return [
        _span(
            flow.trace_id,
            invocation,
            parent_id,
            "post-uploaded process",
            Span.SPAN_KIND_CONSUMER,
            start,
            duration,
            attributes,
            error=flow.consumer_error,
        ),
        _span(
            flow.trace_id,
            put,
            invocation,
            "DynamoDB.PutItem",
            Span.SPAN_KIND_CLIENT,
            start + 5_000_000,
            15.0,
            {"rpc.system": "aws-api", "rpc.service": "DynamoDB", attr.AWS_DYNAMODB_TABLE_NAMES: "posts"},
        ),
    ]


def _request(function: str, spans: Sequence[Span]) -> bytes:
    resource_spans = ResourceSpans()
    for key_value in _attributes(_resource(function)):
        resource_spans.resource.attributes.append(key_value)
    scope = resource_spans.scope_spans.add()
    scope.scope.name = "otel_serverless"
    scope.spans.extend(spans)
    return ExportTraceServiceRequest(resource_spans=[resource_spans]).SerializeToString()


def post_otlp(endpoint: str, body: bytes) -> None:
    request = urllib.request.Request(
        endpoint.rstrip("/") + "/v1/traces",
        data=body,
        headers={"Content-Type": "application/x-protobuf"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def send_flows(flows: Sequence[Flow], producer_agent: str, consumer_agent: str, per_request: int = 25) -> None:
    """Each function's spans through its own agent (OTLP/HTTP), in requests of `per_request` invocations."""
    for offset in range(0, len(flows), per_request):
        chunk = flows[offset : offset + per_request]
        producers: list[Span] = []
        consumers: list[Span] = []
        for flow in chunk:
            spans, send_id = producer_spans(flow)
            producers.extend(spans)
            consumers.extend(consumer_spans(flow, send_id))
        post_otlp(producer_agent, _request(PRODUCER_FUNCTION, producers))
        post_otlp(consumer_agent, _request(CONSUMER_FUNCTION, consumers))


# --- Prometheus -------------------------------------------------------------------------------


def prom_query(prometheus_url: str, query: str) -> list[dict[str, Any]]:
    url = prometheus_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def prom_values(prometheus_url: str, query: str, label: str) -> dict[str, float]:
    """An instant vector as {value of `label`: number}."""
    return {row["metric"].get(label, ""): float(row["value"][1]) for row in prom_query(prometheus_url, query)}
