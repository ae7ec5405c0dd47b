"""The context object a handler gets: the fields and behaviour of AWS's Python runtime."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from otel_serverless.local import LocalRuntime
from otel_serverless.local._context import CLIENT_CONTEXT_MAX_BYTES, ClientContextError, decode_client_context


def test_the_handler_gets_a_faithful_context(runtime: LocalRuntime) -> None:
    seen: dict[str, Any] = {}

    def handler(event: Any, context: Any) -> None:
        seen.update(
            request_id=context.aws_request_id,
            name=context.function_name,
            version=context.function_version,
            arn=context.invoked_function_arn,
            memory=context.memory_limit_in_mb,
            group=context.log_group_name,
            stream=context.log_stream_name,
            remaining=context.get_remaining_time_in_millis(),
            client_context=context.client_context,
            identity=context.identity,
        )

    runtime.add_function("ctx", handler, timeout=5, memory_mb=256)
    result = runtime.invoke("ctx", {})
    assert result.ok
    assert seen["request_id"] == result.request_id
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", seen["request_id"])
    assert seen["name"] == "ctx"
    assert seen["version"] == "$LATEST"
    assert seen["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:ctx"
    assert seen["memory"] == "256"  # a string in AWS's Python runtime
    assert seen["group"] == "/aws/lambda/ctx"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", seen["stream"])
    assert 0 < seen["remaining"] <= 5000
    assert seen["client_context"] is None
    assert seen["identity"] is None


def test_remaining_time_counts_down_to_zero_and_not_below() -> None:
    from otel_serverless.local import LambdaContext

    context = LambdaContext(
        aws_request_id="r",
        function_name="f",
        function_version="$LATEST",
        invoked_function_arn="arn",
        memory_limit_in_mb=128,
        log_group_name="g",
        log_stream_name="s",
        deadline_epoch_ms=0,
    )
    assert context.get_remaining_time_in_millis() == 0


def _encode(value: object) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def test_client_context_decodes_custom_env_and_client() -> None:
    header = _encode({"custom": {"traceparent": "00-x"}, "env": {"platform": "py"}, "client": {"app_title": "demo"}})
    decoded = decode_client_context(header)
    assert decoded is not None
    assert decoded.custom == {"traceparent": "00-x"}
    assert decoded.env == {"platform": "py"}
    assert decoded.client is not None
    assert decoded.client.app_title == "demo"
    assert decoded.client.installation_id is None


@pytest.mark.parametrize(
    "header",
    [
        "not base64!",
        base64.b64encode(b"not json").decode(),
        _encode(["a", "list"]),
        _encode({"custom": "x" * CLIENT_CONTEXT_MAX_BYTES}),
    ],
    ids=["not-base64", "not-json", "not-an-object", "too-large"],
)
def test_a_client_context_lambda_would_reject_is_rejected(header: str) -> None:
    with pytest.raises(ClientContextError):
        decode_client_context(header)
