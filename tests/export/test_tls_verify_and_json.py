"""No silent surprises: an HTTPS collector whose certificate does not verify; OTLP protocol http/json."""

from __future__ import annotations

import logging
import ssl
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SpanExportResult

from otel_serverless.export._exporters import otlp_protocol
from otel_serverless.export._otlp_http import OTLPSpanExporter
from tests.export.test_otlp_http import _certificate, _spans, collector


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]


def test_an_unverified_certificate_is_one_clear_warning_at_the_first_export(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(*_certificate(tmp_path, "self-signed"))
    with collector(server_tls) as server:
        exporter = OTLPSpanExporter(f"{server.base}/v1/traces", timeout=10)
        started = time.monotonic()
        assert exporter.export(_spans("first")) is SpanExportResult.FAILURE
        first = time.monotonic() - started
        (warning,) = _warnings(caplog)
        assert exporter.export(_spans("second")) is SpanExportResult.FAILURE
        exporter.shutdown()
    # At the first failure, not after the 10 s export timeout of retries: the certificate will not change.
    assert first < 2, first
    assert "did not verify" in warning and "CERTIFICATE_VERIFY_FAILED" in warning
    assert "OTEL_EXPORTER_OTLP_CERTIFICATE" in warning and server.base in warning
    assert _warnings(caplog) == [warning], "once"
    assert server.received == []


@pytest.mark.parametrize("variable", ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"])
def test_http_json_warns_once_and_says_what_is_sent(
    variable: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(variable, "HTTP/JSON")
    assert otlp_protocol() == "http/protobuf"
    assert otlp_protocol() == "http/protobuf"
    (warning,) = _warnings(caplog)
    assert warning.startswith(f"otel-serverless: {variable}=http/json: OTLP/JSON export is not supported")
    assert "sending http/protobuf to the same endpoint instead" in warning


def test_http_json_for_traces_only_keeps_the_general_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")
    assert otlp_protocol() == "http/protobuf"
