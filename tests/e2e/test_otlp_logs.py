"""OTEL_LOGS_EXPORTER=otlp: log records through the real collector's logs pipeline, on the trace, within the flush.

The collector is the one scripts/backends builds, run with collector-config/otelcol.yaml and the
logs-otlp.yaml overlay: its logs pipeline exports over OTLP/gRPC to a logs backend, here a gRPC
receiver in this process. Without the overlay the records are printed in the collector's log.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc

from tests.conftest import free_port, wait_http
from tests.e2e.test_collector_config import CONFIG_DIR, load_backends_script
from tests.otlp_receiver import listener

pytestmark = pytest.mark.e2e

APP = textwrap.dedent(
    """
    import json, logging, sys, time
    import otel_serverless
    otel_serverless.configure()
    from opentelemetry import trace

    log = logging.getLogger("orders")
    log.setLevel(logging.INFO)
    with trace.get_tracer("app").start_as_current_span("checkout") as span:
        log.info("order %s paid, password=hunter2", "o-1")
        try:
            1 / 0
        except ZeroDivisionError:
            log.exception("refund failed")
        logging.getLogger("otel_serverless.test").warning("our own record: not exported")
    started = time.monotonic()
    flushed = otel_serverless.flush(int(sys.argv[1]))
    print(json.dumps({
        "trace_id": format(span.get_span_context().trace_id, "032x"),
        "span_id": format(span.get_span_context().span_id, "016x"),
        "flushed": flushed,
        "seconds": time.monotonic() - started,
    }))
    """
)


class _Logs(logs_service_pb2_grpc.LogsServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.received: list[logs_service_pb2.ExportLogsServiceRequest] = []

    def Export(self, request: Any, context: Any) -> Any:  # the gRPC method, by its name
        self.received.append(request)
        return logs_service_pb2.ExportLogsServiceResponse()

    def records(self) -> list[Any]:
        return [
            record
            for request in self.received
            for resource in request.resource_logs
            for scope in resource.scope_logs
            for record in scope.log_records
        ]


@pytest.fixture
def logs_backend() -> Iterator[tuple[str, _Logs]]:
    service = _Logs()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", service
    finally:
        server.stop(grace=None)


@contextmanager
def _collector(tmp_path: Path, overlays: tuple[str, ...], extra: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """The built collector on free ports with otelcol.yaml and *overlays*: its OTLP/HTTP URL and its log."""
    binary = load_backends_script().artifacts().collector
    ports = {name: free_port() for name in ("grpc", "http", "health", "metrics", "jaeger")}
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OTELCOL_GRPC_ENDPOINT": f"127.0.0.1:{ports['grpc']}",
        "OTELCOL_HTTP_ENDPOINT": f"127.0.0.1:{ports['http']}",
        "OTELCOL_HEALTH_ENDPOINT": f"127.0.0.1:{ports['health']}",
        "OTELCOL_METRICS_HOST": "127.0.0.1",
        "OTELCOL_METRICS_PORT": str(ports["metrics"]),
        "JAEGER_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{ports['jaeger']}",  # traces are not sent in these tests
        **extra,
    }
    configs = [arg for name in ("otelcol.yaml", *overlays) for arg in ("--config", str(CONFIG_DIR / name))]
    log_path = tmp_path / "otelcol.log"
    log = log_path.open("w")
    process = subprocess.Popen([str(binary), *configs], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{ports['health']}/", timeout=60)
        yield f"http://127.0.0.1:{ports['http']}", log_path
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def collector(backends_built: None, logs_backend: tuple[str, _Logs], tmp_path: Path) -> Iterator[str]:
    overlay = ("logs-otlp.yaml",)
    with _collector(tmp_path, overlay, {"OTELCOL_LOGS_OTLP_GRPC_ENDPOINT": logs_backend[0]}) as (endpoint, _):
        yield endpoint


def run_app(tmp_path: Path, endpoint: str, flush_ms: int) -> dict[str, Any]:
    script = tmp_path / "app.py"
    script.write_text(APP)
    environ = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    environ.update(
        {
            "OTEL_SERVICE_NAME": "orders",
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        }
    )
    done = subprocess.run(
        [sys.executable, str(script), str(flush_ms)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome


def test_log_records_reach_the_logs_backend_on_the_trace(
    collector: str, logs_backend: tuple[str, _Logs], tmp_path: Path
) -> None:
    outcome = run_app(tmp_path, collector, 5000)
    assert outcome["flushed"] is True
    service = logs_backend[1]
    deadline = time.monotonic() + 30
    while len(service.records()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    records = service.records()
    assert [record.severity_text for record in records] == ["INFO", "ERROR"], records
    paid, failed = records
    assert paid.body.string_value.startswith("order o-1 paid, password=")
    assert "hunter2" not in paid.body.string_value, "scrubbed like every attribute"
    assert paid.severity_number == 9 and failed.severity_number == 17
    for record in records:
        assert record.trace_id.hex() == outcome["trace_id"] and record.span_id.hex() == outcome["span_id"]
    attributes = {item.key: item.value.string_value for item in failed.attributes}
    assert attributes["exception.type"] == "ZeroDivisionError"
    (resource,) = {
        attribute.value.string_value
        for r in service.received
        for rl in r.resource_logs
        for attribute in rl.resource.attributes
        if attribute.key == "service.name"
    }
    assert resource == "orders"


def test_a_collector_that_never_answers_costs_the_flush_its_deadline(tmp_path: Path) -> None:
    accepted: list[socket.socket] = []
    with listener(accepted.append) as port:
        outcome = run_app(tmp_path, f"http://127.0.0.1:{port}", 300)
    assert outcome["flushed"] is False
    assert outcome["seconds"] < 0.3 + 0.5, outcome


def test_by_default_the_collector_prints_the_records_in_its_own_log(backends_built: None, tmp_path: Path) -> None:
    with _collector(tmp_path, (), {"OTELCOL_LOGS_VERBOSITY": "detailed"}) as (endpoint, log_path):
        outcome = run_app(tmp_path, endpoint, 5000)
        assert outcome["flushed"] is True
        deadline = time.monotonic() + 30
        while "refund failed" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    printed = log_path.read_text()
    assert "order o-1 paid, password=" in printed and "refund failed" in printed, printed[-3000:]
    assert "hunter2" not in printed
    assert outcome["trace_id"] in printed  # the debug exporter prints each record's trace id
