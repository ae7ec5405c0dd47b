"""The demo's infrastructure: resources in moto and functions on the local runtime.

This is the demo's "template" (what SAM or CDK would deploy): queues, topic,
stream, tables, bus, rules, the state machine, and which handler runs where with
which timeout and memory. The handlers themselves know nothing of tracing.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from otel_serverless.demo import posts_analysis, posts_upload, read_posts
from otel_serverless.demo import resources as r
from otel_serverless.local import LocalRuntime

#: Function name → (handler, timeout s, memory MiB). The names are the services in Jaeger.
UPLOAD = "upload-post"
COUNT_WORDS = "count-words"
SCORE_SENTIMENT = "score-sentiment"
AGGREGATE = "aggregate-stats"
NOTIFY = "notify-analyzed"
PUBLISH_FEED = "publish-feed"
SCHEDULE = "schedule-analysis"
REANALYZE = "reanalyze-post"
COLLECT = "collect-stats"
REPORT = "write-report"
READ = "read-post"

# Large enough that the process's shared peak memory does not look like pressure, except
# for the aggregator, whose memory fault fills most of its smaller allowance.
_MEMORY = 2048
_AGGREGATOR_MEMORY = 512
#: How long the slow "external API" takes with the timeout fault on, beyond the reader's timeout.
SLOW_API_SECONDS = 1.6
READER_TIMEOUT = 1.0


@dataclass(frozen=True)
class Function:
    name: str
    handler: Any
    timeout: float = 3.0
    memory_mb: int = _MEMORY


FUNCTIONS = (
    Function(UPLOAD, posts_upload.upload),
    Function(COUNT_WORDS, posts_upload.count_words, timeout=1.0),
    Function(SCORE_SENTIMENT, posts_upload.score_sentiment, timeout=1.0),
    Function(AGGREGATE, posts_upload.aggregate, memory_mb=_AGGREGATOR_MEMORY),
    Function(NOTIFY, posts_upload.notify),
    Function(PUBLISH_FEED, posts_upload.publish_feed),
    Function(SCHEDULE, posts_analysis.schedule),
    Function(COLLECT, posts_analysis.collect_stats),
    Function(REPORT, posts_analysis.write_report),
    Function(READ, read_posts.read, timeout=READER_TIMEOUT),
)


class _Recommendations(BaseHTTPRequestHandler):
    """A partner API that is slow when asked to be (the timeout fault)."""

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        if query.get("slow") == ["1"]:
            time.sleep(SLOW_API_SECONDS)
        else:
            time.sleep(0.05)
        body = json.dumps({"recommended": ["serverless-tracing-101", "cold-starts-explained"]}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            return  # the caller gave up (it timed out): nothing to answer

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def recommendations_api() -> Iterator[str]:
    """Serve the partner API on a free 127.0.0.1 port; yield its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recommendations)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-recommendations", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/recommendations"
    finally:
        server.shutdown()
        server.server_close()


def _queue(sqs: Any, name: str, *, visibility: int = 2, dlq: bool = True) -> str:
    attributes = {"VisibilityTimeout": str(visibility)}
    if dlq:
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


def _table(dynamodb: Any, name: str, *, stream: bool = False) -> None:
    options: dict[str, Any] = {}
    if stream:
        options["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "post_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "post_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **options,
    )


def report_definition(runtime: LocalRuntime) -> dict[str, Any]:
    """Collect, then write. ``ResultPath`` keeps each task's input (with the execution's trace
    context in it) and adds the result beside it, so every task sees the context."""

    def arn(function: str) -> str:
        return f"arn:aws:lambda:{runtime.region}:{runtime.account_id}:function:{function}"

    return {
        "StartAt": "Collect",
        "States": {
            "Collect": {"Type": "Task", "Resource": arn(COLLECT), "ResultPath": "$.collected", "Next": "Write"},
            "Write": {"Type": "Task", "Resource": arn(REPORT), "ResultPath": "$.report", "End": True},
        },
    }


def deploy(runtime: LocalRuntime, recommendations_url: str) -> None:
    """Create every resource and wire every function, as a deployment would."""
    sqs, sns = runtime.client("sqs"), runtime.client("sns")
    dynamodb, kinesis, events = runtime.client("dynamodb"), runtime.client("kinesis"), runtime.client("events")
    runtime.client("s3").create_bucket(Bucket=r.POSTS_BUCKET)
    _table(dynamodb, r.POSTS_TABLE)
    _table(dynamodb, r.STATS_TABLE, stream=True)
    _table(dynamodb, r.FEED_TABLE)
    kinesis.create_stream(StreamName=r.STATS_STREAM, ShardCount=1)
    events.create_event_bus(Name=r.EVENT_BUS)
    topic = sns.create_topic(Name=r.UPLOADED_TOPIC)["TopicArn"]
    _queue(sqs, r.WORDS_QUEUE)
    _queue(sqs, r.SENTIMENT_QUEUE)
    _queue(sqs, r.REANALYSIS_QUEUE, visibility=5, dlq=False)

    for function in FUNCTIONS:
        environment = {read_posts.RECOMMENDATIONS_URL: recommendations_url} if function.name == READ else None
        runtime.add_function(
            function.name,
            function.handler,
            timeout=function.timeout,
            memory_mb=function.memory_mb,
            environment=environment,
        )
    machine = runtime.state_machine(r.REPORT_STATE_MACHINE, report_definition(runtime))
    runtime.add_function(
        REANALYZE, posts_analysis.reanalyze, memory_mb=_MEMORY, environment={posts_analysis.MACHINE_ARN: machine}
    )

    # Posts Upload: SNS fans out to two queues, one raw, one with the SNS envelope.
    runtime.sns_subscribe_queue(topic, r.WORDS_QUEUE, raw=True)
    runtime.sns_subscribe_queue(topic, r.SENTIMENT_QUEUE, raw=False)
    runtime.sqs_trigger(r.WORDS_QUEUE, COUNT_WORDS, batch_size=10, report_batch_item_failures=True)
    runtime.sqs_trigger(r.SENTIMENT_QUEUE, SCORE_SENTIMENT, batch_size=10)
    runtime.kinesis_trigger(r.STATS_STREAM, AGGREGATE, batch_size=100, starting_position="TRIM_HORIZON")
    runtime.dynamodb_trigger(r.STATS_TABLE, NOTIFY, batch_size=100, starting_position="TRIM_HORIZON")
    runtime.eventbridge_rule(
        "post-analyzed",
        event_pattern={"source": ["blog.analysis"], "detail-type": ["PostAnalyzed"]},
        function=PUBLISH_FEED,
        bus=r.EVENT_BUS,
    )
    # Posts Analysis: a schedule, a queue, a state machine.
    runtime.schedule("nightly-analysis", SCHEDULE, "cron(0 3 * * ? *)")
    runtime.sqs_trigger(r.REANALYSIS_QUEUE, REANALYZE, batch_size=10)
