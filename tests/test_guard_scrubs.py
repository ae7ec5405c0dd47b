"""Our own log lines go through the same scrubbing as every exported span."""

from __future__ import annotations

import logging

import pytest

from otel_serverless import _guard, _settings


def test_a_secret_in_a_bad_setting_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="otel_serverless")
    hostile = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    assert _settings.read_int("X_TIMEOUT_MS", 5, environ={"X_TIMEOUT_MS": hostile}) == 5
    (record,) = caplog.records
    assert "X_TIMEOUT_MS" in record.getMessage()
    assert "eyJzdWIiOiIxIn0" not in record.getMessage() and "[REDACTED]" in record.getMessage()


def test_a_swallowed_error_is_reported_without_the_secret_in_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="otel_serverless")
    _guard.report("test.scrub", ValueError("cannot parse password=hunter2 now"))
    _guard.swallowed.clear()
    (record,) = caplog.records
    assert "hunter2" not in record.getMessage() and "password=[REDACTED]" in record.getMessage()
