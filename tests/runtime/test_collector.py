"""The layer's spans reach the real collector, and through it Jaeger, from the Lambda RIE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from otel_serverless.layer import build_layer
from otel_serverless.local.rie import unpack_layer
from tests.e2e.conftest import Backends, wait_for_trace
from tests.runtime.conftest import Start, local_target

pytestmark = pytest.mark.e2e

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _tags(span: dict[str, object]) -> dict[str, object]:
    return {tag["key"]: tag["value"] for tag in span["tags"]}  # type: ignore[attr-defined, index]


@pytest.fixture(scope="module")
def grpc_opt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python, arch = local_target()
    layer = build_layer(
        python, arch, tmp_path_factory.mktemp("grpc") / "layer.zip", from_environment=True, with_grpc=True
    )
    return unpack_layer(layer, tmp_path_factory.mktemp("grpc-opt"))


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_spans_reach_jaeger_through_the_collector(
    protocol: str, start: Start, backends: Backends, opt: Path, grpc_opt: Path
) -> None:
    name = protocol.partition("/")[0]
    trace_id = "5a8d1c3e9f2b4d6e8a0c1e3f5b7d9a1c" if protocol == "grpc" else "6b9e2d4f0a3c5e7f9b1d3f5a7c9e1b3d"
    event = json.loads((EVENTS / "apiGatewayProxyV2Event.json").read_text())
    event["headers"] = {**event["headers"], "traceparent": f"00-{trace_id}-1f2e3d4c5b6a7980-01"}
    endpoint = backends.otlp_grpc_endpoint if protocol == "grpc" else backends.otlp_http_endpoint
    function = start(
        layer=grpc_opt if protocol == "grpc" else opt,
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_SERVICE_NAME": f"rie-{name}",
        },
    )
    response = function.invoke(event, headers={"X-Amzn-RequestId": f"jaeger-{name}"})
    assert response.status == 200 and response.json()["body"] == event["body"]

    trace = wait_for_trace(backends.jaeger_query_url, trace_id, expected_span_count=1)
    [span] = [s for s in trace["spans"] if _tags(s).get("faas.invocation_id") == f"jaeger-{name}"]
    assert span["references"][0]["spanID"] == "1f2e3d4c5b6a7980"
    assert trace["processes"][span["processID"]]["serviceName"] == f"rie-{name}"
    tags = _tags(span)
    assert tags["faas.coldstart"] is True
    assert tags["faas.trigger"] == "http"
    assert "OTEL_EXPORTER_OTLP_PROTOCOL is grpc" not in function.log()
