"""Trigger detection: an ordered registry of one small module per event shape.

``detect(event)`` asks each detector in turn and returns the first answer;
:mod:`.fallback` answers for anything else. Order matters only where shapes
overlap: WebSocket events first (their ``requestContext`` looks like a REST API's),
ALB before the REST API (both have ``httpMethod``), Function URL before the HTTP API
(both are payload format 2.0), EventBridge Pipes after the record sources whose bare
records it delivers, scheduled events before EventBridge, and the direct invoke (which
reads the Lambda context, not the event) last. Each detector that needs a top-level key
says so in ``_NEEDS_KEY``, so an event is shown only to the detectors that may answer.
A detector that raises is reported once and skipped: a malformed event can
only ever produce a less specific trigger, never an exception.
"""

from __future__ import annotations

import importlib
from typing import Any, Final

from otel_serverless._guard import report
from otel_serverless.aws_lambda.triggers._base import Detector, Record, Trigger, on_function_url

__all__ = ["ORDER", "REGISTRY", "Detector", "Record", "Trigger", "detect"]

#: The detectors' modules, asked in this order.
ORDER: Final[tuple[str, ...]] = (
    "api_gateway_websocket",
    "alb",
    "api_gateway_rest",
    "function_url",
    "api_gateway_http",
    "vpc_lattice",
    "sqs",
    "sns",
    "kinesis",
    "dynamodb",
    "s3",
    "ses",
    "cloudfront",
    "kafka",
    "amazon_mq",
    "firehose",
    "pipes",
    "appsync",
    "appsync_authorizer",
    "scheduled",
    "eventbridge",
    "stepfunctions",
    "destinations",
    "cognito",
    "cloudwatch_logs",
    "iot",
    "config_rule",
    "deployment",
    "cloudformation",
    "s3_object_lambda",
    "service_hooks",
    "lambda_invoke",
)
# Loaded on first use, in order, and only as far as an event needed: a function that
# only ever sees one trigger never imports the modules after it (nor on its cold start).
_loaded: dict[str, Detector] = {}


def _detector(name: str) -> Detector:
    found = _loaded.get(name)
    if found is None:
        found = importlib.import_module(f"{__name__}.{name}").detect
        _loaded[name] = found
    return found


# What a detector needs at the top level of a dict event to possibly answer: a detector
# whose key is missing (or whose first record names another source) would return None,
# so it is not asked. Saves running every detector ahead of the one that answers.
_NEEDS_KEY: Final[dict[str, str]] = {
    "api_gateway_websocket": "requestContext",
    "vpc_lattice": "method",
    "ses": "Records",
    "cloudfront": "Records",
    "kafka": "eventSource",
    "amazon_mq": "eventSource",
    "firehose": "deliveryStreamArn",
    "appsync_authorizer": "authorizationToken",
    "destinations": "requestPayload",
    "cognito": "triggerSource",
    "cloudwatch_logs": "awslogs",
    "config_rule": "configRuleName",
    "cloudformation": "RequestType",
    "s3_object_lambda": "getObjectContext",
    "alb": "requestContext",
    "api_gateway_rest": "requestContext",
    "function_url": "requestContext",
    "api_gateway_http": "requestContext",
    "sqs": "Records",
    "sns": "Records",
    "kinesis": "Records",
    "dynamodb": "Records",
    "s3": "Records",
    "scheduled": "source",
    "eventbridge": "detail",
}
#: The first record's source field and value each record-batch detector needs (see ``_base.records``).
_RECORD_SOURCE: Final[dict[str, tuple[str, str]]] = {
    "sqs": ("eventSource", "aws:sqs"),
    "sns": ("EventSource", "aws:sns"),
    "kinesis": ("eventSource", "aws:kinesis"),
    "dynamodb": ("eventSource", "aws:dynamodb"),
    "s3": ("eventSource", "aws:s3"),
    "ses": ("eventSource", "aws:ses"),
}


#: What an HTTP detector needs inside a dict ``requestContext`` ("elb": ALB; "http": payload format 2.0).
_CONTEXT_KEY: Final[dict[str, str]] = {"alb": "elb", "function_url": "http", "api_gateway_http": "http"}


_SOURCES: Final = frozenset(value for _, value in _RECORD_SOURCE.values())
#: The candidates of each event shape seen (few: a function sees a handful of triggers).
_by_shape: dict[tuple[object, ...], tuple[str, ...]] = {}


def _candidates(event: Any) -> tuple[str, ...]:
    """The detectors that may answer for *event*, in order (all of them unless it is a plain dict)."""
    if type(event) is not dict:
        return ORDER
    listed = event.get("Records")
    first = listed[0] if type(listed) is list and listed else None
    request = event.get("requestContext")
    request = request if type(request) is dict else None
    # Everything _choose() looks at (the keys of _NEEDS_KEY, the fields of _RECORD_SOURCE,
    # what _not_this_http reads), with record sources cut to the known ones so that
    # hostile values cannot grow the cache.
    sources: tuple[object, object] | None = None
    if type(first) is dict:
        lower, upper = first.get("eventSource"), first.get("EventSource")
        sources = (
            lower if type(lower) is str and lower in _SOURCES else None,
            upper if type(upper) is str and upper in _SOURCES else None,
        )
    shape = (SHAPE_KEYS.intersection(event), sources, None if request is None else _request_shape(request))
    found = _by_shape.get(shape)
    if found is None:
        found = _choose(event, first, request)
        if len(_by_shape) < 256:
            _by_shape[shape] = found
    return found


def _request_shape(request: dict[str, Any]) -> tuple[bool, ...]:
    """What _not_this_http() reads in a dict ``requestContext``."""
    return (
        "elb" in request,
        "http" in request,
        type(request.get("http")) is dict,
        "connectionId" in request,
        on_function_url(request),
    )


#: What the shape in _candidates() covers (a test keeps them in step with the tables above).
SHAPE_KEYS: Final = frozenset(_NEEDS_KEY.values())
SHAPE_SOURCE_FIELDS: Final = frozenset({"eventSource", "EventSource"})


def _choose(event: dict[str, Any], first: object, request: dict[str, Any] | None) -> tuple[str, ...]:
    found: list[str] = []
    for name in ORDER:
        key = _NEEDS_KEY.get(name)
        if key is not None and key not in event:
            continue
        source = _RECORD_SOURCE.get(name)
        if source is not None and type(first) is dict and first.get(source[0]) != source[1]:
            continue  # records() looks at the first dict record: this one is from another source
        if request is not None and _not_this_http(name, request):
            continue
        found.append(name)
    return tuple(found)


def _not_this_http(name: str, request: dict[str, Any]) -> bool:
    """Whether the HTTP detector *name* would answer None for this dict ``requestContext``."""
    inner = _CONTEXT_KEY.get(name)
    if inner is not None:
        return inner not in request or (name == "function_url" and not on_function_url(request))
    if name == "api_gateway_websocket":
        return "connectionId" not in request  # every WebSocket event names its connection
    # The REST API detector steps aside for ALB and format-2.0 events.
    return name == "api_gateway_rest" and ("elb" in request or type(request.get("http")) is dict)


def detect(event: Any, context: Any = None) -> Trigger:
    """The trigger of an invocation with this *event* (and Lambda *context*); never raises."""
    for name in _candidates(event):
        # try/except rather than guard(): a context manager per detector is measurable per call.
        try:
            found = _detector(name)(event, context)
        except Exception as error:
            report(f"trigger.{name}", error)
            continue
        if found is not None:
            return found
    from otel_serverless.aws_lambda.triggers import fallback

    return fallback.detect(event, context)


def __getattr__(name: str) -> Any:
    if name == "REGISTRY":
        # Every detector, in order (loads them all).
        return tuple((module, _detector(module)) for module in ORDER)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
