"""Lambda destinations: the record of an asynchronous invocation, sent on success or failure.

``requestContext`` names the original invocation (request id, function, ``condition``,
``approximateInvokeCount``) and ``requestPayload`` is the event it was given. The
destination joins the original invocation's trace when that event carried a producer's
context (an EventBridge detail, an SNS message …): it becomes that producer's child, as
the original invocation was. Exhausted retries (``RetriesExhausted``, ``EventAgeExceeded``)
are marked, so a query finds every invocation AWS gave up on.
"""

from __future__ import annotations

from typing import Any, Final

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base

GAVE_UP: Final = frozenset({"RetriesExhausted", "EventAgeExceeded"})


def _payload_parent(payload: object) -> Any:
    if not isinstance(payload, (dict, list)) or (isinstance(payload, dict) and "requestPayload" in payload):
        return None  # a destination record inside one is not read again: the depth stays one
    from otel_serverless.aws_lambda.triggers import detect  # the registry reads the original event

    original = detect(payload, None)
    if original.parent is not None:
        return original.parent
    parents = [record.parent for record in original.records if record.parent is not None]
    return parents[0] if len(parents) == 1 else None


def detect(event: Any, context: Any) -> base.Trigger | None:
    request = base.mapping(event, "requestContext")
    condition = base.text(request, "condition", 64)
    if condition is None or base.text(request, "requestId", 128) is None or "requestPayload" not in event:
        return None
    function_arn = base.text(request, "functionArn")
    attributes: base.Attributes = {
        attr.DESTINATION_CONDITION: condition,
        attr.DESTINATION_RETRIES_EXHAUSTED: condition in GAVE_UP,
        attr.DESTINATION_REQUEST_ID: base.text(request, "requestId", 128) or "",
    }
    base.put(attributes, attr.DESTINATION_INVOKE_COUNT, base.number(request, "approximateInvokeCount"))
    # The function ARN may end in a version or alias (":$LATEST"): the function's name is before it.
    function = base.arn_resource(function_arn.split(":$", 1)[0]) if function_arn else None
    base.put(attributes, attr.DESTINATION_FUNCTION, function)
    response = base.mapping(event, "responseContext")
    base.put(attributes, attr.DESTINATION_FUNCTION_ERROR, base.text(response, "functionError", 64))
    return base.Trigger(
        name="destination",
        faas_trigger=base.OTHER,
        attributes=attributes,
        parent=_payload_parent(event.get("requestPayload")),
    )
