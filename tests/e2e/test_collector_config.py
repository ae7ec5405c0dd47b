"""The collector/Jaeger configs, the pins, and scripts/backends itself, against the real binaries."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import sys
import time
import urllib.request
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.e2e._jaeger import get_json, wait_for_trace
from tests.e2e.conftest import BACKENDS_SCRIPT, REPO, Backends, parse_exports, run_backends

pytestmark = pytest.mark.e2e

CONFIG_DIR = REPO / "collector-config"
COMPOSE = REPO / "docker" / "compose.yaml"


def load_backends_script() -> ModuleType:
    # The script has no .py suffix (it is run directly), so it needs an explicit loader.
    loader = SourceFileLoader("otel_serverless_backends_script", str(BACKENDS_SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up while the file executes
    loader.exec_module(module)
    return module


def compose_images() -> set[tuple[str, str]]:
    images = re.findall(r"^\s*image:\s*[\"']?([^\s\"'#]+)", COMPOSE.read_text(), re.MULTILINE)
    return {(name, tag) for name, tag in (image.rsplit(":", 1) for image in images)}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    # A zombie has exited; it only waits for its (new) parent to reap it.
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- pins -------------------------------------------------------------------------------------


def test_docker_images_match_the_natively_built_versions() -> None:
    script = load_backends_script()
    images = compose_images()
    assert images == {
        (script.COLLECTOR_IMAGE, script.COLLECTOR_IMAGE_TAG),
        (script.JAEGER_IMAGE, script.JAEGER_IMAGE_TAG),
        # The scale-out profile: agent and gateways, and Prometheus (tests/e2e/test_scale_out.py).
        (script.COLLECTOR_IMAGE, script.SCALE_OUT_IMAGE_TAG),
        (script.PROMETHEUS_IMAGE, script.PROMETHEUS_IMAGE_TAG),
    }
    assert script.COLLECTOR_IMAGE_TAG == script.COLLECTOR_VERSION
    assert script.JAEGER_IMAGE_TAG == script.JAEGER_VERSION


def test_builder_manifest_is_pinned_to_one_collector_release() -> None:
    script = load_backends_script()
    manifest = (CONFIG_DIR / "builder-config.yaml").read_text()
    versions = set(re.findall(r"gomod:\s*\S+\s+(v\S+)", manifest))
    assert versions == {f"v{script.COLLECTOR_VERSION}", f"v{script.COLLECTOR_STABLE_VERSION}"}
    assert f"version: {script.COLLECTOR_VERSION}" in manifest


def test_compose_mounts_the_same_config_files() -> None:
    text = COMPOSE.read_text()
    for name in ("otelcol.yaml", "jaeger.yaml"):
        assert f"../collector-config/{name}:" in text
        assert (CONFIG_DIR / name).is_file()


# --- validate -----------------------------------------------------------------------------------


def test_every_config_validates_with_the_built_binaries(backends_built: None) -> None:
    result = run_backends("validate")
    assert result.returncode == 0, result.stderr
    checked = re.findall(r"ok\s+(\S+)", result.stderr)
    assert {Path(p).name for p in checked} >= {"otelcol.yaml", "jaeger.yaml"}, result.stderr


def test_validate_rejects_a_broken_config(backends_built: None, tmp_path: Path) -> None:
    broken = tmp_path / "otelcol-broken.yaml"
    # A component that the distribution does not contain must be reported, not ignored.
    broken.write_text((CONFIG_DIR / "otelcol.yaml").read_text().replace("otlp_grpc/jaeger", "kafka/jaeger"))
    result = run_backends("validate", str(broken))
    assert result.returncode != 0
    assert "kafka" in result.stderr


def test_cached_build_is_instant(backends_built: None) -> None:
    started = time.monotonic()
    result = run_backends("build")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    # Measured at ~0.1 s; the margin only absorbs a loaded CI machine.
    assert elapsed < 5, f"cached build took {elapsed:.1f}s"


def test_paths_point_at_the_built_binaries(backends_built: None) -> None:
    result = run_backends("paths")
    assert result.returncode == 0, result.stderr
    paths = dict(line.split("=", 1) for line in result.stdout.splitlines())
    for key in ("OTELCOL_BIN", "JAEGER_BIN", "RIE_BIN"):
        assert os.access(paths[key], os.X_OK), paths


# --- up / down ----------------------------------------------------------------------------------


def otlp_http_protobuf_request(trace_id: bytes, service: str) -> bytes:
    trace_pb2 = pytest.importorskip("opentelemetry.proto.trace.v1.trace_pb2")
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource

    now = time.time_ns()
    root_id, child_id = secrets.token_bytes(8), secrets.token_bytes(8)
    span = trace_pb2.Span
    request = ExportTraceServiceRequest(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value=service))]),
                scope_spans=[
                    trace_pb2.ScopeSpans(
                        spans=[
                            span(
                                trace_id=trace_id,
                                span_id=root_id,
                                name="probe root",
                                kind=span.SPAN_KIND_SERVER,
                                start_time_unix_nano=now,
                                end_time_unix_nano=now + 2_000_000,
                            ),
                            span(
                                trace_id=trace_id,
                                span_id=child_id,
                                parent_span_id=root_id,
                                name="probe child",
                                kind=span.SPAN_KIND_CLIENT,
                                start_time_unix_nano=now + 500_000,
                                end_time_unix_nano=now + 1_500_000,
                                attributes=[KeyValue(key="probe.attr", value=AnyValue(int_value=42))],
                            ),
                        ]
                    )
                ],
            )
        ]
    )
    payload: bytes = request.SerializeToString()
    return payload


def post(url: str, body: bytes, content_type: str) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        status: int = response.status
        return status


def test_collector_forwards_otlp_http_protobuf_to_jaeger(backends: Backends) -> None:
    trace_id = secrets.token_bytes(16)
    service = f"probe-{trace_id.hex()[:8]}"
    body = otlp_http_protobuf_request(trace_id, service)

    assert post(backends.otlp_http_endpoint + "/v1/traces", body, "application/x-protobuf") == 200

    trace = wait_for_trace(backends.jaeger_query_url, trace_id.hex(), expected_span_count=2)
    spans = {span["operationName"]: span for span in trace["spans"]}
    assert set(spans) == {"probe root", "probe child"}
    child = spans["probe child"]
    assert child["references"] == [
        {"refType": "CHILD_OF", "traceID": trace_id.hex(), "spanID": spans["probe root"]["spanID"]}
    ]
    assert {"key": "probe.attr", "type": "int64", "value": 42} in child["tags"]
    assert trace["processes"][child["processID"]]["serviceName"] == service

    # The other query endpoints that the e2e tests and the UI rely on.
    assert service in get_json(backends.jaeger_query_url, "/api/services")["data"]
    found = get_json(backends.jaeger_query_url, "/api/traces", {"service": service, "limit": "5"})["data"]
    assert [t["traceID"] for t in found] == [trace_id.hex()]
    deps = get_json(
        backends.jaeger_query_url,
        "/api/dependencies",
        {"endTs": str(int(time.time() * 1000)), "lookback": "3600000"},
    )
    assert deps["errors"] is None


def test_collector_forwards_otlp_http_json_to_jaeger(backends: Backends) -> None:
    # OTLP/JSON needs nothing beyond the standard library, so this path works on any interpreter.
    trace_id = secrets.token_hex(16)
    now = time.time_ns()
    body: dict[str, Any] = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "probe-json"}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": secrets.token_hex(8),
                                "name": "json span",
                                "kind": 2,
                                "startTimeUnixNano": str(now),
                                "endTimeUnixNano": str(now + 1_000_000),
                            }
                        ]
                    }
                ],
            }
        ]
    }
    assert post(backends.otlp_http_endpoint + "/v1/traces", json.dumps(body).encode(), "application/json") == 200
    trace = wait_for_trace(backends.jaeger_query_url, trace_id, expected_span_count=1)
    assert [s["operationName"] for s in trace["spans"]] == ["json span"]


def test_backends_are_healthy_and_logs_are_clean(backends: Backends) -> None:
    for key in ("OTELCOL_HEALTH_URL", "JAEGER_HEALTH_URL", "OTELCOL_METRICS_URL", "JAEGER_METRICS_URL"):
        with urllib.request.urlopen(backends.exports[key], timeout=5) as response:
            assert response.status == 200, key
    logs = backends.logs()
    # Renamed components keep working under their old names for a while, with a warning only.
    assert "deprecated" not in logs.lower(), logs


def test_up_then_down_leaves_nothing_running(backends_built: None, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    up = run_backends("up", "--state-dir", str(state_dir))
    try:
        assert up.returncode == 0, up.stderr
        exports = parse_exports(up.stdout)
        pids = [int(exports["OTELCOL_PID"]), int(exports["JAEGER_PID"])]
        ports = [
            int(address.rsplit(":", 1)[1].split("/")[0])
            for key, address in exports.items()
            if key.endswith(("_URL", "_ENDPOINT"))
        ]
        assert len(ports) == 10  # 4 collector + 6 Jaeger listeners
        assert all(alive(pid) for pid in pids)
        assert all(listening(port) for port in ports)

        # A second `up` on the same state must refuse instead of orphaning the first pair.
        again = run_backends("up", "--state-dir", str(state_dir))
        assert again.returncode != 0
        assert "already running" in again.stderr
    finally:
        down = run_backends("down", "--state-dir", str(state_dir))
    assert down.returncode == 0, down.stderr
    assert not any(alive(pid) for pid in pids)
    assert not any(listening(port) for port in ports)
    assert not (state_dir / "state.json").exists()
    # `down` again is a harmless no-op.
    assert run_backends("down", "--state-dir", str(state_dir)).returncode == 0


def test_down_kills_a_backend_that_ignores_sigterm(backends_built: None, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    up = run_backends("up", "--state-dir", str(state_dir))
    assert up.returncode == 0, up.stderr
    pid = int(parse_exports(up.stdout)["JAEGER_PID"])
    # SIGSTOP makes the process deaf to SIGTERM (it stays pending), like a hung backend.
    os.kill(pid, signal.SIGSTOP)
    try:
        down = run_backends("down", "--state-dir", str(state_dir), "--timeout", "1")
        assert down.returncode == 0, down.stderr
        assert "SIGKILL" in down.stderr
        assert not alive(pid)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
