"""Overload (#23): many spans in one invocation, a 10,000-span trace, 1,000 warm invocations.

The real export path (our batch processor and OTLP/HTTP exporter) sends to a real OTLP
receiver on 127.0.0.1. Every span ends up either received or counted as lost, exactly; and an
execution environment that serves 1,000 invocations does not grow with them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

from otel_serverless.aws_lambda import traced
from otel_serverless.export._batch import DeadlineBatchSpanProcessor
from otel_serverless.export._otlp_http import OTLPSpanExporter
from otel_serverless.processors import export_chain, install
from tests.aws_lambda.conftest import LambdaContext, event
from tests.otlp_receiver import Receiver, otlp_receiver

#: Most live objects of any one type allowed to appear between invocation 200 and invocation
#: 1,000 (a leak of one object per invocation would be 800). Strings are not counted by the
#: collector: the retry detection's table of request ids is bounded at 4,096 by design.
FLAT_OBJECTS = 40
#: The in-process receiver keeps every request it decoded: the harness's memory, not the function's.
HARNESS_TYPES = frozenset({"ExportTraceServiceRequest"})
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with otlp_receiver() as found:
        yield found


class Ended(SpanProcessor):
    """Counts every span that ends: what must arrive or be counted lost."""

    def __init__(self) -> None:
        self.count = 0

    def on_end(self, span: ReadableSpan) -> None:
        self.count += 1


def _pipeline(receiver: Receiver, queue: int = 2048) -> tuple[TracerProvider, DeadlineBatchSpanProcessor, Ended]:
    processor = DeadlineBatchSpanProcessor(
        OTLPSpanExporter(receiver.endpoint + "/v1/traces", timeout=5), max_queue_size=queue, flush_timeout_millis=5000
    )
    provider = TracerProvider()
    install(provider)
    ended = Ended()
    provider.add_span_processor(ended)
    provider.add_span_processor(export_chain(processor))
    return provider, processor, ended


def _received(receiver: Receiver) -> list[str]:
    return [span.name for _, span in receiver.spans()]


def _settle(processor: DeadlineBatchSpanProcessor, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not processor.force_flush(5000):
        time.sleep(0.05)


@pytest.mark.parametrize("children", [3_000, 10_000])
def test_every_span_of_a_huge_invocation_is_received_or_counted(receiver: Receiver, children: int) -> None:
    provider, processor, ended = _pipeline(receiver)
    tracer = provider.get_tracer("overload")

    @traced(tracer_provider=provider)
    def handler(incoming: Any, context: Any) -> str:
        for i in range(children):
            with tracer.start_as_current_span(f"step {i}"):
                pass
        return "done"

    assert handler(event("sqsEvent"), LambdaContext("req-huge", timeout_ms=60_000)) == "done"
    _settle(processor)
    names = _received(receiver)
    assert ended.count >= children + 1
    assert len(names) + processor.lost == ended.count, (len(names), processor.lost, ended.count)
    assert len(set(names)) == len(names)  # nothing sent twice
    provider.shutdown()


def test_a_full_queue_drops_and_the_next_invocation_reports_the_exact_count(receiver: Receiver) -> None:
    provider, processor, ended = _pipeline(receiver, queue=64)
    tracer = provider.get_tracer("overload")
    receiver.read_delay = 1.0  # the collector is slow to take the first batch: the queue fills

    @traced(tracer_provider=provider)
    def handler(incoming: Any, context: Any) -> int:
        for i in range(incoming["spans"]):
            with tracer.start_as_current_span(f"step {i}"):
                pass
        return incoming["spans"]

    handler({"spans": 2_500}, LambdaContext("req-1", timeout_ms=60_000))
    _settle(processor)
    lost = processor.lost
    assert lost > 0
    receiver.read_delay = 0
    handler({"spans": 0}, LambdaContext("req-2", timeout_ms=60_000))
    _settle(processor)
    second = [
        span
        for _, span in receiver.spans()
        if any(kv.key == "faas.invocation_id" and kv.value.string_value == "req-2" for kv in span.attributes)
    ]
    assert len(second) == 1
    carried = {kv.key: kv.value.int_value for kv in second[0].attributes}.get("serverless.export.dropped_spans")
    assert carried == lost
    assert len(_received(receiver)) + lost == ended.count
    provider.shutdown()


_WARM_ENVIRONMENT = textwrap.dedent(
    """
    import gc, json
    from collections import Counter
    from tests.aws_lambda.conftest import LambdaContext, event
    from tests.aws_lambda.test_overload import HARNESS_TYPES, _pipeline, _settle
    from tests.otlp_receiver import otlp_receiver
    from otel_serverless.aws_lambda import traced

    with otlp_receiver() as receiver:
        provider, processor, ended = _pipeline(receiver)

        @traced(tracer_provider=provider)
        def handler(incoming, context):
            with provider.get_tracer("app").start_as_current_span("work"):
                return "ok"

        def census():
            _settle(processor)
            gc.collect()
            return Counter(type(o).__name__ for o in gc.get_objects() if type(o).__name__ not in HARNESS_TYPES)

        sqs = event("sqsEvent")
        before = Counter()
        for i in range(1_000):
            assert handler(sqs, LambdaContext(f"req-{i}")) == "ok"
            if i == 199:
                before = census()
        grown = census() - before
        print(json.dumps({
            "grown": dict(grown.most_common(10)),
            "lost": processor.lost,
            "received": len(receiver.spans()),
            "ended": ended.count,
        }))
    """
)


def test_a_thousand_warm_invocations_keep_memory_flat(tmp_path: Path) -> None:
    # A process of its own: one execution environment, and no test runner's memory in the figure.
    result = subprocess.run(
        [sys.executable, "-c", _WARM_ENVIRONMENT],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, "OTEL_SERVERLESS_STATE_DIR": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(count <= FLAT_OBJECTS for count in figures["grown"].values()), figures
    assert figures["lost"] == 0
    assert figures["received"] == figures["ended"] >= 2 * 1_000  # at least the invocation and its work
