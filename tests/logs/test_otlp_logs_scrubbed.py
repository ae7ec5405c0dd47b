"""OTLP log records go out scrubbed like spans: the message, and an exception's message and stack text."""

from __future__ import annotations

import logging

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from otel_serverless.logs.otlp import _Handler


def test_a_logged_exception_is_exported_scrubbed() -> None:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logging.getLogger("app.payments")
    handler = _Handler(provider)
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("card 4111 1111 1111 1111 declined for password=hunter2")
        except ValueError:
            logger.exception("charge failed with token=abcdef123456")
    finally:
        logger.removeHandler(handler)
    (exported,) = exporter.get_finished_logs()
    record = exported.log_record
    attributes = dict(record.attributes or {})
    shown = " ".join([str(record.body), *(str(value) for value in attributes.values())])
    for secret in ("4111 1111 1111 1111", "hunter2", "abcdef123456"):
        assert secret not in shown
    assert attributes["exception.type"] == "ValueError"
    assert "[REDACTED]" in attributes["exception.message"] and "[REDACTED]" in attributes["exception.stacktrace"]
