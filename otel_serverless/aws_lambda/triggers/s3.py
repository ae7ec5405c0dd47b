"""S3 event notifications delivered directly: no trace context, deterministic links instead."""

from __future__ import annotations

from typing import Any

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _correlation


def operation(event_name: str | None) -> str | None:
    if not event_name:
        return None
    if event_name.startswith("ObjectCreated"):
        return "insert"
    if event_name.startswith("ObjectRemoved"):
        return "delete"
    return event_name.split(":", 1)[0][:64]


def detect(event: Any, context: Any) -> base.Trigger | None:
    found = base.records(event, "eventSource", "aws:s3")
    if found is None:
        return None
    records: list[base.Record] = []
    for index, raw in enumerate(found):
        s3 = base.mapping(raw, "s3")
        bucket = base.text(base.mapping(s3, "bucket"), "name")
        obj = base.mapping(s3, "object")
        key = base.text(obj, "key")
        attributes: base.Attributes = {}
        base.put(attributes, attr.FAAS_DOCUMENT_COLLECTION, bucket)
        base.put(attributes, attr.FAAS_DOCUMENT_NAME, key)
        base.put(attributes, attr.FAAS_DOCUMENT_OPERATION, operation(base.text(raw, "eventName", 128)))
        base.put(attributes, attr.FAAS_DOCUMENT_TIME, base.text(raw, "eventTime", 64))
        made = _correlation.s3_link(
            bucket, key, base.text(obj, "eTag"), encoded=True, version=base.text(obj, "versionId")
        )
        records.append(
            base.Record(
                index=index,
                source=raw,
                message_id=base.text(obj, "sequencer", 128),
                attributes=attributes,
                links=[made] if made is not None else [],
            )
        )
    attributes = dict(records[0].attributes) if len(records) == 1 else {}
    return base.Trigger(
        name="s3",
        faas_trigger=base.DATASOURCE,
        attributes=attributes,
        records=records,
        links=[link for record in records for link in record.links],
    )
