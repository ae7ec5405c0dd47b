"""The invocation span carries the function's configured timeout and memory (insights reads them)."""

from __future__ import annotations

from typing import Any

import pytest

from otel_serverless.aws_lambda import traced
from tests.aws_lambda.conftest import LambdaContext, Pipeline


@pytest.mark.parametrize(("timeout_ms", "configured"), [(3000, 3000), (30_000, 30_000), (900_000, 900_000)])
def test_timeout_and_memory_on_the_invocation(pipeline: Pipeline, timeout_ms: int, configured: int) -> None:
    @traced(tracer_provider=pipeline.provider)
    def handler(event: Any, context: Any) -> str:
        return "ok"

    assert handler({}, LambdaContext(timeout_ms=timeout_ms, memory="1769")) == "ok"
    span = pipeline.invocation()
    # The remaining time at the start is a little under the configured whole seconds.
    assert span.attributes["serverless.timeout.configured_ms"] == configured
    assert span.attributes["serverless.memory.limit_mb"] == 1769


def test_without_memory_processor_the_limit_is_still_there(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_PROCESSORS", "coldstart,retries,cost")
    pipeline = Pipeline()

    @traced(tracer_provider=pipeline.provider)
    def handler(event: Any, context: Any) -> None:
        return None

    class NoDeadline(LambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            return 0  # an emulator that gives no deadline: no timeout to report

    handler({}, NoDeadline(memory="256"))
    span = pipeline.invocation()
    assert "serverless.timeout.configured_ms" not in span.attributes
    assert span.attributes["serverless.memory.limit_mb"] == 256
    assert "serverless.memory.peak_mb" not in span.attributes  # the memory processor is off
