"""SNS delivering to Lambda: one record per invocation, so its producer is the parent."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _bodies, _extract


def detect(event: Any, context: Any) -> base.Trigger | None:
    found = base.records(event, "EventSource", "aws:sns")
    if found is None:
        return None
    topic = base.arn_resource(base.text(base.mapping(found[0], "Sns"), "TopicArn"))
    records: list[base.Record] = []
    for index, raw in enumerate(found):
        sns = base.mapping(raw, "Sns")
        message_id = base.text(sns, "MessageId", 128)
        attributes: base.Attributes = {attr.MESSAGING_SYSTEM: "aws_sns"}
        base.put(attributes, attr.MESSAGING_MESSAGE_ID, message_id)
        base.put(attributes, attr.MESSAGING_DESTINATION_NAME, topic)
        inner = _bodies.parse(sns.get("Message") if sns else None)
        records.append(
            base.Record(
                index=index,
                source=raw,
                message_id=message_id,
                parent=_extract.call("sns", "extract_lambda_record", raw),
                item_id=message_id,
                attributes=attributes,
                links=_bodies.s3_links(inner),
            )
        )
    first = records[0]
    attributes = {
        attr.MESSAGING_SYSTEM: "aws_sns",
        attr.MESSAGING_OPERATION_TYPE: "process",
        attr.MESSAGING_OPERATION_NAME: "process",
    }
    base.put(attributes, attr.MESSAGING_DESTINATION_NAME, topic)
    single = len(records) == 1
    if single:
        base.put(attributes, attr.MESSAGING_MESSAGE_ID, first.message_id)
    message = base.text(base.mapping(found[0], "Sns"), "Message", _bodies.MAX_BODY_CHARS + 1)
    return base.Trigger(
        name="sns",
        faas_trigger=base.PUBSUB,
        kind=SpanKind.CONSUMER,
        attributes=attributes,
        parent=first.parent if single else None,
        records=records,
        batch=not single,
        origin=_bodies.origin(_bodies.parse(message)),
        destination=topic,
        links=list(first.links) if single else [],
    )
