"""The Lambda Invoke API over real HTTP, as a producer's boto3 calls it."""

from __future__ import annotations

import base64
import json
import os
import threading
from typing import Any

import boto3
import pytest
from botocore.config import Config

from otel_serverless.local import LocalRuntime

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def test_boto3_in_a_handler_reaches_the_local_endpoints(runtime: LocalRuntime) -> None:
    assert os.environ["AWS_ENDPOINT_URL_LAMBDA"] == runtime.local_endpoint
    assert os.environ["AWS_ENDPOINT_URL"] == runtime.moto_endpoint
    assert runtime.local_endpoint.startswith("http://127.0.0.1:")


def test_sync_invoke_passes_the_client_context(runtime: LocalRuntime) -> None:
    seen: dict[str, Any] = {}

    def handler(event: Any, context: Any) -> dict[str, Any]:
        seen["custom"] = context.client_context.custom
        seen["event"] = event
        return {"ok": True}

    runtime.add_function("target", handler)
    client_context = base64.b64encode(json.dumps({"custom": {"traceparent": "00-abc"}}).encode()).decode()
    response = boto3.client("lambda").invoke(
        FunctionName="target", Payload=json.dumps({"a": 1}), ClientContext=client_context, LogType="Tail"
    )
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"ok": True}
    assert seen == {"custom": {"traceparent": "00-abc"}, "event": {"a": 1}}
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["ResponseMetadata"]["RequestId"] == runtime.invocations[0].request_id
    assert "REPORT RequestId" in base64.b64decode(response["LogResult"]).decode()


def test_function_errors_come_back_as_aws_sends_them(runtime: LocalRuntime) -> None:
    def handler(event: Any, context: Any) -> None:
        raise ValueError("bad post")

    runtime.add_function("fails", handler)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:fails"
    response = boto3.client("lambda").invoke(FunctionName=arn, Payload=b"{}")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"].read())
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "bad post"


def test_api_errors_are_aws_errors(runtime: LocalRuntime) -> None:
    runtime.add_function("f", lambda event, context: None)
    client = boto3.client("lambda", config=NO_RETRIES)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="nope", Payload=b"{}")
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="f", Payload=b"{not json")
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="f", Payload=b"{}", ClientContext="!!not base64!!")
    # What AWS really answers (not the modelled RequestTooLargeException).
    with pytest.raises(client.exceptions.ClientError) as info:
        client.invoke(FunctionName="f", InvocationType="Event", Payload=json.dumps({"x": "y" * 300_000}))
    assert info.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert client.invoke(FunctionName="f", InvocationType="DryRun")["StatusCode"] == 204
    assert runtime.invocations == []


def test_a_throttled_sync_invoke_is_a_429(runtime: LocalRuntime) -> None:
    entered, release = threading.Event(), threading.Event()

    def handler(event: Any, context: Any) -> None:
        entered.set()
        release.wait(10)

    runtime.add_function("one", handler, reserved_concurrency=1, timeout=15)
    runtime.invoke_async("one", {})
    assert entered.wait(10)
    client = boto3.client("lambda", config=NO_RETRIES)
    try:
        with pytest.raises(client.exceptions.TooManyRequestsException):
            client.invoke(FunctionName="one", Payload=b"{}")
    finally:
        release.set()
    assert runtime.run_until_idle(timeout=20)


def test_async_invoke_retries_twice_with_the_same_request_id_then_dead_letters(runtime: LocalRuntime) -> None:
    sqs = runtime.client("sqs")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    contexts: list[Any] = []

    def handler(event: Any, context: Any) -> None:
        contexts.append(context)
        raise RuntimeError("always")

    runtime.add_function("flaky", handler, dead_letter_queue="dlq")
    client_context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    response = boto3.client("lambda").invoke(
        FunctionName="flaky", InvocationType="Event", Payload=b'{"post": 7}', ClientContext=client_context
    )
    assert response["StatusCode"] == 202
    assert runtime.run_until_idle(timeout=20)
    results = runtime.invocations
    assert [r.attempt for r in results] == [1, 2, 3]
    assert {r.request_id for r in results} == {response["ResponseMetadata"]["RequestId"]}
    assert all(r.source == "event" and not r.ok for r in results)
    # Lambda passes ClientContext for synchronous invocations only.
    assert all(context.client_context is None for context in contexts)
    messages = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(messages[0]["Body"]) == {"post": 7}
    attributes = messages[0]["MessageAttributes"]
    assert attributes["RequestID"]["StringValue"] == results[0].request_id
    assert attributes["ErrorMessage"]["StringValue"] == "always"


def test_async_invoke_stops_retrying_once_it_succeeds(runtime: LocalRuntime) -> None:
    calls: list[int] = []

    def handler(event: Any, context: Any) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first time only")
        return "ok"

    runtime.add_function("flaky", handler)
    runtime.invoke_async("flaky", {})
    assert runtime.run_until_idle(timeout=20)
    assert [(r.attempt, r.ok) for r in runtime.invocations] == [(1, False), (2, True)]


def test_async_retry_count_follows_the_function_setting(runtime: LocalRuntime) -> None:
    def handler(event: Any, context: Any) -> None:
        raise RuntimeError("x")

    runtime.add_function("once", handler, max_retry_attempts=0)
    runtime.invoke_async("once", {})
    assert runtime.run_until_idle(timeout=20)
    assert [r.attempt for r in runtime.invocations] == [1]
