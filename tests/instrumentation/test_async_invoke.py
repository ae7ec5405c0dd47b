"""An asynchronous Invoke keeps the trace: the caller's invoke span is the worker's parent.

Two fresh processes, each a function run through the exec wrapper. The caller invokes the
worker with ``InvocationType=Event`` (to a local endpoint speaking Lambda's Invoke API); the
worker then runs the way Lambda runs an async invocation: no client context, the request's
``X-Amzn-Trace-Id`` in ``_X_AMZN_TRACE_ID``. Both carry a platform header with ``Sampled=0``
too, which must not silence them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.aws_lambda.test_exec_wrapper_and_layer import WRAPPER
from tests.botocore.lambda_endpoint import lambda_endpoint
from tests.instrumentation.test_calls_out import BOOTSTRAP_60S

CALLER = textwrap.dedent(
    """
    import boto3

    def handler(event, context):
        boto3.client("lambda").invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"order": "o-1"}')
        return {"statusCode": 200, "body": event["order"]}
    """
)

WORKER = textwrap.dedent(
    """
    def handler(event, context):
        return {"statusCode": 200, "body": event["order"]}
    """
)

#: The invocation span's name: the function name the runtime stand-in's context reports.
INVOCATION = "orders"

#: What Lambda sets for an invocation nobody traced, when the function has no active X-Ray tracing.
PLATFORM_UNSAMPLED = "Root=1-6759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:0"


def run_function(tmp_path: Path, name: str, source: str, trace_header: str, env: dict[str, str]) -> list[Any]:
    root = tmp_path / name
    root.mkdir()
    (root / "app.py").write_text(source)
    (root / "bootstrap.py").write_text(BOOTSTRAP_60S)
    environ = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(root),
        "_HANDLER": "app.handler",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_SERVERLESS_STATE_DIR": str(root),
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_CONFIG_FILE": os.devnull,
        "_X_AMZN_TRACE_ID": trace_header,
        **env,
    }
    done = subprocess.run(
        [str(WRAPPER), sys.executable, str(root / "bootstrap.py"), json.dumps({"order": "o-1"})],
        env=environ,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed, _, result = done.stdout.partition("\nRESULT ")
    assert json.loads(result) == {"statusCode": 200, "body": "o-1"}
    decoder = json.JSONDecoder()
    spans, position = [], printed.find("{")
    while position != -1:
        span, end = decoder.raw_decode(printed, position)
        spans.append(span)
        position = printed.find("{", end)
    return spans


def test_async_invoke_worker_is_in_the_callers_trace(tmp_path: Path) -> None:
    with lambda_endpoint() as endpoint:
        caller = run_function(tmp_path, "caller", CALLER, PLATFORM_UNSAMPLED, {"AWS_ENDPOINT_URL_LAMBDA": endpoint.url})
    (request,) = endpoint.received
    assert request.headers["X-Amz-Invocation-Type"] == "Event"
    header = request.headers["X-Amzn-Trace-Id"]

    (invocation,) = [s for s in caller if s["name"] == INVOCATION]
    (invoke,) = [s for s in caller if s["attributes"].get("rpc.method") == "Invoke"]
    trace_id = invoke["context"]["trace_id"].removeprefix("0x")
    # The caller was not silenced by the platform's Sampled=0: a trace of its own, linked to that header.
    assert trace_id != "6759e988bd862e3fe1be46a994272793"
    assert invocation["parent_id"] is None
    assert [link["attributes"] for link in invocation["links"]] == [{"serverless.link.xray_unsampled": True}]
    assert invoke["parent_id"] == invocation["context"]["span_id"]
    # The header: the invoke span, sampled; the platform's Lineage kept for recursive loop detection.
    span_id = invoke["context"]["span_id"].removeprefix("0x")
    assert header == f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={span_id};Sampled=1;Lineage=a87bd80c:0"

    worker = run_function(tmp_path, "worker", WORKER, header, {})
    (run,) = [s for s in worker if s["name"] == INVOCATION]
    assert run["context"]["trace_id"].removeprefix("0x") == trace_id
    assert run["parent_id"] == invoke["context"]["span_id"]
    assert run["attributes"]["faas.trigger"] == "other"


def test_a_platform_header_with_sampled_0_does_not_silence_the_worker(tmp_path: Path) -> None:
    worker = run_function(tmp_path, "worker", WORKER, PLATFORM_UNSAMPLED, {})
    (run,) = [s for s in worker if s["name"] == INVOCATION]
    assert run["parent_id"] is None
    assert run["context"]["trace_id"] != "0x6759e988bd862e3fe1be46a994272793"
    (link,) = run["links"]
    assert link["context"]["trace_id"] == "0x6759e988bd862e3fe1be46a994272793"
    assert link["context"]["span_id"] == "0x53995c3f42cd8ad8"
