"""The runtime's own lifecycle: moto started and stopped, the environment restored, background pumping."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

import pytest

from otel_serverless.local import LocalRuntime, http_api_event
from tests.local.conftest import sample


def test_the_runtime_starts_its_own_moto_and_restores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "developer")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with LocalRuntime() as runtime:
        endpoint = runtime.moto_endpoint
        assert endpoint.startswith("http://127.0.0.1:")
        assert os.environ["AWS_ENDPOINT_URL"] == endpoint
        assert "AWS_PROFILE" not in os.environ
        runtime.add_function("f", lambda event, context: event)
        assert runtime.invoke("f", {"a": 1}).value() == {"a": 1}
    assert os.environ["AWS_PROFILE"] == "developer"
    assert "AWS_ENDPOINT_URL" not in os.environ
    with pytest.raises((urllib.error.URLError, OSError)):
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)


def test_background_pumping_delivers_without_run_until_idle(runtime: LocalRuntime) -> None:
    import threading

    delivered = threading.Event()
    runtime.add_function("consumer", lambda event, context: delivered.set(), timeout=1)
    url = runtime.client("sqs").create_queue(QueueName="q", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    runtime.sqs_trigger(url, "consumer")
    runtime.run_in_background()
    runtime.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    assert delivered.wait(20)


def test_a_malformed_notification_is_dropped_with_a_warning(
    runtime: LocalRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[Any] = []
    runtime.add_function("notified", lambda event, context: events.append(event), timeout=1)
    sns, sqs = runtime.client("sns"), runtime.client("sqs")
    topic = sns.create_topic(Name="t")["TopicArn"]
    runtime.sns_subscribe_function(topic, "notified")
    [internal] = sqs.list_queues(QueueNamePrefix="otel-serverless-local-sns-")["QueueUrls"]
    sqs.send_message(QueueUrl=internal, MessageBody="not an SNS envelope " + "x" * 500)
    sns.publish(TopicArn=topic, Message="fine")
    with caplog.at_level("WARNING", logger="otel_serverless.local"):
        assert runtime.run_until_idle(timeout=20)
    assert [e["Records"][0]["Sns"]["Message"] for e in events] == ["fine"]
    [warning] = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(warning.getMessage()) < 300  # bounded: never the message in full


def test_http_api_events_have_api_gateways_shape() -> None:
    event = http_api_event(
        "post",
        "/posts",
        body=json.dumps({"title": "t"}),
        headers={"traceparent": "00-abc-def-01", "Cookie": "a=1; b=2"},
        query={"draft": "1"},
        path_parameters={"id": "7"},
    )
    real = sample("apiGatewayProxyV2Event.json")
    assert set(event) == set(real) - {"stageVariables"}
    assert set(event["requestContext"]) == set(real["requestContext"]) - {"authentication", "authorizer"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"]["traceparent"] == "00-abc-def-01"
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["rawQueryString"] == "draft=1"
    assert event["routeKey"] == "POST /posts"
