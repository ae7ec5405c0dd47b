"""EventBridge events (custom buses, AWS service events, S3 via EventBridge)."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _bodies, _correlation, _extract


def detect(event: Any, context: Any) -> base.Trigger | None:
    if not isinstance(event, dict) or not _bodies.is_eventbridge(event):
        return None
    source = base.text(event, "source", 256)
    attributes: base.Attributes = {}
    base.put(attributes, attr.MESSAGING_MESSAGE_ID, base.text(event, "id", 128))
    base.put(attributes, attr.EVENTBRIDGE_SOURCE, source)
    base.put(attributes, attr.EVENTBRIDGE_DETAIL_TYPE, base.text(event, "detail-type", 256))
    base.put(attributes, attr.FAAS_TIME, base.text(event, "time", 64))
    return base.Trigger(
        name="eventbridge",
        faas_trigger=base.PUBSUB,
        kind=SpanKind.CONSUMER,
        attributes=attributes,
        parent=_extract.call("eventbridge", "extract_event", event),
        origin="s3" if source == "aws.s3" else None,
        links=_correlation.s3_eventbridge(event),
    )
