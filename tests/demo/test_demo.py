"""The demo: real local runtime and moto, run as a user runs it (the CLI, in a subprocess)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, StatusCode

from otel_serverless.demo import _check

DEMO = Path(__file__).resolve().parents[2] / "otel_serverless" / "demo"
HANDLER_MODULES = ("posts_upload.py", "posts_analysis.py", "read_posts.py", "resources.py")


def _demo(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_"))}
    env.update(settings)
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


def _exported_spans(path: Path) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for line in path.read_text().splitlines():
        for resource_spans in json.loads(line)["resourceSpans"]:
            attributes = {a["key"]: a["value"] for a in resource_spans["resource"]["attributes"]}
            service = attributes["service.name"]["stringValue"]
            for scope_spans in resource_spans["scopeSpans"]:
                found.extend((service, span) for span in scope_spans["spans"])
    return found


def _attribute(span: dict[str, Any], key: str) -> Any:
    for item in span.get("attributes", []):
        if item["key"] == key:
            return next(iter(item["value"].values()))
    return None


def test_with_capture_on_the_message_that_broke_the_contract_is_on_the_failed_span_and_its_producer(
    tmp_path: Path,
) -> None:
    result = _demo(tmp_path, "--faults", "contract", "--rounds", "1", OTEL_SERVERLESS_CAPTURE_PAYLOAD="true")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    spans = _exported_spans(tmp_path / "traces.jsonl")
    by_id = {span["spanId"]: (service, span) for service, span in spans}
    failed = [
        span
        for service, span in spans
        if service == "score-sentiment"
        and span["name"].startswith("process ")
        and _attribute(span, "serverless.record.failed")
        and '"postId": "7e9a1b2c"' in (_attribute(span, "serverless.payload.message") or "")  # the old shape
    ]
    assert failed, "no failed record span shows the legacy client's message"
    for span in failed:
        assert span["status"].get("code") in (2, "STATUS_CODE_ERROR")
        producer_service, producer = by_id[span["parentSpanId"]]
        assert producer_service == "upload-post" and producer["kind"] in (4, "SPAN_KIND_PRODUCER")
        assert json.loads(_attribute(producer, "serverless.payload.message"))["postId"] == "7e9a1b2c"


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
