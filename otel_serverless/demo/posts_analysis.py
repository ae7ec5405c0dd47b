"""Posts Analysis: a scheduled job fans work out through SQS, and each item runs a
Step Functions report (a sequence of Lambda tasks). Plain handlers, no tracing code.
"""

from __future__ import annotations

import json
import os
from typing import Any

from otel_serverless.demo import resources as r
from otel_serverless.demo.posts_upload import _client

#: The report state machine's ARN, given to the function as configuration.
MACHINE_ARN = "BLOG_DEMO_REPORT_STATE_MACHINE_ARN"


def _queue_url(name: str) -> str:
    return str(_client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def schedule(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Scheduled (EventBridge Scheduler): queue every post for re-analysis, ten per request."""
    items = _client("dynamodb").scan(TableName=r.POSTS_TABLE, ProjectionExpression="post_id")["Items"]
    post_ids = sorted(item["post_id"]["S"] for item in items)
    for start in range(0, len(post_ids), 10):
        chunk = post_ids[start : start + 10]
        _client("sqs").send_message_batch(
            QueueUrl=_queue_url(r.REANALYSIS_QUEUE),
            Entries=[{"Id": str(i), "MessageBody": json.dumps({"post_id": pid})} for i, pid in enumerate(chunk)],
        )
    return {"queued": len(post_ids)}


def reanalyze(event: dict[str, Any], context: Any) -> None:
    """SQS: start one report execution per post."""
    machine = os.environ[MACHINE_ARN]
    for record in event["Records"]:
        post_id = json.loads(record["body"])["post_id"]
        _client("stepfunctions").start_execution(stateMachineArn=machine, input=json.dumps({"post_id": post_id}))


def collect_stats(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Step Functions task 1: read the post's statistics."""
    item = _client("dynamodb").get_item(TableName=r.STATS_TABLE, Key={"post_id": {"S": event["post_id"]}})
    stats = {k: v.get("N") for k, v in item.get("Item", {}).items() if k != "post_id"}
    return {"post_id": event["post_id"], "stats": stats}


def write_report(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Step Functions task 2: store the report next to the post."""
    key = f"reports/{event['post_id']}.json"
    _client("s3").put_object(Bucket=r.POSTS_BUCKET, Key=key, Body=json.dumps(event).encode())
    return {"report": key}
