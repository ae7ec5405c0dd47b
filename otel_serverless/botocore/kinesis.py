"""Kinesis PutRecord / PutRecords: context in JSON-object data; stream, key, shard, sequence on the span."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless.botocore import _config
from otel_serverless.botocore._base import Extension, Params, bodies, entries, messaging
from otel_serverless.propagation import kinesis
from otel_serverless.propagation._carrier import Fields

SYSTEM = "aws_kinesis"


def stream(params: Params) -> str:
    for name in ("StreamName", "StreamARN"):
        value = params.get(name)
        if isinstance(value, str) and value:
            return kinesis.stream_name(value)
    return "unknown"


class KinesisExtension(Extension):
    service = "kinesis"
    operations = frozenset({"PutRecord", "PutRecords"})

    def span_name(self) -> str:
        return f"send {stream(self.call.params)}"

    def attributes(self, params: Params) -> dict[str, AttributeValue]:
        batch = self.call.operation == "PutRecords"
        records = entries(params, "Records")
        attributes = messaging(SYSTEM, stream(params), self.call.operation, len(records) if batch else None)
        attributes[attr.AWS_KINESIS_STREAM_NAME] = stream(params)
        key = params.get("PartitionKey")
        if not batch and isinstance(key, str):
            attributes[attr.KINESIS_PARTITION_KEY] = key
        return attributes

    def inject(self, params: Params, fields: Fields) -> Params:
        max_bytes = _config.read().kinesis_max_record_bytes
        if self.call.operation == "PutRecord":
            new, outcome = kinesis.inject_record(params, fields, max_bytes=max_bytes)
            self.call.outcomes.append(outcome)
            return new
        records, outcomes = kinesis.inject_records(entries(params, "Records"), fields, max_bytes=max_bytes)
        self.call.outcomes.extend(outcomes)
        return {**params, "Records": records}

    def message(self, params: Params) -> Any:
        return bodies(params, "Data", "Records", "Data")

    def result_attributes(self, result: Mapping[str, Any]) -> dict[str, AttributeValue]:
        name = stream(self.call.params)
        if self.call.operation == "PutRecord":
            shard, sequence = result.get("ShardId"), result.get("SequenceNumber")
            if not isinstance(shard, str) or not isinstance(sequence, str):
                return {}
            self.call.correlation_ids.append(kinesis.correlation_key(name, shard, sequence))
            return {
                attr.KINESIS_SHARD_ID: shard,
                attr.KINESIS_SEQUENCE_NUMBER: sequence,
                attr.MESSAGING_MESSAGE_ID: sequence,
                attr.MESSAGING_DESTINATION_PARTITION_ID: shard,
            }
        for record in result.get("Records") or ():
            if isinstance(record, Mapping):
                shard, sequence = record.get("ShardId"), record.get("SequenceNumber")
                if isinstance(shard, str) and isinstance(sequence, str):
                    self.call.correlation_ids.append(kinesis.correlation_key(name, shard, sequence))
        return {}
