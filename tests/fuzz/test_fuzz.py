"""Property-based fuzzing of everything that reads inbound data: the trigger parsers, every
carrier getter, and the handler wrapper. No exception escapes, each call returns in bounded
time, and no log line our code writes is over 1 KB or repeats an inbound value in full.

A bounded run is part of the test command; ``fuzz/atheris_inbound.py`` runs the same
targets under atheris for as many inputs as asked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from otel_serverless import _guard
from otel_serverless.aws_lambda import traced
from otel_serverless.aws_lambda.triggers import detect
from tests.fuzz.strategies import MARKER, MAX_LOG_CHARS, Context, events, getters, json_values, timed

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
GETTERS = getters()


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


#: Our logger, and the SDK's that log inbound values (their lines reach the same function log).
LOGGERS = ("otel_serverless", *_guard.SDK_INBOUND_LOGGERS)


@pytest.fixture(autouse=True)
def log_lines() -> Iterator[_Lines]:
    handler = _Lines()
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
    yield handler
    for name in LOGGERS:
        logging.getLogger(name).removeHandler(handler)
    for line in handler.lines:
        assert len(line) <= MAX_LOG_CHARS, line[:200]
        assert MARKER not in line, line[:200]


def test_the_getters_are_found() -> None:
    names = {function.__name__ for function in GETTERS}
    assert {"extract_lambda_record", "extract_event", "extract_record", "extract_client_context"} <= names
    assert len(GETTERS) >= 12


def test_a_long_inbound_value_in_a_log_line_is_caught(log_lines: _Lines) -> None:
    logging.getLogger("otel_serverless").warning("bad header %s", _guard.preview(MARKER))
    assert MARKER not in log_lines.lines[-1] and len(log_lines.lines[-1]) <= MAX_LOG_CHARS


def test_the_sdks_lines_about_a_hostile_baggage_header_are_bounded_and_once(log_lines: _Lines) -> None:
    from opentelemetry.baggage.propagation import W3CBaggagePropagator

    _guard.reset_for_tests()
    for _ in range(3):
        W3CBaggagePropagator().extract({"baggage": f"{MARKER},{MARKER}x,k=v"})
    sdk = [line for line in log_lines.lines if "doesn't match" in line]
    assert len(sdk) == 1
    assert len(sdk[0]) <= _guard.PREVIEW_CHARS + 120 and MARKER not in sdk[0]


@FUZZ
@given(event=events)
def test_trigger_detection_never_raises(event: Any) -> None:
    before = json.dumps(event)
    found = timed(lambda: detect(event, Context()))
    assert found.faas_trigger in {"http", "pubsub", "datasource", "timer", "other"}
    assert json.dumps(event) == before  # never mutated (compared as text: NaN is not equal to itself)


@FUZZ
@given(carrier=json_values)
def test_every_getter_never_raises(carrier: Any) -> None:
    for getter in GETTERS:
        timed(lambda getter=getter: getter(carrier))  # type: ignore[misc]


@FUZZ
@given(event=events)
def test_the_wrapper_passes_the_handlers_result_through(event: Any) -> None:
    _guard.reset_for_tests()  # each example may warn once again: every line is checked

    @traced
    def handler(incoming: Any, context: Any) -> dict[str, Any]:
        return {"seen": incoming is event}

    assert timed(lambda: handler(event, Context())) == {"seen": True}
