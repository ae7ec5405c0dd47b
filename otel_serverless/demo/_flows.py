"""The demo's dataflows: how each starts, and what its trace must show."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from otel_serverless.demo import _app
from otel_serverless.demo._check import Expectation, Verdict
from otel_serverless.demo._services import acting_as

CLIENT = "blog-web"
#: A post id the intermittent fault picks (its analysis fails once, then succeeds on redelivery).
FLAKY_POST = "1f2e3d4c"
IDLE_TIMEOUT_S = 30.0


@dataclass
class Flow:
    """One dataflow: how to start it and what its trace must show."""

    name: str
    start: Callable[[Demo], None]
    expected: Expectation
    spans: list[ReadableSpan] = field(default_factory=list)
    verdict: Verdict | None = None


class Demo:
    """The running demo: local runtime, pipeline, and what each flow produced."""

    def __init__(self, runtime: Any, memory: InMemorySpanExporter, flush: Callable[[], bool]) -> None:
        self.runtime = runtime
        self.memory = memory
        self.flush = flush
        self.tracer = trace.get_tracer("otel_serverless.demo")
        self.post_ids: list[str] = []

    def http(self, function: str, method: str, path: str, **options: Any) -> Any:
        """A traced browser request through API Gateway (HTTP API) to *function*."""
        from otel_serverless.local import http_api_event

        with acting_as(CLIENT), self.tracer.start_as_current_span(f"{method} {path}", kind=SpanKind.CLIENT) as span:
            span.set_attribute("http.request.method", method)
            headers: dict[str, str] = {"content-type": "application/json"}
            propagate.inject(headers)
            event = http_api_event(method, path, headers=headers, **options)
            result = self.runtime.invoke(function, event)
            value = result.value() if result.ok else None
            status = value.get("statusCode", 502) if isinstance(value, dict) else 502
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(trace.StatusCode.ERROR)
            return value

    def settle(self) -> None:
        self.runtime.run_until_idle(timeout=IDLE_TIMEOUT_S)
        self.flush()


def _upload(post_id: str, *, legacy: bool = False) -> Callable[[Demo], None]:
    def start(demo: Demo) -> None:
        body: dict[str, Any] = {
            "id": post_id,
            "title": "Tracing the gaps",
            "text": "I love good traces, great for on-call.",
        }
        if legacy:
            body["legacy"] = True
        demo.http(_app.UPLOAD, "POST", "/posts", body=json.dumps(body))
        demo.post_ids.append(post_id)

    return start


def _read(post_id: str) -> Callable[[Demo], None]:
    def start(demo: Demo) -> None:
        demo.http(_app.READ, "GET", f"/posts/{post_id}", route_key="GET /posts/{id}", path_parameters={"id": post_id})

    return start


def _analysis(demo: Demo) -> None:
    demo.runtime.fire_schedule("nightly-analysis")


def flows(faults: Sequence[str], rounds: int) -> list[Flow]:
    upload_hops = (
        CLIENT,
        _app.UPLOAD,
        _app.COUNT_WORDS,
        _app.SCORE_SENTIMENT,
        _app.AGGREGATE,
        _app.NOTIFY,
        _app.PUBLISH_FEED,
    )
    planned: list[Flow] = []
    for round_number in range(1, rounds + 1):
        first = round_number == 1
        post_id = FLAKY_POST if first else f"9{round_number:03d}abc"
        marks: list[tuple[str, str]] = [(_app.UPLOAD, "cold start")] if first else []
        if first and "intermittent" in faults:
            marks.append((_app.COUNT_WORDS, "retry"))
        if "memory" in faults:
            marks.append((_app.AGGREGATE, "memory"))
        planned.append(
            Flow(
                f"Posts Upload #{round_number}",
                _upload(post_id),
                Expectation(upload_hops, tuple(marks), clients=(CLIENT,)),
            )
        )
        read_marks = [(_app.READ, "timeout"), (_app.READ, "error")] if "timeout" in faults else []
        if first:
            read_marks.append((_app.READ, "cold start"))
        planned.append(
            Flow(
                f"Read Blog Posts #{round_number}",
                _read(post_id),
                Expectation((CLIENT, _app.READ), tuple(read_marks), clients=(CLIENT,)),
            )
        )
    if "contract" in faults:
        planned.append(
            Flow(
                "Posts Upload, legacy client (contract mismatch)",
                _upload("7e9a1b2c", legacy=True),
                Expectation(
                    (CLIENT, _app.UPLOAD, _app.COUNT_WORDS, _app.SCORE_SENTIMENT),
                    ((_app.SCORE_SENTIMENT, "error"), (_app.SCORE_SENTIMENT, "retry")),
                    clients=(CLIENT,),
                ),
            )
        )
    planned.append(
        Flow(
            "Posts Analysis",
            _analysis,
            Expectation(
                (_app.SCHEDULE, _app.REANALYZE, _app.COLLECT, _app.REPORT),
                ((_app.SCHEDULE, "cold start"), (_app.COLLECT, "cold start")),
            ),
        )
    )
    return planned
