"""Trace and span ids in Python log records, for text and JSON logs.

:func:`install` makes every ``LogRecord`` carry ``otelTraceID``, ``otelSpanID``
and ``otelTraceSampled`` (the names the OpenTelemetry logging instrumentation
uses, so existing format strings keep working) through the record factory, which
also covers loggers created before it ran. Then, by ``OTEL_SERVERLESS_LOG_CORRELATION``:

* ``auto`` (default): with Lambda's JSON log format (``AWS_LAMBDA_LOG_FORMAT=JSON``)
  the runtime prints record attributes by itself; with its text format, each root
  handler's formatter is wrapped to append ``trace_id=… span_id=…`` to the line.
* ``text`` / ``json``: the root handlers get :class:`TextFormatter` / :class:`JsonFormatter`.
* ``off``: logging is left alone.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any, Final

from opentelemetry import trace

from otel_serverless import _settings
from otel_serverless import environment_variables as env

TRACE_ID: Final = "otelTraceID"
SPAN_ID: Final = "otelSpanID"
SAMPLED: Final = "otelTraceSampled"
MODES: Final = ("auto", "off", "text", "json")

_lock = threading.Lock()
_installed = False


def _ids() -> tuple[str, str, bool]:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return "0", "0", False
    return format(context.trace_id, "032x"), format(context.span_id, "016x"), context.trace_flags.sampled


def _factory(previous: Any) -> Any:
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = previous(*args, **kwargs)
        try:
            trace_id, span_id, sampled = _ids()
        except Exception:  # logging must never fail because of us
            trace_id, span_id, sampled = "0", "0", False
        setattr(record, TRACE_ID, trace_id)
        setattr(record, SPAN_ID, span_id)
        setattr(record, SAMPLED, sampled)
        return record

    make_record.otel_serverless = True  # type: ignore[attr-defined]  # marks our factory
    return make_record


class TextFormatter(logging.Formatter):
    """Lambda's text layout with the trace and span ids."""

    DEFAULT: Final = "[%(levelname)s]\t%(asctime)s\t%(otelTraceID)s\t%(otelSpanID)s\t%(name)s\t%(message)s"

    def __init__(self, fmt: str | None = None) -> None:
        super().__init__(fmt or self.DEFAULT)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, trace and span ids, request id."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "timestamp": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, TRACE_ID, "0"),
            "span_id": getattr(record, SPAN_ID, "0"),
        }
        request_id = getattr(record, "aws_request_id", None)
        if request_id:
            document["requestId"] = request_id
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str, ensure_ascii=False)


class _Appending(logging.Formatter):
    """Wraps a formatter: its line, then the ids (before the trailing newline, if any)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        suffix = f"\ttrace_id={getattr(record, TRACE_ID, '0')} span_id={getattr(record, SPAN_ID, '0')}"
        if line.endswith("\n"):
            return line[:-1] + suffix + "\n"
        return line + suffix


def install(mode: str | None = None) -> None:
    """Correlate Python logging with traces (idempotent); *mode* overrides the setting."""
    global _installed
    chosen = _settings.read_choice(env.OTEL_SERVERLESS_LOG_CORRELATION, MODES, "auto", explicit=mode)
    if chosen == "off":
        return
    with _lock:
        previous = logging.getLogRecordFactory()
        if not getattr(previous, "otel_serverless", False):
            logging.setLogRecordFactory(_factory(previous))
        if _installed and mode is None:
            return
        _installed = True
    root = logging.getLogger()
    for handler in root.handlers:
        if chosen == "json":
            handler.setFormatter(JsonFormatter())
        elif chosen == "text":
            handler.setFormatter(TextFormatter())
        elif _lambda_text_format() and not isinstance(handler.formatter, (_Appending, JsonFormatter, TextFormatter)):
            handler.setFormatter(_Appending(handler.formatter or logging.Formatter()))


def _lambda_text_format() -> bool:
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    return in_lambda and os.environ.get("AWS_LAMBDA_LOG_FORMAT", "Text").lower() != "json"
