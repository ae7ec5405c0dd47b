"""The demo: real local runtime and moto, run as a user runs it (the CLI, in a subprocess)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, StatusCode

from otel_serverless.demo import _check

DEMO = Path(__file__).resolve().parents[2] / "otel_serverless" / "demo"
HANDLER_MODULES = ("posts_upload.py", "posts_analysis.py", "read_posts.py", "resources.py")


def _demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "otel_serverless.cli", "demo", "--output", str(tmp_path / "traces.jsonl"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_demo_checks_every_dataflow_and_writes_otlp_json(tmp_path: Path) -> None:
    result = _demo(tmp_path, "--check")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    out = result.stdout
    for flow in (
        "Posts Upload #1",
        "Posts Upload #2",
        "Read Blog Posts #1",
        "Read Blog Posts #2",
        "Posts Upload, legacy client (contract mismatch)",
        "Posts Analysis",
    ):
        assert f"  ok    {flow}" in out
        assert f"== {flow}: " in out
    assert "[cold start" in out and "retry" in out and "timeout" in out and "memory" in out
    services = set()
    for line in (tmp_path / "traces.jsonl").read_text().splitlines():
        for resource_spans in json.loads(line)["resourceSpans"]:
            attributes = {a["key"]: a["value"] for a in resource_spans["resource"]["attributes"]}
            services.add(attributes["service.name"]["stringValue"])
    assert services >= {"blog-web", "upload-post", "count-words", "aggregate-stats", "publish-feed", "write-report"}


def test_without_faults_nothing_is_marked_as_failing(tmp_path: Path) -> None:
    result = _demo(tmp_path, "--check", "--faults", "", "--rounds", "1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "timeout" not in result.stdout
    assert "[retry" not in result.stdout and ", retry" not in result.stdout
    assert "error]" not in result.stdout
    assert "legacy client" not in result.stdout


def test_an_unknown_fault_is_refused(tmp_path: Path) -> None:
    result = _demo(tmp_path, "--faults", "gremlins")
    assert result.returncode == 2
    assert "gremlins" in result.stdout


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_the_handlers_hold_no_tracing_code(module: str) -> None:
    tree = ast.parse((DEMO / module).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not [name for name in imported if name.startswith("opentelemetry")]
    assert not [
        name for name in imported if name.startswith("otel_serverless") and not name.startswith("otel_serverless.demo")
    ]


# -- the check itself, on spans made here ------------------------------------------------


def _spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "svc"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_check_accepts_one_trace_joined_by_links() -> None:
    provider, exporter = _spans()
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("producer") as producer:
        pass
    consumer = tracer.start_span(
        "consumer",
        links=[Link(producer.get_span_context())],
        attributes={"faas.invocation_id": "1", "faas.coldstart": True},
    )
    consumer.end()
    verdict = _check.check(exporter.get_finished_spans(), _check.Expectation(("svc",), (("svc", "cold start"),)))
    assert verdict.ok, verdict.problems
    assert len(verdict.trace_ids) == 2


def test_check_reports_pieces_missing_hops_and_missing_marks() -> None:
    provider, exporter = _spans()
    tracer = provider.get_tracer("t")
    for name in ("a", "b"):
        span = tracer.start_span(name, attributes={"faas.invocation_id": name})
        span.set_status(StatusCode.ERROR)
        span.end()
    expected = _check.Expectation(("svc", "other"), (("svc", "timeout"), ("svc", "error")))
    verdict = _check.check(exporter.get_finished_spans(), expected)
    assert verdict.problems == [
        "the spans form 2 disconnected pieces, not one trace",
        "no other invocation in the trace",
        "svc does not show its timeout mark",
    ]
    assert _check.check([], expected).problems == ["no spans at all"]
