"""Amazon Data Firehose transformations: a batch of records, answered record by record.

A record read from a Kinesis stream keeps the stream's data, so the context a Kinesis
producer embedded (``propagation.kinesis``) is still there and names the record's producer.
"""

from __future__ import annotations

from typing import Any, Final

from opentelemetry.trace import SpanKind

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _extract

SYSTEM: Final = "aws_firehose"
#: Records read per invocation (Firehose batches are bounded by size, 6 MB).
MAX_RECORDS: Final = 10_000


def detect(event: Any, context: Any) -> base.Trigger | None:
    stream = base.arn_resource(base.text(event, "deliveryStreamArn"))
    listed = base.sequence(event, "records")
    if stream is None or listed is None:
        return None
    records: list[base.Record] = []
    for raw in listed[:MAX_RECORDS]:
        if not isinstance(raw, dict):
            continue
        record_id = base.text(raw, "recordId", 256)
        attributes = base.message_attributes(SYSTEM, record_id, stream)
        records.append(
            base.Record(
                index=len(records),
                source=raw,
                message_id=record_id,
                item_id=record_id,
                parent=_extract.call("kinesis", "extract_record", {"kinesis": {"data": raw.get("data")}}),
                attributes=attributes,
            )
        )
    attributes = base.batch_attributes(SYSTEM, len(records), stream)
    base.put(attributes, attr.FIREHOSE_SOURCE_STREAM, base.arn_resource(base.text(event, "sourceKinesisStreamArn")))
    return base.Trigger(
        name="firehose",
        faas_trigger=base.PUBSUB,
        kind=SpanKind.CONSUMER,
        attributes=attributes,
        records=records,
        batch=True,
        destination=stream,
    )
