"""Fixtures of the calls-out tests: AWS resources in moto, the echo server and the throttling proxy."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from tests.instrumentation._servers import Proxy, Seen, echo_server, throttling_proxy


@pytest.fixture
def resources(aws: str) -> str:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="orders", Item={"id": {"S": "o-1"}})
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="posts")
    s3.put_object(Bucket="posts", Key="p-1.json", Body=b"{}")
    return aws


@pytest.fixture
def servers(resources: str) -> Iterator[tuple[Seen, Proxy, str]]:
    with echo_server() as seen, throttling_proxy(resources, "ListMetrics", times=2) as proxy:
        yield seen, proxy, resources
