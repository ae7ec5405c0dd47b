"""Hostile Lambda events for property-based tests: JSON of any shape, biased towards the keys
and values AWS sends, so that the fuzzer reaches deep into every trigger parser and getter."""

from __future__ import annotations

import base64
import copy
import importlib
import inspect
import json
import pkgutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from otel_serverless import propagation

EVENTS = Path(__file__).resolve().parents[1] / "events"

#: A value no log line may repeat in full: long enough that a preview would cut it.
MARKER = "HOSTILE-" + "m" * 300
#: Longest a single parse may take on hostile input (a catastrophic regex or quadratic loop
#: takes seconds; an ordinary parse, microseconds).
MAX_SECONDS = 1.0
MAX_LOG_CHARS = 1024


def getters() -> list[Callable[[Any], Any]]:
    """Every public carrier getter of the propagation package (``extract_*``, ``correlation_key_for_record``)."""
    found: list[Callable[[Any], Any]] = []
    for module in pkgutil.iter_modules(propagation.__path__):
        if module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"{propagation.__name__}.{module.name}")
        for name, function in inspect.getmembers(loaded, inspect.isfunction):
            if function.__module__ == loaded.__name__ and (
                name.startswith("extract") or name == "correlation_key_for_record"
            ):
                found.append(function)
    return found


def timed(call: Callable[[], Any]) -> Any:
    """``call()``, failing if it took longer than :data:`MAX_SECONDS`."""
    started = time.perf_counter()
    result = call()
    assert time.perf_counter() - started < MAX_SECONDS, "a call on hostile input took over a second"
    return result


class Context:
    """A Lambda context as the runtime passes it, with a fixed three-second budget."""

    function_name = "fuzzed"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fuzzed"
    memory_limit_in_mb = "128"
    log_group_name = "/aws/lambda/fuzzed"
    log_stream_name = "stream"
    client_context = None
    identity = None

    def __init__(self, request_id: str = "fuzz-1") -> None:
        self.aws_request_id = request_id
        self._deadline = time.monotonic() + 3

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


KEYS = [
    "Records",
    "records",
    "messages",
    "eventSource",
    "EventSource",
    "eventSourceARN",
    "eventSourceArn",
    "requestContext",
    "headers",
    "multiValueHeaders",
    "http",
    "elb",
    "httpMethod",
    "method",
    "path",
    "raw_path",
    "body",
    "messageAttributes",
    "MessageAttributes",
    "attributes",
    "AWSTraceHeader",
    "Sns",
    "Message",
    "detail",
    "detail-type",
    "source",
    "kinesis",
    "data",
    "dynamodb",
    "NewImage",
    "s3",
    "object",
    "bucket",
    "traceparent",
    "tracestate",
    "baggage",
    "x-amzn-trace-id",
    "_otel",
    "_datadog",
    "stringValue",
    "Value",
    "Type",
    "dataType",
    "binaryValue",
    "cf",
    "config",
    "request",
    "info",
    "fieldName",
    "parentTypeName",
    "connectionId",
    "eventType",
    "routeKey",
    "condition",
    "requestPayload",
    "requestId",
    "functionArn",
    "approximateInvokeCount",
    "triggerSource",
    "userPoolId",
    "awslogs",
    "deliveryStreamArn",
    "recordId",
    "rmqMessagesByQueue",
    "basicProperties",
    "properties",
    "bytes",
    "topic",
    "partition",
    "offset",
    "configRuleName",
    "invokingEvent",
    "CodePipeline.job",
    "DeploymentId",
    "LifecycleEventHookExecutionId",
    "RequestType",
    "StackId",
    "ResponseURL",
    "getObjectContext",
    "userRequest",
    "url",
    "context",
    "Execution",
    "State",
    "RetryCount",
    "ApproximateReceiveCount",
    "messageId",
    "sequenceNumber",
    "eventID",
    "eventName",
]
TEXTS = [
    "aws:sqs",
    "aws:sns",
    "aws:kinesis",
    "aws:dynamodb",
    "aws:s3",
    "aws:ses",
    "aws:kafka",
    "aws:amq",
    "aws:rmq",
    "aws:SelfManagedKafka",
    "aws.events",
    "Scheduled Event",
    "CONNECT",
    "MESSAGE",
    "DISCONNECT",
    "RetriesExhausted",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-" + "0" * 32 + "-" + "0" * 16 + "-01",
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "Root=1-x;Sampled=0",
    '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}',
    "{",
    "[]",
    "null",
    "",
    base64.b64encode(b'{"_otel":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}').decode(),
    "H4sIAAAAAAAA",
    "arn:aws:sqs:us-east-1:123456789012:q",
    "GET",
    "POST",
    "Create",
    MARKER,
]

_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(TEXTS),
    st.text(max_size=40),
    st.lists(st.integers(min_value=-5, max_value=300), max_size=12),  # header bytes, right and wrong
    st.sampled_from([MARKER * 30, "00-" + MARKER * 30, "x" * 70_000]),  # over every field and slot limit
)
_keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
json_values = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(_keys, children, max_size=6),
        children.map(lambda value: json.dumps(value, default=str)),  # JSON inside a string
    ),
    max_leaves=40,
)


def samples() -> dict[str, Any]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))}


_SAMPLES = samples()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            found.extend(_paths(child, (*prefix, index)))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copied = list(value)
    copied[head] = _replace(copied[head], rest, new)
    return copied


@st.composite
def mutated_samples(draw: st.DrawFn) -> Any:
    """A real event with one to three of its values (at any depth) replaced by hostile ones."""
    event = _SAMPLES[draw(st.sampled_from(sorted(_SAMPLES)))]
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(event)))
        event = _replace(event, path, draw(json_values))
    return event


FIELDS = ["traceparent", "tracestate", "baggage", "X-Amzn-Trace-Id", "b3", "uber-trace-id", "_otel", "_datadog"]
hostile_texts = st.one_of(
    st.sampled_from(TEXTS),
    st.sampled_from([MARKER * 30, "00-" + MARKER, MARKER + "," + MARKER, "k=" + MARKER * 30]),
    st.text(max_size=200),
)


@st.composite
def carrier_attacks(draw: st.DrawFn) -> Any:
    """A real event with hostile propagation fields where each source carries them."""
    event = copy.deepcopy(_SAMPLES[draw(st.sampled_from(sorted(_SAMPLES)))])
    field = draw(st.sampled_from(FIELDS))
    values = draw(st.lists(hostile_texts, min_size=1, max_size=3))
    holders = [event] if isinstance(event, dict) else []
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        holders += [record for record in event["Records"] if isinstance(record, dict)]
    for holder in holders:
        if isinstance(holder.get("headers"), dict):
            holder["headers"][field] = values[0]
        if isinstance(holder.get("multiValueHeaders"), dict):
            holder["multiValueHeaders"][field] = values
        if "messageAttributes" in holder:
            holder["messageAttributes"] = {field: {"stringValue": values[0], "dataType": "String"}}
        if isinstance(holder.get("Sns"), dict):
            holder["Sns"]["MessageAttributes"] = {field: {"Type": "String", "Value": values[0]}}
        if isinstance(holder.get("detail"), dict):
            holder["detail"][field] = draw(json_values) if draw(st.booleans()) else values[0]
        if isinstance(holder.get("attributes"), dict):
            holder["attributes"]["AWSTraceHeader"] = values[-1]
    return event


events = st.one_of(json_values, mutated_samples(), carrier_attacks())
