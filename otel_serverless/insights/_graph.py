"""Where a span goes and what it is: service-map nodes, invocation and API-call spans, dataflow names."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from otel_serverless import attributes as attr
from otel_serverless.insights._model import CLIENT, PRODUCER, Span

#: Node id prefix → node kind (the ``nodes[].kind`` of the report).
KINDS: Final = {
    "sqs": "queue",
    "sns": "topic",
    "kinesis": "stream",
    "events": "bus",
    "schedule": "bus",
    "dynamodb": "table",
    "s3": "bucket",
    "states": "state_machine",
    "http": "http",
}

_SERVICES: Final = {
    "sqs": "sqs",
    "aws_sqs": "sqs",
    "aws.sqs": "sqs",
    "sns": "sns",
    "aws.sns": "sns",
    "aws_sns": "sns",
    "kinesis": "kinesis",
    "aws_kinesis": "kinesis",
    "aws.kinesis": "kinesis",
    "eventbridge": "events",
    "events": "events",
    "aws.eventbridge": "events",
    "aws_eventbridge": "events",
}


def is_invocation(span: Span) -> bool:
    return attr.FAAS_TRIGGER in span.attributes


def is_call(span: Span) -> bool:
    """An outgoing call: an AWS SDK or HTTP client span (not an invocation, not a record)."""
    return span.kind in (CLIENT, PRODUCER) and attr.FAAS_TRIGGER not in span.attributes


def call_kind(span: Span) -> str:
    attributes = span.attributes
    if attributes.get(attr.RPC_SYSTEM) == "aws-api" or span.scope.startswith("opentelemetry.instrumentation.botocore"):
        return "aws"
    if attributes.get(attr.MESSAGING_SYSTEM) or ("." in span.name and span.name.split(".")[0].isalpha()):
        return "aws"
    return "http"


def _last(arn_or_url: Any, separator: str) -> str | None:
    if not isinstance(arn_or_url, str) or not arn_or_url:
        return None
    return arn_or_url.rstrip(separator).rsplit(separator, 1)[-1] or None


def _first(value: Any) -> str | None:
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    return value if isinstance(value, str) and value else None


def call_target(span: Span) -> str | None:  # noqa: PLR0911  # one return per kind of target
    """The node an outgoing call reaches: ``sqs:orders``, ``dynamodb:posts``, a function, ``http:host``."""
    a = span.attributes
    get = a.get
    # Each check reads the attribute first: most are absent, and then nothing else runs.
    if (found := get(attr.FAAS_INVOKED_NAME)) and (name := _first(found)):
        return name
    if (found := get(attr.AWS_S3_BUCKET)) and (bucket := _first(found)):
        return f"s3:{bucket}"
    if (found := get(attr.AWS_DYNAMODB_TABLE_NAMES)) and (table := _first(found)):
        return f"dynamodb:{table}"
    if (found := get(attr.AWS_STEP_FUNCTIONS_STATE_MACHINE_ARN)) and (machine := _last(found, ":")):
        return f"states:{machine}"
    if (found := get(attr.AWS_SNS_TOPIC_ARN)) and (topic := _last(found, ":")):
        return f"sns:{topic}"
    if (found := get(attr.AWS_KINESIS_STREAM_NAME)) and (stream := _first(found)):
        return f"kinesis:{stream}"
    service = _SERVICES.get(str(a.get(attr.MESSAGING_SYSTEM) or a.get(attr.RPC_SERVICE) or "").lower())
    if service is not None:
        destination = _first(a.get(attr.MESSAGING_DESTINATION_NAME)) or _last(a.get(attr.AWS_SQS_QUEUE_URL), "/")
        if destination:
            return f"{service}:{_last(destination, ':') if service == 'sns' else destination}"
        return None
    if call_kind(span) == "http":
        host = _first(a.get(attr.SERVER_ADDRESS)) or _first(a.get("net.peer.name"))
        if not host:
            url = _first(a.get("url.full")) or _first(a.get("http.url"))
            host = urlsplit(url).hostname if url else None
        return f"http:{host}" if host else None
    return None


def trigger_source(span: Span) -> str | None:  # noqa: PLR0911  # one return per trigger
    """The resource an invocation was triggered from: its queue, stream, table, bucket, state machine …"""
    a = span.attributes
    trigger = a.get(attr.TRIGGER)
    destination = _first(a.get(attr.MESSAGING_DESTINATION_NAME))
    if trigger == "sqs" and destination:
        return f"sqs:{destination}"
    if trigger == "sns" and destination:
        return f"sns:{_last(destination, ':')}"
    if trigger == "kinesis" and destination:
        return f"kinesis:{destination}"
    if trigger == "dynamodb" and (table := _first(a.get(attr.FAAS_DOCUMENT_COLLECTION))):
        return f"dynamodb:{table}"
    bucket = _first(a.get(attr.AWS_S3_BUCKET)) or _first(a.get(attr.FAAS_DOCUMENT_COLLECTION))
    if trigger == "s3" and bucket:
        return f"s3:{bucket}"
    if trigger == "stepfunctions":
        execution = a.get(attr.STEPFUNCTIONS_EXECUTION_ARN)
        parts = execution.split(":") if isinstance(execution, str) else []
        if len(parts) >= 7:
            return f"states:{parts[6]}"
    if trigger == "scheduled" and (rule := _last(a.get(attr.SCHEDULE_RULE), "/")):
        return f"schedule:{rule}"
    return None


def kind_of(node: str, functions: set[str]) -> str:
    if node in functions:
        return "function"
    prefix, found, _ = node.partition(":")
    return KINDS.get(prefix, "other") if found else "other"


def dataflow_name(root: Span, entry: Span | None = None) -> str:
    """A trace's business flow, named by its entry: ``POST /posts``, a schedule's rule, the caller's root.

    *entry* is the first invocation under a caller's root span: when the caller made an HTTP
    request, the route the function answered names the flow (the caller's span has the raw path).
    """
    a = root.attributes
    method = _first(a.get(attr.HTTP_REQUEST_METHOD)) or _first(a.get("http.method"))
    if not is_invocation(root) and method and entry is not None:
        route = _first(entry.attributes.get(attr.HTTP_ROUTE))
        if route:
            return f"{method} {route}"
    if is_invocation(root):
        if method:
            route = _first(a.get(attr.HTTP_ROUTE)) or _first(a.get(attr.URL_PATH)) or _first(a.get("http.target"))
            return f"{method} {route}" if route else f"{method} {root.service}"
        if rule := _last(a.get(attr.SCHEDULE_RULE), "/"):
            return f"schedule {rule}"
        source = trigger_source(root)
        return f"{source} → {root.service}" if source else root.service
    if method and root.name == method:  # an HTTP client names its span by the method alone
        path = _first(a.get(attr.HTTP_ROUTE)) or _first(a.get(attr.URL_PATH))
        return f"{method} {path}" if path else f"{root.service}: {method}"
    return root.name or root.service
