"""Trace and span ids in Python log records, text and JSON."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from otel_serverless.aws_lambda import log_correlation, traced
from tests.aws_lambda.conftest import LambdaContext, Pipeline


def test_records_carry_the_invocation_ids(pipeline: Pipeline, caplog: pytest.LogCaptureFixture) -> None:
    log_correlation.install()

    @traced(tracer_provider=pipeline.provider)
    def handler(event: Any, context: Any) -> None:
        logging.getLogger("app").warning("charging %s", "card")

    with caplog.at_level(logging.WARNING, logger="app"):
        handler({}, LambdaContext())
    (record,) = [r for r in caplog.records if r.name == "app"]
    span = pipeline.invocation()
    assert record.otelTraceID == format(span.context.trace_id, "032x")
    assert record.otelSpanID == format(span.context.span_id, "016x")
    assert record.otelTraceSampled is True
    outside = logging.getLogger("app").makeRecord("app", logging.INFO, __file__, 1, "x", (), None)
    assert outside.otelTraceID == "0"


def test_json_formatter_output() -> None:
    log_correlation.install()
    record = logging.getLogger("app").makeRecord("app", logging.ERROR, __file__, 1, "boom %d", (7,), None)
    record.aws_request_id = "req-9"
    document = json.loads(log_correlation.JsonFormatter().format(record))
    assert document["message"] == "boom 7"
    assert document["trace_id"] == "0" and document["span_id"] == "0"
    assert document["requestId"] == "req-9"
    assert document["level"] == "ERROR"


SCRIPT = textwrap.dedent(
    """
    import logging, sys
    logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(message)s", level=logging.INFO)
    from otel_serverless.aws_lambda import traced

    class Context:
        aws_request_id = "r1"
        function_name = "orders"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders"
        memory_limit_in_mb = "128"
        def get_remaining_time_in_millis(self):
            return 3000

    @traced
    def handler(event, context):
        logging.getLogger("app").info("inside")
        from opentelemetry import trace
        print("SPAN", format(trace.get_current_span().get_span_context().trace_id, "032x"))

    handler({}, Context())
    """
)


@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_lambda_text_format_gets_the_ids_appended(log_format: str, tmp_path: Any) -> None:
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": "orders",
        "AWS_LAMBDA_LOG_FORMAT": log_format,
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_SERVERLESS_STATE_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    script = SCRIPT.replace(
        "from otel_serverless.aws_lambda import traced",
        "import otel_serverless\notel_serverless.configure()\nfrom otel_serverless.aws_lambda import traced",
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stdout.splitlines()
    trace_id = next(line.split()[1] for line in lines if line.startswith("SPAN"))
    (logged,) = [line for line in lines if "inside" in line]
    if log_format == "Text":
        assert logged.startswith("INFO inside") and f"trace_id={trace_id}" in logged
    else:
        assert logged == "INFO inside"  # Lambda's JSON formatter prints the record attributes itself
