"""Amazon MSK and self-managed Apache Kafka: a batch trigger, records grouped by topic-partition.

Each record's producer context comes from its headers (``propagation.kafka``). Lambda retries
a failed batch from the same offsets, so a re-seen topic-partition-offset is a redelivery.
"""

from __future__ import annotations

from typing import Any, Final

from opentelemetry.trace import SpanKind

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _extract, _streams

SOURCES: Final = {"aws:kafka": "msk", "aws:SelfManagedKafka": "self_managed_kafka"}
#: Records read per invocation (Lambda's Kafka batches hold up to 10,000).
MAX_RECORDS: Final = 10_000


def detect(event: Any, context: Any) -> base.Trigger | None:
    source = base.text(event, "eventSource", 64)
    batches = base.mapping(event, "records")
    if source not in SOURCES or batches is None:
        return None
    cluster = base.text(event, "eventSourceArn") or base.text(event, "bootstrapServers")
    records: list[base.Record] = []
    topics: list[str] = []
    for listed in batches.values():
        if not isinstance(listed, list):
            continue
        for raw in listed:
            if len(records) >= MAX_RECORDS:
                break
            if not isinstance(raw, dict):
                continue
            topic = base.text(raw, "topic", 256)
            partition = base.number(raw, "partition")
            offset = base.number(raw, "offset")
            if topic and topic not in topics:
                topics.append(topic)
            where = f"{topic}-{partition}"
            attributes = base.message_attributes("kafka", None, topic)
            base.put(attributes, attr.MESSAGING_DESTINATION_PARTITION_ID, None if partition is None else str(partition))
            base.put(attributes, attr.MESSAGING_KAFKA_OFFSET, offset)
            records.append(
                base.Record(
                    index=len(records),
                    source=raw,
                    message_id=None if offset is None else f"{where}@{offset}",
                    parent=_extract.call("kafka", "extract_record", raw),
                    sequence_key=_streams.sequence_key(f"{cluster}/{where}", None if offset is None else str(offset)),
                    attributes=attributes,
                )
            )
    destination = topics[0] if len(topics) == 1 else None
    attributes = base.batch_attributes("kafka", len(records), destination)
    attributes[attr.KAFKA_CLUSTER_KIND] = SOURCES[source]
    return base.Trigger(
        name="kafka",
        faas_trigger=base.PUBSUB,
        kind=SpanKind.CONSUMER,
        attributes=attributes,
        records=records,
        batch=True,
        destination=destination,
    )
