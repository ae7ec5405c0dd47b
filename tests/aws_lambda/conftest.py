"""Fixtures for the handler wrapper: a faithful Lambda context, fresh environment state, real events."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, TraceFlags

from otel_serverless.aws_lambda import _exec, _state
from otel_serverless.processors import export_chain, install
from tests.conftest import EVENTS

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"


class LambdaContext:
    """What the Python runtime passes: the same attributes, a real clock for the deadline."""

    def __init__(
        self,
        request_id: str = "req-1",
        *,
        timeout_ms: float = 3000,
        memory: str = "128",
        client_context: Any = None,
    ) -> None:
        self.aws_request_id = request_id
        self.function_name = "orders"
        self.function_version = "$LATEST"
        self.invoked_function_arn = ARN
        self.memory_limit_in_mb = memory
        self.log_group_name = "/aws/lambda/orders"
        self.log_stream_name = "2024/01/01/[$LATEST]abc"
        self.client_context = client_context
        self.identity = None
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def event(name: str) -> Any:
    """A fresh copy of a real event sample."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def all_event_names() -> list[str]:
    return sorted(path.stem for path in EVENTS.glob("*.json"))


def producer(trace_id: int = 0x0AF7651916CD43DD8448EB211C80319C, span_id: int = 0xB7AD6B7169203331) -> SpanContext:
    return SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))


def traceparent(context: SpanContext) -> str:
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-01"


@pytest.fixture(autouse=True)
def _fresh_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts as a new execution environment, with its own /tmp."""
    monkeypatch.setenv("OTEL_SERVERLESS_STATE_DIR", str(tmp_path))
    _state.reset_for_tests()
    _exec.reset_for_tests()
    yield
    _state.reset_for_tests()


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


class Pipeline:
    """A provider with every serverless processor, exporting to memory synchronously."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        install(self.provider)
        self.provider.add_span_processor(export_chain(SimpleSpanProcessor(self.exporter)))

    def spans(self) -> list[Any]:
        return list(self.exporter.get_finished_spans())

    def invocation(self) -> Any:
        found = [span for span in self.spans() if "faas.invocation_id" in (span.attributes or {})]
        assert len(found) == 1, [span.name for span in self.spans()]
        return found[0]


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline()


def deep(value: Any) -> Any:
    return copy.deepcopy(value)
