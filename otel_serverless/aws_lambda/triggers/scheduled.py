"""Scheduled events (EventBridge rules with a schedule expression): ``faas.trigger=timer``."""

from __future__ import annotations

from typing import Any

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base


def detect(event: Any, context: Any) -> base.Trigger | None:
    if base.text(event, "source") != "aws.events" or base.text(event, "detail-type") != "Scheduled Event":
        return None
    attributes: base.Attributes = {}
    base.put(attributes, attr.FAAS_TIME, base.text(event, "time", 64))
    resources = base.sequence(event, "resources")
    if resources and isinstance(resources[0], str):
        attributes[attr.SCHEDULE_RULE] = resources[0][: base.MAX_VALUE_CHARS]
    return base.Trigger(name="scheduled", faas_trigger=base.TIMER, attributes=attributes)
