"""Kinesis Data Streams: a batch trigger; records are redelivered until the batch succeeds."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _extract, _streams

SYSTEM = "aws_kinesis"


def detect(event: Any, context: Any) -> base.Trigger | None:
    found = base.records(event, "eventSource", "aws:kinesis")
    if found is None:
        return None
    stream_arn = base.text(found[0], "eventSourceARN")
    stream = base.arn_resource(stream_arn)
    records: list[base.Record] = []
    for index, raw in enumerate(found):
        kinesis = base.mapping(raw, "kinesis")
        sequence = base.text(kinesis, "sequenceNumber", 128)
        shard = (base.text(raw, "eventID", 256) or "").split(":", 1)[0] or None
        attributes = base.message_attributes(SYSTEM, sequence, stream)
        base.put(attributes, attr.MESSAGING_DESTINATION_PARTITION_ID, shard)
        records.append(
            base.Record(
                index=index,
                source=raw,
                message_id=sequence,
                parent=_extract.call("kinesis", "extract_record", raw),
                item_id=sequence,
                sequence_key=_streams.sequence_key(base.text(raw, "eventSourceARN") or stream_arn, sequence),
                attributes=attributes,
            )
        )
    attributes = base.batch_attributes(SYSTEM, len(records), stream)
    return base.Trigger(
        name="kinesis",
        faas_trigger=base.PUBSUB,
        kind=SpanKind.CONSUMER,
        attributes=attributes,
        records=records,
        batch=True,
        destination=stream,
    )
