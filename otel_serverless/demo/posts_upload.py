"""Posts Upload: HTTP API → upload → S3 + SNS → SQS fan-out → analysis → Kinesis →
aggregator → DynamoDB → stream → notifier → EventBridge → feed publisher.

Plain Lambda handlers: there is no tracing code here. Everything the traces show
comes from otel-serverless wiring, which is the product's promise.
"""

from __future__ import annotations

import base64
import json
import resource
import time
import uuid
from typing import Any

import boto3

from otel_serverless.demo import resources as r

_clients: dict[str, Any] = {}


def _client(service: str) -> Any:
    # Created once per instance, as a real function would, outside the hot path.
    if service not in _clients:
        # boto3-stubs overloads client() per literal service name; ours is a variable.
        _clients[service] = boto3.client(service)  # type: ignore[call-overload]
    return _clients[service]


def _topic_arn() -> str:
    return str(_client("sns").create_topic(Name=r.UPLOADED_TOPIC)["TopicArn"])


def upload(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """POST /posts: store the post in S3 and announce it on SNS."""
    body = json.loads(event.get("body") or "{}")
    post_id = body.get("id") or uuid.uuid4().hex[:12]
    key = f"posts/{post_id}.json"
    post = {"id": post_id, "title": body.get("title", ""), "text": body.get("text", ""), "author": body.get("author")}
    _client("s3").put_object(Bucket=r.POSTS_BUCKET, Key=key, Body=json.dumps(post).encode())
    _client("dynamodb").put_item(
        TableName=r.POSTS_TABLE, Item={"post_id": {"S": post_id}, "title": {"S": post["title"]}}
    )
    message: dict[str, Any] = {"post_id": post_id, "bucket": r.POSTS_BUCKET, "key": key}
    if r.fault_on("contract") and body.get("legacy"):
        # The contract mismatch: an old client's shape the analysers no longer accept.
        message = {"postId": post_id, "location": f"s3://{r.POSTS_BUCKET}/{key}"}
    _client("sns").publish(
        TopicArn=_topic_arn(),
        Message=json.dumps(message),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "post"}},
    )
    return {"statusCode": 201, "body": json.dumps({"id": post_id})}


def _post_from(message: dict[str, Any]) -> dict[str, Any]:
    obj = _client("s3").get_object(Bucket=message["bucket"], Key=message["key"])
    post: dict[str, Any] = json.loads(obj["Body"].read())
    return post


def _put_stat(post_id: str, metric: str, value: float) -> None:
    _client("kinesis").put_record(
        StreamName=r.STATS_STREAM,
        Data=json.dumps({"post_id": post_id, "metric": metric, "value": value}).encode(),
        PartitionKey=post_id,
    )


_seen_attempts: dict[str, int] = {}


def count_words(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS (raw SNS delivery): count words; fails the first attempt of some posts (intermittent)."""
    failures = []
    for record in event["Records"]:
        message = json.loads(record["body"])
        attempt = int(record["attributes"]["ApproximateReceiveCount"])
        if r.fault_on("intermittent") and attempt == 1 and message.get("post_id", "").startswith(("0", "1", "2", "3")):
            # A flaky dependency: this message will be redelivered and succeed.
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        post = _post_from(message)
        _put_stat(post["id"], "words", len(post["text"].split()))
    return {"batchItemFailures": failures}


def score_sentiment(event: dict[str, Any], context: Any) -> None:
    """SQS (SNS envelope): a crude sentiment score. Raises on a message of the wrong shape."""
    for record in event["Records"]:
        envelope = json.loads(record["body"])
        message = json.loads(envelope["Message"])
        post = _post_from(message)  # KeyError on the legacy shape: the contract mismatch
        text = post["text"].lower()
        score = sum(text.count(w) for w in ("good", "great", "love")) - sum(text.count(w) for w in ("bad", "hate"))
        _put_stat(post["id"], "sentiment", float(score))


def _resident_bytes() -> int:
    """What the process holds now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def aggregate(event: dict[str, Any], context: Any) -> None:
    """Kinesis: fold each statistic into the post's DynamoDB item."""
    if r.fault_on("memory"):
        # Close to the memory limit (93 %): a buffer as large as a careless aggregation would build,
        # on top of what the process already holds (in Lambda that would be its own runtime).
        budget = int(getattr(context, "memory_limit_in_mb", 128)) * 1024 * 1024
        held = _resident_bytes()
        ballast = b"\x01" * max(0, int(budget * 0.93) - held)  # written, so the pages are really resident
        del ballast
    for record in event["Records"]:
        stat = json.loads(base64.b64decode(record["kinesis"]["data"]))
        _client("dynamodb").update_item(
            TableName=r.STATS_TABLE,
            Key={"post_id": {"S": stat["post_id"]}},
            UpdateExpression="SET #m = :v",
            ExpressionAttributeNames={"#m": stat["metric"]},
            ExpressionAttributeValues={":v": {"N": str(stat["value"])}},
        )


def notify(event: dict[str, Any], context: Any) -> None:
    """DynamoDB stream: when a post has all its statistics, tell the world on EventBridge."""
    for record in event["Records"]:
        image = record.get("dynamodb", {}).get("NewImage", {})
        if "words" in image and "sentiment" in image:
            _client("events").put_events(
                Entries=[
                    {
                        "EventBusName": r.EVENT_BUS,
                        "Source": "blog.analysis",
                        "DetailType": "PostAnalyzed",
                        "Detail": json.dumps(
                            {
                                "post_id": image["post_id"]["S"],
                                "words": float(image["words"]["N"]),
                                "sentiment": float(image["sentiment"]["N"]),
                            }
                        ),
                    }
                ]
            )


def publish_feed(event: dict[str, Any], context: Any) -> None:
    """EventBridge target: put the analysed post on the public feed."""
    detail = event["detail"]
    _client("dynamodb").put_item(
        TableName=r.FEED_TABLE,
        Item={"post_id": {"S": detail["post_id"]}, "published_at": {"N": str(int(time.time()))}},
    )
