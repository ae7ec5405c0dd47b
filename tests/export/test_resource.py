from __future__ import annotations

import pytest

from otel_serverless.export._resource import build_resource, lambda_attributes

LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "posts-upload",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/posts-upload",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/21/[$LATEST]0123456789abcdef",
    "AWS_REGION": "eu-west-1",
}


def test_lambda_environment_becomes_faas_and_cloud_attributes() -> None:
    assert lambda_attributes(LAMBDA_ENV) == {
        "cloud.provider": "aws",
        "cloud.platform": "aws_lambda",
        "cloud.region": "eu-west-1",
        "faas.name": "posts-upload",
        "faas.version": "$LATEST",
        "faas.instance": "2026/11/21/[$LATEST]0123456789abcdef",
        "faas.max_memory": 256 * 1024 * 1024,
        "aws.log.group.names": ("/aws/lambda/posts-upload",),
    }


def test_outside_lambda_nothing_is_claimed() -> None:
    assert lambda_attributes({"AWS_REGION": "eu-west-1"}) == {}


def test_a_malformed_memory_size_is_left_out() -> None:
    assert "faas.max_memory" not in lambda_attributes({**LAMBDA_ENV, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots"})


def test_service_name_defaults_to_the_function_name(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LAMBDA_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert build_resource().attributes["service.name"] == "posts-upload"


def test_standard_variables_win_over_detected_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LAMBDA_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "blog")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=prod,cloud.region=override")
    attributes = build_resource().attributes
    assert attributes["service.name"] == "blog"
    assert attributes["deployment.environment.name"] == "prod"
    assert attributes["cloud.region"] == "override"
    assert attributes["faas.name"] == "posts-upload"
