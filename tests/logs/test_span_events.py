"""Log records written in an invocation become events of the active span, within bounds."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from otel_serverless.aws_lambda import traced
from otel_serverless.logs import span_events
from tests.aws_lambda.conftest import LambdaContext, Pipeline

app = logging.getLogger("orders.app")


@pytest.fixture(autouse=True)
def _fresh_factory() -> Iterator[None]:
    span_events.reset_for_tests()
    app.setLevel(logging.DEBUG)
    yield
    span_events.reset_for_tests()


def run(pipeline: Pipeline, body: Any) -> Any:
    span_events.install()  # as the wrapper's first invocation does, with this test's settings

    @traced(tracer_provider=pipeline.provider)
    def handler(event: Any, context: Any) -> str:
        body()
        return "done"

    assert handler({}, LambdaContext()) == "done"
    return pipeline.invocation()


def logs_of(span: Any) -> list[dict[str, Any]]:
    return [dict(event.attributes) for event in span.events if event.name == "log"]


def test_info_and_above_become_span_events_with_level_logger_and_message(pipeline: Pipeline) -> None:
    def body() -> None:
        app.debug("not by default")
        app.info("order %s accepted", 42)
        app.warning("stock low")

    span = run(pipeline, body)
    assert logs_of(span) == [
        {"log.level": "INFO", "log.logger": "orders.app", "log.message": "order 42 accepted"},
        {"log.level": "WARNING", "log.logger": "orders.app", "log.message": "stock low"},
    ]
    assert "serverless.log_events.dropped" not in span.attributes


def test_an_exception_logged_carries_its_type_message_and_stack(pipeline: Pipeline) -> None:
    def body() -> None:
        try:
            raise KeyError("sku-9")
        except KeyError:
            app.exception("lookup failed")

    (event,) = logs_of(run(pipeline, body))
    assert event["log.level"] == "ERROR" and event["exception.type"] == "KeyError"
    assert event["exception.message"] == "'sku-9'"
    assert "raise KeyError" in event["exception.stacktrace"]


def test_a_logger_that_does_not_propagate_is_seen_too(pipeline: Pipeline) -> None:
    from aws_lambda_powertools import Logger

    powertools = Logger(service="orders")  # its own handler, no propagation to the root logger

    span = run(pipeline, lambda: powertools.info("charged card"))
    (event,) = logs_of(span)
    assert event["log.message"] == "charged card" and event["log.level"] == "INFO"


def test_the_count_and_the_size_per_span_are_bounded_and_the_drop_counted(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_LOG_EVENTS_MAX_PER_SPAN", "3")
    monkeypatch.setenv("OTEL_SERVERLESS_LOG_EVENTS_MAX_CHARS", "100")

    def body() -> None:
        app.info("x" * 1000)
        for index in range(9):
            app.info("line %d", index)

    span = run(pipeline, body)
    events = logs_of(span)
    assert len(events) == 3
    assert events[0]["log.message"] == "x" * 100 + "…(+900 chars)"
    assert span.attributes["serverless.log_events.dropped"] == 7


def test_messages_are_scrubbed_like_every_attribute(pipeline: Pipeline) -> None:
    span = run(pipeline, lambda: app.warning("login failed for alice password=hunter2 token: abc123"))
    (event,) = logs_of(span)
    assert "hunter2" not in event["log.message"] and "abc123" not in event["log.message"]
    assert event["log.message"].startswith("login failed for alice")


@pytest.mark.parametrize("value", ["off", "OFF"])
def test_off_leaves_the_spans_alone(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_LOG_EVENTS_LEVEL", value)
    assert logs_of(run(pipeline, lambda: app.error("boom"))) == []


def test_a_bad_setting_warns_once_and_keeps_the_default(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_LOG_EVENTS_LEVEL", "loud")
    span = run(pipeline, lambda: app.info("kept"))
    assert [event["log.message"] for event in logs_of(span)] == ["kept"]
    assert sum("OTEL_SERVERLESS_LOG_EVENTS_LEVEL" in record.getMessage() for record in caplog.records) == 1


def test_no_span_no_event_and_logging_never_breaks(pipeline: Pipeline) -> None:
    span_events.install()
    app.info("outside any span")  # nothing to add to, nothing raised
    broken = logging.LogRecord("orders.app", logging.INFO, __file__, 1, "%d items", ("many",), None)
    span_events.add(broken, span_events._Limits())  # a record whose arguments do not fit
