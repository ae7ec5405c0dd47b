"""Retries, throttling and the resource on every AWS call's span (upstream's or ours).

botocore retries inside one API call: each attempt ends in a ``needs-retry`` event
with the attempt number and the response or connection error. We listen on each
client's own event emitter (registered once per client, on its first call) and, on
the call's span:

* ``aws.retry_attempts``: retries made (0 when the first attempt was the last);
* one ``aws.retry`` event per attempt that failed and *was* retried, at the time
  its answer came: the error code (``error.type``), ``http.response.status_code``,
  ``serverless.retry.attempt`` and ``serverless.aws.throttled`` (botocore's own
  detector, so modeled throttling errors count too); known once the next attempt
  answers, so the final answer never adds one;
* ``serverless.aws.throttled_attempts``: how many attempts were throttled.

Before serialisation, with the parameters the user's ``before-parameter-build`` handlers
left, :func:`call_attributes` gives what goes on the span at once: the resource the call
names (the bucket and key, the table, the queue URL, the topic, the stream, the state
machine) and ``aws.retry_attempts`` 0. The hooks (:mod:`._hooks`) set them together with
their own attributes, so the usual call, answered at its first attempt, needs nothing
more from the retry handler.

The handler acts only when the current span is the call's own (upstream's botocore
scope, or ours), and returns None, so botocore's own decisions are never changed.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from opentelemetry import trace
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless._guard import report
from otel_serverless.botocore import _upstream

_OURS: Final = "otel_serverless.botocore"
_UPSTREAM: Final = _upstream.SCOPE
_UPSTREAM_EXTENSION: Final = _upstream.SCOPE + "."
_UNIQUE: Final = "otel_serverless.retries"
#: Longest resource name copied onto a span.
_MAX_CHARS: Final = 1024

#: Parameters naming the call's resource, by botocore service name: (parameter, attribute, as a list).
_RESOURCES: Final[dict[str, tuple[tuple[str, str, bool], ...]]] = {
    "s3": (("Bucket", attr.AWS_S3_BUCKET, False), ("Key", attr.AWS_S3_KEY, False)),
    "dynamodb": (("TableName", attr.AWS_DYNAMODB_TABLE_NAMES, True),),
    "sqs": (("QueueUrl", attr.AWS_SQS_QUEUE_URL, False),),
    "sns": (("TopicArn", attr.AWS_SNS_TOPIC_ARN, False),),
    "kinesis": (("StreamName", attr.AWS_KINESIS_STREAM_NAME, False),),
    "stepfunctions": (("stateMachineArn", attr.AWS_STEP_FUNCTIONS_STATE_MACHINE_ARN, False),),
}


@dataclass
class _Attempts:
    span: Span
    #: The last failed attempt's event, added once the next attempt shows it was retried.
    pending: tuple[dict[str, AttributeValue], int] | None = None
    throttled: int = 0


_state: contextvars.ContextVar[_Attempts | None] = contextvars.ContextVar("otel_serverless_retries", default=None)
_detector: Any = None


def watch(events: Any) -> None:
    """Listen on a client's *events* (the caller registers once per client)."""
    events.register("needs-retry", _on_needs_retry, unique_id=_UNIQUE + ".needs-retry")


def call_span() -> Span | None:
    """The current span when it is the AWS call's own (ours or upstream's) and recording."""
    span = trace.get_current_span()
    name = getattr(getattr(span, "instrumentation_scope", None), "name", None)
    if isinstance(name, str) and (name in (_OURS, _UPSTREAM) or name.startswith(_UPSTREAM_EXTENSION)):
        return span if span.is_recording() else None
    return None


def _is_throttling(kwargs: dict[str, Any]) -> bool:
    global _detector
    if _detector is None:
        from botocore.retries.standard import RetryEventAdapter, ThrottlingErrorDetector

        _detector = ThrottlingErrorDetector(RetryEventAdapter())
    return bool(_detector.is_throttling_error(**kwargs))


def _failure(kwargs: dict[str, Any], attempt: int) -> dict[str, AttributeValue] | None:
    """The event of a failed attempt, or None when the attempt succeeded."""
    caught = kwargs.get("caught_exception")
    response = kwargs.get("response")
    attributes: dict[str, AttributeValue] = {attr.AWS_RETRY_ATTEMPT: attempt}
    if caught is not None:
        attributes[attr.EXCEPTION_TYPE] = type(caught).__qualname__
    elif isinstance(response, tuple) and len(response) == 2:
        status = getattr(response[0], "status_code", None)
        parsed = response[1] if isinstance(response[1], Mapping) else {}
        error = parsed.get("Error")
        code = error.get("Code") if isinstance(error, Mapping) else None
        if not (isinstance(status, int) and status >= 400) and not code:
            return None
        if isinstance(status, int):
            attributes[attr.HTTP_RESPONSE_STATUS_CODE] = status
        if isinstance(code, str) and code:
            attributes[attr.ERROR_TYPE] = code[:_MAX_CHARS]
    else:
        return None
    attributes[attr.AWS_THROTTLED] = _is_throttling(kwargs)
    return attributes


def _on_needs_retry(**kwargs: Any) -> None:
    try:
        attempt = kwargs.get("attempts")
        if not isinstance(attempt, int):
            return
        failure = _failure(kwargs, attempt)
        if attempt == 1 and failure is None:
            return  # the usual call, answered at the first attempt: its 0 is on the span already
        span = call_span()
        if span is None:
            return
        if attempt == 1:
            state = _Attempts(span)
            _state.set(state)
        else:
            found = _state.get()
            state = found if found is not None and found.span is span else _Attempts(span)
            _state.set(state)
            if state.pending is not None:
                # A next attempt answered: the previous failure was retried.
                event, at = state.pending
                span.add_event(attr.AWS_RETRY_EVENT, event, timestamp=at)
                state.pending = None
        if failure is not None:
            state.pending = (failure, time.time_ns())
            if failure.get(attr.AWS_THROTTLED):
                state.throttled += 1
        span.set_attributes({attr.AWS_RETRY_ATTEMPTS: attempt - 1, attr.AWS_THROTTLED_ATTEMPTS: state.throttled})
    except Exception as error:
        report("botocore.retries", error)


def call_attributes(service: str, params: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """What a call's span gets before it is sent: no retry yet, and the resource *params* name."""
    found: dict[str, AttributeValue] = {attr.AWS_RETRY_ATTEMPTS: 0}
    for parameter, attribute, listed in _RESOURCES.get(service, ()):
        value = params.get(parameter)
        if isinstance(value, str) and value:
            found[attribute] = [value[:_MAX_CHARS]] if listed else value[:_MAX_CHARS]
    return found
