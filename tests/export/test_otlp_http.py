"""Our OTLP/HTTP exporter against real HTTP servers on 127.0.0.1.

A small collector stand-in decodes every request with the generated OTLP
classes and answers from a script (statuses, Retry-After, partial success,
closing idle connections). Failure modes use real sockets: a closed port, a
listener that accepts and never answers, one that answers a byte at a time.
"""

from __future__ import annotations

import gzip
import logging
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as SdkExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_serverless import _guard
from otel_serverless.export._exporters import otlp_exporter
from otel_serverless.export._otlp_http import DEFAULT_ENDPOINT, OTLPSpanExporter
from tests.otlp_receiver import closed_port, listener, serving, silent_listener

# Generous bound on how long an export may overrun its own timeout on a loaded
# 2-core machine; far below what an unbounded wait would take.
SLACK_S = 2.5
OTLP_VARIABLES = (
    "ENDPOINT",
    "HEADERS",
    "TIMEOUT",
    "COMPRESSION",
    "CERTIFICATE",
    "CLIENT_CERTIFICATE",
    "CLIENT_KEY",
)


@pytest.fixture(autouse=True)
def _clean_otlp_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTLP_VARIABLES:
        monkeypatch.delenv(f"OTEL_EXPORTER_OTLP_{name}", raising=False)
        monkeypatch.delenv(f"OTEL_EXPORTER_OTLP_TRACES_{name}", raising=False)
    monkeypatch.delenv("OTEL_SERVERLESS_EXPORTER", raising=False)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    request: ExportTraceServiceRequest
    client_port: int


@dataclass
class Collector:
    """Answers each request with the next scripted (status, headers, body), then 200."""

    port: int = 0
    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    #: Close each connection after answering, without saying so (an idle-timeout collector).
    drop_idle_connections: bool = False
    tls: bool = False

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def span_names(self) -> list[str]:
        return [
            span.name
            for item in self.received
            for resource_spans in item.request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]


@contextmanager
def collector(tls_context: ssl.SSLContext | None = None) -> Iterator[Collector]:
    state = Collector(tls=tls_context is not None)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real collector

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            with lock:
                state.attempts += 1
                status, headers, answer = state.script.pop(0) if state.script else (200, {}, b"")
                if status == 200:
                    state.received.append(
                        Received(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            ExportTraceServiceRequest.FromString(body),
                            self.client_address[1],
                        )
                    )
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            if state.drop_idle_connections:
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            return

    with serving(Handler, tls_context) as port:
        state.port = port
        yield state


@contextmanager
def dripping_listener() -> Iterator[int]:
    """Accepts, reads the request, then answers one byte every 50 ms, forever."""
    stop = threading.Event()

    def drip(connection: socket.socket) -> None:
        with connection:
            connection.settimeout(0.1)
            with suppress(OSError):
                connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                if stop.is_set():
                    break
                try:
                    connection.sendall(bytes((byte,)))
                except OSError:
                    break
                time.sleep(0.05)

    with listener(drip) as port:
        try:
            yield port
        finally:
            stop.set()  # before the listener joins its thread


def _spans(*names: str) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "exporter-test"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    for name in names:
        with tracer.start_as_current_span(name, attributes={"n": name}):
            pass
    return list(memory.get_finished_spans())


def _fail_until_warned(exporter: OTLPSpanExporter, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Export (it must fail) until this thread logged the failure's warning; this thread's warnings.

    The warning is logged once per kind of failure, and a worker left running by an
    earlier test that hits the same failure first takes that once: clear and retry.
    """
    warnings: list[str] = []
    for _ in range(5):
        _guard.reset_for_tests()
        assert exporter.export(_spans("x")) is SpanExportResult.FAILURE
        warnings = _our_warnings(caplog)
        if warnings:
            break
    return warnings


def _our_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    # This thread only: exporters left by other tests may still log from their workers.
    here = threading.get_ident()
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "otel_serverless" and r.levelno >= logging.WARNING and r.thread == here
    ]


# -- delivery and configuration -------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/"])
def test_general_endpoint_gets_the_traces_path_and_spans_arrive_decoded(
    suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with collector() as server:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.base + suffix)
        exporter = OTLPSpanExporter()
        assert exporter.export(_spans("a", "b")) is SpanExportResult.SUCCESS
        exporter.shutdown()
    assert [r.path for r in server.received] == ["/v1/traces"]
    assert server.span_names() == ["a", "b"]
    headers = server.received[0].headers
    assert headers["content-type"] == "application/x-protobuf"
    assert headers["user-agent"].startswith("otel-serverless/")
    assert "content-encoding" not in headers


def test_traces_endpoint_is_used_as_is_and_wins_over_the_general_one(monkeypatch: pytest.MonkeyPatch) -> None:
    with collector() as server:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", server.base + "/custom/ingest?tenant=7")
        assert OTLPSpanExporter().export(_spans("x")) is SpanExportResult.SUCCESS
    assert [r.path for r in server.received] == ["/custom/ingest?tenant=7"]


def test_one_connection_is_kept_alive_across_exports() -> None:
    with collector() as server:
        exporter = OTLPSpanExporter(server.base + "/v1/traces")
        results = [exporter.export(_spans(f"s{i}")) for i in range(4)]
        exporter.shutdown()
    assert results == [SpanExportResult.SUCCESS] * 4
    assert len({r.client_port for r in server.received}) == 1


def test_a_connection_the_collector_closed_while_idle_is_replaced_silently(caplog: pytest.LogCaptureFixture) -> None:
    with collector() as server:
        server.drop_idle_connections = True
        exporter = OTLPSpanExporter(server.base + "/v1/traces")
        results = []
        for i in range(3):
            results.append(exporter.export(_spans(f"s{i}")))
            time.sleep(0.05)  # let the server's close reach us before the next export
    assert results == [SpanExportResult.SUCCESS] * 3
    assert server.span_names() == ["s0", "s1", "s2"]
    assert _our_warnings(caplog) == []


def test_gzip_compression_from_the_traces_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip")
    with collector() as server:
        assert OTLPSpanExporter(server.base + "/v1/traces").export(_spans("zipped")) is SpanExportResult.SUCCESS
    assert server.received[0].headers["content-encoding"] == "gzip"
    assert server.span_names() == ["zipped"]


def test_unknown_compression_warns_and_sends_uncompressed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli")
    with collector() as server:
        assert OTLPSpanExporter(server.base + "/v1/traces").export(_spans("plain")) is SpanExportResult.SUCCESS
    assert "content-encoding" not in server.received[0].headers
    assert any("OTEL_EXPORTER_OTLP_COMPRESSION" in message for message in _our_warnings(caplog))


def test_headers_are_url_decoded_and_the_traces_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-general=ignored")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "Api-Key=secret%20value, x-tenant=a%3Db%2Cc")
    with collector() as server:
        exporter = OTLPSpanExporter(server.base + "/v1/traces", headers={"X-Explicit": "yes"})
        assert exporter.export(_spans("h")) is SpanExportResult.SUCCESS
    headers = server.received[0].headers
    assert headers["api-key"] == "secret value"
    assert headers["x-tenant"] == "a=b,c"
    assert headers["x-explicit"] == "yes"
    assert "x-general" not in headers


def test_a_header_that_would_split_the_request_is_not_sent(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "good=1,evil=x%0D%0AInjected%3A%20yes")
    with collector() as server:
        assert OTLPSpanExporter(server.base + "/v1/traces").export(_spans("h")) is SpanExportResult.SUCCESS
    headers = server.received[0].headers
    assert headers["good"] == "1"
    assert "evil" not in headers and "injected" not in headers
    warnings = _our_warnings(caplog)
    assert len(warnings) == 1 and "evil" in warnings[0] and "Injected" not in warnings[0]


def test_a_bad_endpoint_warns_and_the_default_applies(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://collector:21/x")
    exporter = OTLPSpanExporter()
    assert exporter.endpoint.url == DEFAULT_ENDPOINT
    assert any("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" in message for message in _our_warnings(caplog))


def test_timeout_variables_are_seconds_and_the_traces_one_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "7")
    assert OTLPSpanExporter().timeout == 7.0
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0.25")
    assert OTLPSpanExporter().timeout == 0.25
    assert OTLPSpanExporter(timeout=3).timeout == 3


def test_the_credentials_in_an_endpoint_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    exporter = OTLPSpanExporter(f"http://user:hunter2@127.0.0.1:{closed_port()}/v1/traces", timeout=0.2)
    warnings = _fail_until_warned(exporter, caplog)
    assert warnings and all("hunter2" not in message for message in warnings)
    assert all("hunter2" not in record.getMessage() for record in caplog.records)


# -- retries and failures -------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retryable_statuses_are_retried_until_accepted(status: int) -> None:
    with collector() as server:
        server.script = [(status, {}, b""), (status, {"Retry-After": "0"}, b"")]
        assert OTLPSpanExporter(server.base + "/v1/traces").export(_spans("r")) is SpanExportResult.SUCCESS
    assert server.attempts == 3
    assert server.span_names() == ["r"]


@pytest.mark.parametrize("status", [400, 401, 404, 413, 500])
def test_other_errors_are_not_retried_and_warn_once(status: int, caplog: pytest.LogCaptureFixture) -> None:
    with collector() as server:
        server.script = [(status, {}, b"nope " * 100)] * 3
        exporter = OTLPSpanExporter(server.base + "/v1/traces")
        assert exporter.export(_spans("a")) is SpanExportResult.FAILURE
        assert exporter.export(_spans("b")) is SpanExportResult.FAILURE
    assert server.attempts == 2
    warnings = _our_warnings(caplog)
    assert len(warnings) == 1 and f"HTTP {status}" in warnings[0]
    assert len(warnings[0]) < 400  # the collector's answer is quoted, bounded


def test_retries_stop_at_the_export_timeout(caplog: pytest.LogCaptureFixture) -> None:
    with collector() as server:
        server.script = [(503, {}, b"")] * 1000
        started = time.monotonic()
        result = OTLPSpanExporter(server.base + "/v1/traces", timeout=0.5).export(_spans("r"))
        elapsed = time.monotonic() - started
    assert result is SpanExportResult.FAILURE
    assert server.attempts >= 2  # it did retry
    assert elapsed < 0.5 + SLACK_S
    assert any("HTTP 503" in message for message in _our_warnings(caplog))


def test_a_retry_after_beyond_the_deadline_gives_up_at_once() -> None:
    with collector() as server:
        server.script = [(429, {"Retry-After": "120"}, b"")]
        assert OTLPSpanExporter(server.base + "/v1/traces", timeout=1).export(_spans("r")) is SpanExportResult.FAILURE
    assert server.attempts == 1


def test_a_collector_that_is_down_fails_the_export_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    exporter = OTLPSpanExporter(f"http://127.0.0.1:{closed_port()}/v1/traces", timeout=0.3)
    warnings = _fail_until_warned(exporter, caplog)
    assert len(warnings) == 1 and "unreachable" in warnings[0]


def test_a_collector_back_up_is_reached_again() -> None:
    port = closed_port()
    exporter = OTLPSpanExporter(f"http://127.0.0.1:{port}/v1/traces", timeout=0.2)
    assert exporter.export(_spans("lost")) is SpanExportResult.FAILURE
    with collector() as server:
        exporter.endpoint.port = server.port  # the same exporter, the collector now listening
        assert exporter.export(_spans("found")) is SpanExportResult.SUCCESS
    assert server.span_names() == ["found"]


@pytest.mark.parametrize("listener", [silent_listener, dripping_listener])
def test_a_collector_that_never_finishes_answering_cannot_hold_past_the_timeout(
    listener: object, caplog: pytest.LogCaptureFixture
) -> None:
    with listener() as port:  # type: ignore[operator]
        exporter = OTLPSpanExporter(f"http://127.0.0.1:{port}/v1/traces", timeout=0.4)
        started = time.monotonic()
        result = exporter.export(_spans("x"))
        elapsed = time.monotonic() - started
    assert result is SpanExportResult.FAILURE
    assert elapsed < 0.4 + SLACK_S
    assert any("no answer within" in message for message in _our_warnings(caplog))


def test_partial_success_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    answer = ExportTraceServiceResponse(
        partial_success=ExportTracePartialSuccess(rejected_spans=2, error_message="span too old")
    ).SerializeToString()
    with collector() as server:
        server.script = [(200, {}, answer)]
        assert OTLPSpanExporter(server.base + "/v1/traces").export(_spans("a", "b")) is SpanExportResult.SUCCESS
    warnings = _our_warnings(caplog)
    assert len(warnings) == 1 and "rejected 2 span(s): span too old" in warnings[0]


def test_a_garbled_answer_body_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    with collector() as server:
        server.script = [(200, {}, b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01garbage")]
        assert OTLPSpanExporter(server.base + "/v1/traces").export(_spans("a")) is SpanExportResult.SUCCESS
    assert _our_warnings(caplog) == []


def test_after_shutdown_nothing_is_sent() -> None:
    with collector() as server:
        exporter = OTLPSpanExporter(server.base + "/v1/traces")
        exporter.shutdown()
        assert exporter.export(_spans("late")) is SpanExportResult.FAILURE
    assert server.attempts == 0


# -- https ----------------------------------------------------------------------------


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("certs")
    return {name: _certificate(directory, name) for name in ("server", "client")}


def _server_tls(certificates: dict[str, tuple[Path, Path]], require_client: bool) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificates["server"])
    if require_client:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=certificates["client"][0])
    return context


def test_https_with_the_certificate_variable(
    certificates: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with collector(_server_tls(certificates, require_client=False)) as server:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.base)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", str(certificates["server"][0]))
        exporter = OTLPSpanExporter()
        assert [exporter.export(_spans(f"tls{i}")) for i in range(2)] == [SpanExportResult.SUCCESS] * 2
    assert server.span_names() == ["tls0", "tls1"]
    assert len({r.client_port for r in server.received}) == 1


def test_https_with_a_client_certificate(
    certificates: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with collector(_server_tls(certificates, require_client=True)) as server:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", server.base + "/v1/traces")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", str(certificates["server"][0]))
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", str(certificates["client"][0]))
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", str(certificates["client"][1]))
        assert OTLPSpanExporter().export(_spans("mtls")) is SpanExportResult.SUCCESS
    assert server.span_names() == ["mtls"]


def test_https_to_an_untrusted_server_fails_without_raising(
    certificates: dict[str, tuple[Path, Path]], caplog: pytest.LogCaptureFixture
) -> None:
    with collector(_server_tls(certificates, require_client=False)) as server:
        exporter = OTLPSpanExporter(server.base + "/v1/traces", timeout=0.5)
        assert exporter.export(_spans("x")) is SpanExportResult.FAILURE
    assert server.received == []
    assert any("CERTIFICATE_VERIFY_FAILED" in message for message in _our_warnings(caplog))


def test_missing_certificate_files_warn_and_fall_back(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    exporter = OTLPSpanExporter(
        f"https://127.0.0.1:{closed_port()}/v1/traces", certificate_file=str(tmp_path / "nope.pem"), timeout=0.2
    )
    assert exporter.export(_spans("x")) is SpanExportResult.FAILURE
    assert any("certificate files could not be loaded" in message for message in _our_warnings(caplog))


# -- wiring and weight ----------------------------------------------------------------


def test_http_protobuf_uses_ours_by_default_and_the_sdks_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(otlp_exporter("http/protobuf"), OTLPSpanExporter)
    monkeypatch.setenv("OTEL_SERVERLESS_EXPORTER", "sdk")
    assert isinstance(otlp_exporter("http/protobuf"), SdkExporter)
    monkeypatch.setenv("OTEL_SERVERLESS_EXPORTER", "fast")
    grpc = otlp_exporter("grpc")
    assert type(grpc).__module__.startswith("opentelemetry.exporter.otlp.proto.grpc")


def test_importing_the_exporter_loads_no_protobuf_requests_or_grpc() -> None:
    code = (
        "import sys, otel_serverless.export._otlp_http as m; m.OTLPSpanExporter();"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('google', 'requests', 'grpc', 'urllib3')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
