"""A Lambda-like environment for benchmark processes: variables, a handler module, a context."""

from __future__ import annotations

import os
import tempfile
import textwrap
import uuid
from pathlib import Path
from typing import Any

HANDLER_MODULE = "bench_handler"

HANDLER_SOURCE = textwrap.dedent(
    '''
    """The user's handler: send one SQS message (when a queue is configured), answer."""
    import os

    import boto3

    _sqs = None


    def handler(event, context):
        global _sqs
        queue = os.environ.get("BENCH_QUEUE_URL")
        if queue:
            if _sqs is None:
                _sqs = boto3.client("sqs")
            _sqs.send_message(QueueUrl=queue, MessageBody="order-42")
        return {"statusCode": 200, "body": "ok"}
    '''
)


def handler_dir() -> Path:
    """A directory holding the handler module (what Lambda calls LAMBDA_TASK_ROOT)."""
    directory = Path(tempfile.mkdtemp(prefix="otel-serverless-bench-"))
    (directory / f"{HANDLER_MODULE}.py").write_text(HANDLER_SOURCE, encoding="utf-8")
    return directory


def environment(task_root: Path, otlp_endpoint: str, aws_endpoint: str = "") -> dict[str, str]:
    """The variables Lambda sets, plus the standard OTel ones, for both us and the peer."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "AWS_", "_HANDLER", "ORIG_HANDLER", "BENCH_"))
    }
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(task_root), env.get("PYTHONPATH", "")])),
            "LAMBDA_TASK_ROOT": str(task_root),
            "_HANDLER": f"{HANDLER_MODULE}.handler",
            "ORIG_HANDLER": f"{HANDLER_MODULE}.handler",
            "AWS_LAMBDA_FUNCTION_NAME": "bench-fn",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench-fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]0123456789abcdef",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "OTEL_SERVICE_NAME": "bench-fn",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
            # Favours the peer: the SDK would otherwise also set up metrics and logs exporters.
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_PROPAGATORS": "tracecontext,baggage",
        }
    )
    if aws_endpoint:
        env["AWS_ENDPOINT_URL"] = aws_endpoint
    return env


class LambdaContext:
    """The attributes of the Lambda runtime's context object that tracers read."""

    function_name = "bench-fn"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-fn"
    memory_limit_in_mb = 128
    log_group_name = "/aws/lambda/bench-fn"
    log_stream_name = "2024/01/01/[$LATEST]0123456789abcdef"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 30000


EVENT: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "POST /orders",
    "rawPath": "/orders",
    "rawQueryString": "",
    "headers": {"content-type": "application/json", "host": "api.example.com"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "api-id",
        "domainName": "api.example.com",
        "http": {"method": "POST", "path": "/orders", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1"},
        "requestId": "id",
        "routeKey": "POST /orders",
        "stage": "$default",
        "timeEpoch": 1700000000000,
    },
    "body": '{"order": 42}',
    "isBase64Encoded": False,
}
