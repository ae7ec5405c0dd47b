"""DynamoDB Streams → Lambda: stream records in the shape of Lambda's DynamoDB event."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from otel_serverless.local._functions import FunctionPool
from otel_serverless.local.sources._base import Host
from otel_serverless.local.sources._streams import StreamEventSource


class DynamoDBStreamReader:
    def __init__(self, host: Host, table_name: str) -> None:
        table = host.client("dynamodb").describe_table(TableName=table_name)["Table"]
        if "LatestStreamArn" not in table:
            raise ValueError(f"table {table_name!r} has no stream (StreamSpecification.StreamEnabled)")
        self.stream_arn: str = table["LatestStreamArn"]
        self._client = host.client("dynamodbstreams")

    def shards(self) -> list[str]:
        description = self._client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description["Shards"]]

    def iterator(self, shard: str, position: str) -> str:
        response = self._client.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType=position)
        iterator: str = response["ShardIterator"]
        return iterator

    def read(self, shard: str, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        response = self._client.get_records(ShardIterator=iterator, Limit=min(limit, 1000))
        records = [self._record(record) for record in response.get("Records", [])]
        return records, response.get("NextShardIterator")

    def _record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        converted = dict(record)
        dynamodb = dict(converted.get("dynamodb", {}))
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime.datetime):
            # Lambda's event has whole epoch seconds here, as a number.
            dynamodb["ApproximateCreationDateTime"] = float(int(created.timestamp()))
        converted["dynamodb"] = dynamodb
        converted["eventSourceARN"] = self.stream_arn
        return converted

    @staticmethod
    def sequence_number(record: Mapping[str, Any]) -> str:
        sequence: str = record["dynamodb"]["SequenceNumber"]
        return sequence


def dynamodb_source(host: Host, pool: FunctionPool, table_name: str, **options: Any) -> StreamEventSource:
    reader = DynamoDBStreamReader(host, table_name)
    return StreamEventSource(
        host, pool, reader, source="dynamodb", description=f"dynamodb:{table_name} → {pool.config.name}", **options
    )
