"""SQS (standard and FIFO), including what SNS, EventBridge and S3 deliver through it.

A batch trigger: every record's producer is a link of the invocation span and
the parent of that record's processing span. The carrier getter
``propagation.sqs.extract_lambda_record`` reads the message attributes, the
``AWSTraceHeader`` system attribute, and SNS/EventBridge bodies.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _bodies, _extract, _unsampled


def detect(event: Any, context: Any) -> base.Trigger | None:
    found = base.records(event, "eventSource", "aws:sqs")
    if found is None:
        return None
    queue = base.arn_resource(base.text(found[0], "eventSourceARN"))
    first = _bodies.parse(found[0].get("body"))
    origin = _bodies.origin(first)
    records: list[base.Record] = []
    attempts: list[int] = []
    for index, raw in enumerate(found):
        message_id = base.text(raw, "messageId", 128)
        system = base.mapping(raw, "attributes")
        attempt = base.number(system, "ApproximateReceiveCount")
        if attempt is not None:
            attempts.append(attempt)
        attributes = base.message_attributes("aws_sqs", message_id, queue)
        base.put(attributes, attr.SQS_MESSAGE_GROUP_ID, base.text(system, "MessageGroupId", 128))
        record = base.Record(
            index=index,
            source=raw,
            message_id=message_id,
            item_id=message_id,
            attempt=attempt,
            attributes=attributes,
        )
        # AWSTraceHeader with Sampled=0 (a producer without active X-Ray tracing): a link.
        record.parent = _unsampled.settle(_extract.call("sqs", "extract_lambda_record", raw), record.links)
        if origin == "s3":
            record.links += _bodies.s3_links(first if index == 0 else _bodies.parse(raw.get("body")))
        records.append(record)
    attributes = base.batch_attributes("aws_sqs", len(records), queue)
    if len(records) == 1:
        base.put(attributes, attr.MESSAGING_MESSAGE_ID, records[0].message_id)
    return base.Trigger(
        name="sqs",
        faas_trigger=base.PUBSUB,
        kind=SpanKind.CONSUMER,
        attributes=attributes,
        records=records,
        batch=True,
        attempt=max(attempts) if attempts else None,
        origin=origin,
        destination=queue,
    )
