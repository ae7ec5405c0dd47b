"""A Step Functions task state invoking the function.

Recognised by the producer's reserved key in the input (``_otel``, written by
``propagation.stepfunctions``; or Datadog's ``_datadog``) or by the context object a state passes with
``"$$"`` (``Execution.Id`` is a ``states`` ARN), at the top level or one level
down. ``State.RetryCount`` gives the attempt number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _extract

RESERVED_KEY: Final = "_otel"
#: What dd-trace writes into a StartExecution input (read-only compatibility).
DATADOG_KEY: Final = "_datadog"
#: Top-level values inspected for a nested context object.
_MAX_SCAN: Final = 16


def _is_context_object(value: object) -> bool:
    execution = base.text(base.mapping(value, "Execution"), "Id")
    return execution is not None and execution.startswith("arn:") and ":states:" in execution


def context_object(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if _is_context_object(event):
        return event
    for count, value in enumerate(event.values()):
        if count >= _MAX_SCAN:
            break
        if _is_context_object(value):
            found: Mapping[str, Any] = value
            return found
    return None


def detect(event: Any, context: Any) -> base.Trigger | None:
    if not isinstance(event, dict):
        return None
    machine = context_object(event)
    if machine is None and RESERVED_KEY not in event and DATADOG_KEY not in event:
        return None
    attributes: base.Attributes = {}
    attempt = None
    if machine is not None:
        state = base.mapping(machine, "State")
        base.put(attributes, attr.STEPFUNCTIONS_EXECUTION_ARN, base.text(base.mapping(machine, "Execution"), "Id"))
        base.put(attributes, attr.STEPFUNCTIONS_STATE_NAME, base.text(state, "Name", 256))
        retries = base.number(state, "RetryCount")
        attempt = None if retries is None else retries + 1
    return base.Trigger(
        name="stepfunctions",
        faas_trigger=base.OTHER,
        attributes=attributes,
        parent=_extract.call("stepfunctions", "extract_input", event),
        attempt=attempt,
    )
