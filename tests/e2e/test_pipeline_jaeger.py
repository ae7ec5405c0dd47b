"""The export pipeline end to end: an app configured only through standard variables →
the real OpenTelemetry Collector (collector-config/otelcol.yaml) → the real Jaeger,
read back through Jaeger's query API."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.e2e._jaeger import wait_for_trace
from tests.e2e.conftest import Backends

APP = textwrap.dedent(
    """
    import sys
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind
    import otel_serverless

    tracer = trace.get_tracer("blog.app")
    with tracer.start_as_current_span("POST /posts", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.request.method", "POST")
        with tracer.start_as_current_span("validate post"):
            pass
        with tracer.start_as_current_span("posts-queue send", kind=SpanKind.PRODUCER) as send:
            send.set_attribute("messaging.system", "aws_sqs")
        trace_id = format(root.get_span_context().trace_id, "032x")
    print(trace_id)
    sys.exit(0 if otel_serverless.flush() else 3)
    """
)

LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "posts-upload",
    "AWS_LAMBDA_FUNCTION_VERSION": "7",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/21/[7]abcdef",
    "AWS_REGION": "eu-west-1",
}


CODE_FIRST = "import otel_serverless\notel_serverless.configure()\n" + APP


def _run_app(tmp_path: Path, env: dict[str, str], launcher: list[str], source: str = APP) -> str:
    app = tmp_path / "app.py"
    app.write_text(source)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_LAMBDA_"))}
    result = subprocess.run(
        [*launcher, sys.executable, str(app)],
        env={**clean, **LAMBDA_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def _tags(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {tag["key"]: tag["value"] for tag in items}


def _assert_trace(trace: dict[str, Any], service: str) -> None:
    spans = {span["operationName"]: span for span in trace["spans"]}
    assert sorted(spans) == ["POST /posts", "posts-queue send", "validate post"]
    root = spans["POST /posts"]
    assert root["references"] == []
    for child in ("validate post", "posts-queue send"):
        (reference,) = spans[child]["references"]
        assert reference["refType"] == "CHILD_OF"
        assert reference["spanID"] == root["spanID"]
    assert _tags(root["tags"])["span.kind"] == "server"
    assert _tags(spans["posts-queue send"]["tags"])["span.kind"] == "producer"
    assert _tags(spans["posts-queue send"]["tags"])["messaging.system"] == "aws_sqs"
    process = trace["processes"][root["processID"]]
    assert process["serviceName"] == service
    resource = _tags(process["tags"])
    assert resource["cloud.provider"] == "aws"
    assert resource["cloud.platform"] == "aws_lambda"
    assert resource["cloud.region"] == "eu-west-1"
    assert resource["faas.name"] == "posts-upload"
    assert resource["faas.version"] == "7"
    assert int(resource["faas.max_memory"]) == 256 * 1024 * 1024
    assert resource["deployment.environment.name"] == "e2e"


@pytest.mark.e2e
@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_spans_reach_jaeger_through_the_collector(backends: Backends, tmp_path: Path, protocol: str) -> None:
    endpoint = backends.otlp_http_endpoint if protocol == "http/protobuf" else backends.otlp_grpc_endpoint
    service = f"blog-api-{protocol.replace('/', '-')}"
    env = {
        "OTEL_SERVICE_NAME": service,
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=e2e",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
    }
    trace_id = _run_app(tmp_path, env, [], source=CODE_FIRST)
    trace = wait_for_trace(backends.jaeger_query_url, trace_id, expected_span_count=3)
    assert len(trace["spans"]) == 3
    _assert_trace(trace, service)


@pytest.mark.e2e
def test_zero_code_change_with_opentelemetry_instrument(backends: Backends, tmp_path: Path) -> None:
    service = "blog-api-instrumented"
    env = {
        "OTEL_SERVICE_NAME": service,
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=e2e",
        "OTEL_EXPORTER_OTLP_ENDPOINT": backends.otlp_http_endpoint,
    }
    trace_id = _run_app(tmp_path, env, [str(Path(sys.executable).parent / "opentelemetry-instrument")])
    trace = wait_for_trace(backends.jaeger_query_url, trace_id, expected_span_count=3)
    assert len(trace["spans"]) == 3
    _assert_trace(trace, service)
