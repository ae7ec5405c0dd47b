"""A local serverless runtime: Python Lambda handlers, moto, and AWS's event delivery.

**A development tool**, for the demo, tests and trying out tracing without an AWS
account or Docker. It is faithful where tracing depends on it — event shapes,
request ids, retries and redeliveries, timeouts, cold starts, the real HTTP
calls a producer makes — and nothing more: no IAM, no billing, no isolation
between functions, no memory limit enforcement.

Usage::

    import boto3
    from otel_serverless.local import LocalRuntime, http_api_event
    from otel_serverless.aws_lambda import traced

    def upload(event, context):
        boto3.client("sqs").send_message(QueueUrl=QUEUE, MessageBody=event["body"])
        return {"statusCode": 202}

    def analyse(event, context):
        return {"batchItemFailures": []}

    with LocalRuntime(wrap=traced) as runtime:            # starts moto + the local Lambda API
        sqs = runtime.client("sqs")
        QUEUE = sqs.create_queue(QueueName="posts", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
        runtime.add_function("upload", upload, timeout=2)
        runtime.add_function("analyse", analyse, timeout=1, reserved_concurrency=2)
        runtime.sqs_trigger("posts", "analyse", batch_size=5, report_batch_item_failures=True)
        response = runtime.invoke("upload", http_api_event("POST", "/posts", body='{"title": "hi"}'))
        runtime.run_until_idle(timeout=20)              # pump every source until nothing is left
        for result in runtime.invocations:              # function, source, attempt, cold start, error …
            print(result.function_name, result.source, result.cold_start, result.error)

What runs where:

* **moto in server mode** (a child process on a free 127.0.0.1 port, or a given
  one) holds SQS, SNS, S3, DynamoDB, Kinesis, EventBridge. While the runtime
  runs, this process's environment points boto3 at it (``AWS_ENDPOINT_URL``,
  fake credentials, the region) and at the runtime's own HTTP server for Lambda
  and Step Functions (``AWS_ENDPOINT_URL_LAMBDA``, ``AWS_ENDPOINT_URL_SFN``), so
  a handler's plain ``boto3.client(...)`` makes real HTTP calls to 127.0.0.1 and
  nowhere else. Everything is restored by :meth:`LocalRuntime.stop`.
* **Functions** run in this process, each invocation in a worker thread, on a
  pool of instances per function (see :mod:`._functions`): a new instance — a
  cold start — on first use and whenever concurrency grows past the idle
  instances, up to ``reserved_concurrency``; the timeout is enforced (``Task
  timed out after N.NN seconds``; the instance is discarded). *wrap* is applied
  once per instance, so a wrapper sees each instance's handler as new; an
  instance is also identified by ``context.log_stream_name`` (constant per
  instance, unique across instances, as in Lambda) and, inside the handler, by
  :func:`current_instance`.
* **Event sources**, pumped by :meth:`LocalRuntime.run_until_idle` (or
  :meth:`LocalRuntime.run_in_background`): SQS event source mappings (batch
  size and window, visibility timeout, redelivery with a growing
  ``ApproximateReceiveCount``, redrive to a DLQ, ``batchItemFailures``); SNS to
  Lambda and to SQS (raw or not); EventBridge rules to a function or queue, and
  scheduled rules fired on demand; Kinesis and DynamoDB stream pollers (shard
  iterators, ordered batches, retry of a failed batch); S3 notifications; the
  Lambda Invoke API (``RequestResponse`` with ``ClientContext``, ``Event`` with
  Lambda's two retries under the same request id, a DLQ); Step Functions (a
  sequence of Lambda tasks through ``StartExecution``/``StartSyncExecution``).

Not faithful (by design or not yet): async retry delays are fractions of a
second (AWS: ~1 and ~2 minutes); functions share one process, so their
``environment`` variables must agree and ``AWS_LAMBDA_*`` variables are not set
process-wide (read them from :func:`current_instance`); ``_X_AMZN_TRACE_ID`` is
never set; stream mappings have no batch window, bisect-on-error or on-failure
destination; the 6 MB limit is checked on Invoke payloads but not on SQS batches;
only ``$LATEST`` exists (no versions or aliases); memory is reported, not limited.
"""

from __future__ import annotations

from otel_serverless.local._context import ClientContext, CognitoIdentity, LambdaContext
from otel_serverless.local._functions import (
    FunctionConfig,
    Handler,
    InstanceInfo,
    InvocationAbandoned,
    InvocationResult,
    current_instance,
)
from otel_serverless.local._runtime import LocalRuntime
from otel_serverless.local.sources.http_api import http_api_event

__all__ = [
    "ClientContext",
    "CognitoIdentity",
    "FunctionConfig",
    "Handler",
    "InstanceInfo",
    "InvocationAbandoned",
    "InvocationResult",
    "LambdaContext",
    "LocalRuntime",
    "current_instance",
    "http_api_event",
]
