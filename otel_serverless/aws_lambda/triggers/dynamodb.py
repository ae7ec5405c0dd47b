"""DynamoDB Streams: a batch trigger; ``faas.document.*`` per the FaaS conventions."""

from __future__ import annotations

from typing import Any, Final

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _correlation, _extract, _streams

_OPERATIONS: Final = {"INSERT": "insert", "MODIFY": "edit", "REMOVE": "delete"}


def table_name(arn: str | None) -> str | None:
    """``arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`` → name."""
    if not arn or ":table/" not in arn:
        return None
    return arn.split(":table/", 1)[1].split("/", 1)[0] or None


def detect(event: Any, context: Any) -> base.Trigger | None:
    found = base.records(event, "eventSource", "aws:dynamodb")
    if found is None:
        return None
    table = table_name(base.text(found[0], "eventSourceARN"))
    records: list[base.Record] = []
    for index, raw in enumerate(found):
        stream = base.mapping(raw, "dynamodb")
        sequence = base.text(stream, "SequenceNumber", 128)
        record_table = table_name(base.text(raw, "eventSourceARN")) or table
        attributes: base.Attributes = {}
        base.put(attributes, attr.MESSAGING_MESSAGE_ID, sequence)
        base.put(attributes, attr.FAAS_DOCUMENT_COLLECTION, record_table)
        base.put(attributes, attr.FAAS_DOCUMENT_OPERATION, _OPERATIONS.get(base.text(raw, "eventName", 16) or ""))
        record = base.Record(
            index=index,
            source=raw,
            message_id=sequence,
            parent=_extract.call("dynamodb", "extract_stream_record", raw),
            item_id=sequence,
            sequence_key=_streams.sequence_key(base.text(raw, "eventSourceARN"), sequence),
            attributes=attributes,
        )
        made = _correlation.dynamodb_link(record_table, base.mapping(stream, "Keys"))
        if made is not None:
            record.links.append(made)
        records.append(record)
    attributes = {attr.MESSAGING_BATCH_MESSAGE_COUNT: len(records)}
    base.put(attributes, attr.FAAS_DOCUMENT_COLLECTION, table)
    if table:
        attributes[attr.AWS_DYNAMODB_TABLE_NAMES] = (table,)
    return base.Trigger(
        name="dynamodb",
        faas_trigger=base.DATASOURCE,
        attributes=attributes,
        records=records,
        batch=True,
        destination=table,
    )
