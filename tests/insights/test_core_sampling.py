"""Head sampling: the pipeline records the ratio it samples with, and insights weighs each kept span by it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from otel_serverless.aws_lambda import traced
from otel_serverless.export._otlp_json import OtlpJsonFileExporter
from otel_serverless.export._resource import build_resource, sampling_attributes
from otel_serverless.insights import Window, build_report
from tests.aws_lambda.conftest import LambdaContext


@pytest.mark.parametrize(
    ("sampler", "argument", "expected"),
    [
        ("traceidratio", "0.25", {"serverless.sampling.ratio": 0.25}),
        ("parentbased_traceidratio", "0.1", {"serverless.sampling.ratio": 0.1}),
        ("ParentBased_TraceIdRatio", "0.5", {"serverless.sampling.ratio": 0.5}),
        ("traceidratio", "1", {}),  # everything kept: nothing to weigh
        ("traceidratio", "half", {}),  # the SDK falls back to 1.0
        ("traceidratio", "7", {}),
        ("always_on", "0.5", {}),
        ("", "0.5", {}),
    ],
)
def test_the_ratio_on_the_resource(sampler: str, argument: str, expected: dict[str, Any]) -> None:
    environ = {"OTEL_TRACES_SAMPLER": sampler, "OTEL_TRACES_SAMPLER_ARG": argument}
    assert sampling_attributes(environ) == expected
    assert {
        k: v for k, v in build_resource(environ=environ).attributes.items() if k.startswith("serverless.")
    } == expected


@pytest.mark.parametrize("parent_based", [False, True])
def test_sampled_invocations_are_weighed_back(tmp_path: Path, parent_based: bool) -> None:
    environ = {
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio" if parent_based else "traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.25",
        "OTEL_SERVICE_NAME": "orders",
    }
    sampler = ParentBased(TraceIdRatioBased(0.25)) if parent_based else TraceIdRatioBased(0.25)
    provider = TracerProvider(resource=build_resource(environ=environ), sampler=sampler)
    path = tmp_path / "sampled.jsonl"
    provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileExporter(path)))
    started = time.time_ns()

    @traced(tracer_provider=provider)
    def handler(event: Any, context: Any) -> dict[str, Any]:
        return {"statusCode": 500 if event["n"] % 4 == 0 else 200}

    for number in range(400):
        handler({"n": number}, LambdaContext(f"req-{number}"))
    provider.shutdown()
    kept = sum(line.count('"faas.invocation_id"') for line in path.read_text().splitlines())
    assert 50 < kept < 150  # a quarter of 400, give or take
    report = build_report(Window(started, time.time_ns() + 10**9), files=[str(path)], compare=False)
    assert report["estimated"] is True
    assert report["invocations"] == 4 * kept  # each kept invocation stands for four
    assert report["functions"][0]["invocations"] == 4 * kept
