"""Kinesis stream → Lambda: records in the shape of Lambda's Kinesis event."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from otel_serverless.local._functions import FunctionPool
from otel_serverless.local.sources._base import Host
from otel_serverless.local.sources._streams import StreamEventSource


class KinesisReader:
    def __init__(self, host: Host, stream_name: str, function_name: str) -> None:
        self._client = host.client("kinesis")
        self._stream = stream_name
        summary = self._client.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
        self.stream_arn: str = summary["StreamARN"]
        self._region = self.stream_arn.split(":")[3]
        # Lambda reads with the function's execution role; locally it has a conventional name.
        self._role_arn = f"arn:aws:iam::{host.account_id}:role/{function_name}-role"

    def shards(self) -> list[str]:
        return [shard["ShardId"] for shard in self._client.list_shards(StreamName=self._stream)["Shards"]]

    def iterator(self, shard: str, position: str) -> str:
        response = self._client.get_shard_iterator(StreamName=self._stream, ShardId=shard, ShardIteratorType=position)
        iterator: str = response["ShardIterator"]
        return iterator

    def read(self, shard: str, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        response = self._client.get_records(ShardIterator=iterator, Limit=min(limit, 10000))
        records = [self._record(shard, record) for record in response.get("Records", [])]
        return records, response.get("NextShardIterator")

    def _record(self, shard: str, record: Mapping[str, Any]) -> dict[str, Any]:
        sequence = record["SequenceNumber"]
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": record["PartitionKey"],
                "sequenceNumber": sequence,
                "data": base64.b64encode(record["Data"]).decode(),
                "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard}:{sequence}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": self._role_arn,
            "awsRegion": self._region,
            "eventSourceARN": self.stream_arn,
        }

    @staticmethod
    def sequence_number(record: Mapping[str, Any]) -> str:
        sequence: str = record["kinesis"]["sequenceNumber"]
        return sequence


def kinesis_source(host: Host, pool: FunctionPool, stream_name: str, **options: Any) -> StreamEventSource:
    reader = KinesisReader(host, stream_name, pool.config.name)
    return StreamEventSource(
        host, pool, reader, source="kinesis", description=f"kinesis:{stream_name} → {pool.config.name}", **options
    )
