"""Every call out, with no code change: a plain handler run through the exec wrapper in a fresh process.

The handler calls a local echo server with urllib, requests, httpx (sync and async) and aiohttp, and
AWS (moto) with boto3: DynamoDB GetItem, S3 GetObject, and CloudWatch ListMetrics through a proxy that
throttles it twice. It is run from the package and from a built layer (only the layer, the runtime's
own libraries and the function's on the path). Asserted: the spans, their parents and attributes, the
retry events, and the headers the echo server received.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.aws_lambda.test_exec_wrapper_and_layer import BOOTSTRAP, WRAPPER
from tests.instrumentation._servers import Proxy, Seen

APP = textwrap.dedent(
    """
    import asyncio, os, urllib.request

    import aiohttp, boto3, httpx, requests

    ECHO = os.environ["ECHO_URL"]


    async def async_calls():
        async with httpx.AsyncClient() as client:
            (await client.get(ECHO + "/httpx-async")).raise_for_status()
        async with aiohttp.ClientSession() as session:
            async with session.get(ECHO + "/aiohttp") as response:
                response.raise_for_status()


    def handler(event, context):
        urllib.request.urlopen(ECHO + "/urllib", timeout=10).read()
        requests.get(ECHO + "/requests", timeout=10).raise_for_status()
        httpx.get(ECHO + "/httpx").raise_for_status()
        asyncio.run(async_calls())
        boto3.client("dynamodb").get_item(TableName="orders", Key={"id": {"S": "o-1"}})
        boto3.client("s3").get_object(Bucket="posts", Key="p-1.json")["Body"].read()
        boto3.client("cloudwatch").list_metrics(Namespace="Blog")
        return {"statusCode": 200, "body": event["order"]}
    """
)

#: The runtime stand-in, with time for botocore's backoff between throttled attempts.
BOOTSTRAP_60S = BOOTSTRAP.replace("time.monotonic() + 3", "time.monotonic() + 60")
assert BOOTSTRAP_60S != BOOTSTRAP

HTTP_PATHS = ("/urllib", "/requests", "/httpx", "/httpx-async", "/aiohttp")


def run_handler(wrapper: Path, python: list[str], path: list[Path], tmp_path: Path, servers: Any) -> list[Any]:
    seen, proxy, moto = servers
    root = tmp_path / "task"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / "bootstrap.py").write_text(BOOTSTRAP_60S)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join(str(p) for p in [*path, root]),
        "_HANDLER": "app.handler",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_SERVERLESS_STATE_DIR": str(root),
        "AWS_LAMBDA_FUNCTION_NAME": "orders",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": moto,
        "AWS_ENDPOINT_URL_CLOUDWATCH": proxy.url,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_CONFIG_FILE": os.devnull,
        "ECHO_URL": seen.url,
    }
    done = subprocess.run(
        [str(wrapper), *python, str(root / "bootstrap.py"), json.dumps({"order": "o-1"})],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    printed, _, result = done.stdout.partition("\nRESULT ")
    assert json.loads(result) == {"statusCode": 200, "body": "o-1"}
    assert "Traceback" not in done.stderr, done.stderr[-4000:]
    decoder = json.JSONDecoder()
    spans, position = [], printed.find("{")
    while position != -1:
        span, end = decoder.raw_decode(printed, position)
        spans.append(span)
        position = printed.find("{", end)
    return spans


def check_calls_out(spans: list[Any], seen: Seen, proxy: Proxy) -> None:
    (invocation,) = [s for s in spans if s["name"] == "orders"]
    trace_id = invocation["context"]["trace_id"]
    assert all(s["context"]["trace_id"] == trace_id for s in spans), "one trace"
    children = [s for s in spans if s["parent_id"] == invocation["context"]["span_id"]]

    # HTTP: one CLIENT span per call (urllib3 under requests and botocore adds none), each carrying its context.
    http = [s for s in children if s["attributes"].get("http.url", s["attributes"].get("url.full", ""))]
    assert sorted(s["attributes"].get("http.url") or s["attributes"]["url.full"] for s in http) == sorted(
        seen.url + path for path in HTTP_PATHS
    )
    assert all(s["kind"] == "SpanKind.CLIENT" and s["name"] == "GET" for s in http)
    assert [s for s in spans if s["kind"] == "SpanKind.CLIENT"] == [
        s for s in spans if s["kind"] == "SpanKind.CLIENT" and s["parent_id"] == invocation["context"]["span_id"]
    ], "nothing nested under a client span"
    by_path = {(s["attributes"].get("http.url") or s["attributes"]["url.full"]).removeprefix(seen.url): s for s in http}
    for path in HTTP_PATHS:
        traceparent = seen.headers(path)["traceparent"]
        span_id = by_path[path]["context"]["span_id"].removeprefix("0x")
        version, traced, parent, flags = traceparent.split("-")
        assert (version, traced, parent) == ("00", trace_id.removeprefix("0x"), span_id), path
        assert int(flags, 16) & 1, "sampled"

    # AWS: one CLIENT span per call, reads included, with the service, operation, region, request id, status.
    aws = {s["name"]: s for s in children if s["attributes"].get("rpc.system") == "aws-api"}
    assert set(aws) == {"DynamoDB.GetItem", "S3.GetObject", "CloudWatch.ListMetrics"}
    for name, span in aws.items():
        attributes = span["attributes"]
        assert span["kind"] == "SpanKind.CLIENT"
        assert (attributes["rpc.service"], attributes["rpc.method"]) == tuple(name.split("."))
        assert attributes["cloud.region"] == "us-east-1"
        assert attributes["aws.request_id"], name
        assert attributes["http.response.status_code"] == 200
        assert attributes["server.address"] == "127.0.0.1" and attributes["server.port"] > 0
    assert aws["DynamoDB.GetItem"]["attributes"]["aws.dynamodb.table_names"] == ["orders"]
    assert aws["S3.GetObject"]["attributes"]["aws.s3.bucket"] == "posts"
    assert aws["S3.GetObject"]["attributes"]["aws.s3.key"] == "p-1.json"
    assert aws["DynamoDB.GetItem"]["attributes"]["aws.retry_attempts"] == 0
    assert aws["DynamoDB.GetItem"]["events"] == []

    # Throttling: two attempts throttled and retried, the third answered.
    assert proxy.throttled == 2
    throttled = aws["CloudWatch.ListMetrics"]
    assert throttled["attributes"]["aws.retry_attempts"] == 2
    assert throttled["attributes"]["serverless.aws.throttled_attempts"] == 2
    assert throttled["status"]["status_code"] == "UNSET"
    retries = [event for event in throttled["events"] if event["name"] == "aws.retry"]
    assert [event["attributes"]["serverless.retry.attempt"] for event in retries] == [1, 2]
    for event in retries:
        assert event["attributes"]["error.type"] == "Throttling"
        assert event["attributes"]["http.response.status_code"] == 400
        assert event["attributes"]["serverless.aws.throttled"] is True


def test_every_call_out_through_the_exec_wrapper(tmp_path: Path, servers: tuple[Seen, Proxy, str]) -> None:
    spans = run_handler(WRAPPER, [sys.executable], [], tmp_path, servers)
    check_calls_out(spans, servers[0], servers[1])
