"""Log records as events of the active span: level, logger, message, exception.

Installed through the log record factory, which sees the records of every logger
(Powertools' logger does not propagate to the root logger, so a root handler would
miss them) and only records a logger is enabled for. Bounded by settings: a level
threshold, a number of events per span (the rest counted on the span as
``serverless.log_events.dropped``) and a length per message and stack text. Messages
and stack texts are scrubbed before they are cut, and reach the exporter as span
event attributes, so the same scrubbing as every other attribute applies to them.
"""

from __future__ import annotations

import logging
import threading
import traceback
import weakref
from typing import Any, Final

from opentelemetry import trace

from otel_serverless import _settings
from otel_serverless import attributes as attr
from otel_serverless import environment_variables as env
from otel_serverless._guard import guard

EVENT_NAME: Final = "log"
LEVELS: Final = ("debug", "info", "warning", "error", "critical", "off")
DEFAULT_LEVEL: Final = "info"
DEFAULT_MAX_PER_SPAN: Final = 100
DEFAULT_MAX_CHARS: Final = 2048
#: Loggers whose records stay off the spans: the SDK's and ours (diagnostics, and a record
#: about a span written while that span ends must not become one of its events).
_OWN: Final = ("opentelemetry", "otel_serverless")

_lock = threading.Lock()
#: Events added per live span: the count is dropped with the span.
_counts: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


class _Limits:
    __slots__ = ("level", "max_chars", "max_per_span")

    def __init__(self) -> None:
        chosen = _settings.read_choice(env.OTEL_SERVERLESS_LOG_EVENTS_LEVEL, LEVELS, DEFAULT_LEVEL)
        self.level = logging.CRITICAL + 1 if chosen == "off" else int(logging.getLevelName(chosen.upper()))
        self.max_per_span = _settings.read_int(
            env.OTEL_SERVERLESS_LOG_EVENTS_MAX_PER_SPAN, DEFAULT_MAX_PER_SPAN, minimum=0, maximum=10_000
        )
        self.max_chars = _settings.read_int(
            env.OTEL_SERVERLESS_LOG_EVENTS_MAX_CHARS, DEFAULT_MAX_CHARS, minimum=64, maximum=65_536
        )


def _cut(text: str, limit: int) -> str:
    """*text* scrubbed, then cut to *limit*: scrubbed first, so the cut cannot part a secret
    from what shows it is one (the export scrubs again, with the same rules)."""
    from otel_serverless._scrub import clean_text

    text = clean_text(text)
    return text if len(text) <= limit else f"{text[:limit]}…(+{len(text) - limit} chars)"


def _attributes(record: logging.LogRecord, limits: _Limits) -> dict[str, Any]:
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit its template
        message = str(record.msg)
    found: dict[str, Any] = {
        attr.LOG_LEVEL: record.levelname,
        attr.LOG_LOGGER: record.name,
        attr.LOG_MESSAGE: _cut(message, limits.max_chars),
    }
    if record.exc_info and record.exc_info[1] is not None:
        kind, error, stack = record.exc_info
        found[attr.EXCEPTION_TYPE] = getattr(kind, "__qualname__", str(kind))
        found[attr.EXCEPTION_MESSAGE] = _cut(str(error), limits.max_chars)
        found[attr.EXCEPTION_STACKTRACE] = _cut(
            "".join(traceback.format_exception(kind, error, stack)), limits.max_chars
        )
    return found


def add(record: logging.LogRecord, limits: _Limits) -> None:
    """Add *record* to the active span as an event, within *limits*."""
    if record.levelno < limits.level or record.name.startswith(_OWN):
        return
    span = trace.get_current_span()
    if not span.is_recording():
        return
    with _lock:
        count = _counts.get(span, 0) + 1
        _counts[span] = count
    if count > limits.max_per_span:
        span.set_attribute(attr.LOG_EVENTS_DROPPED, count - limits.max_per_span)
        return
    span.add_event(EVENT_NAME, _attributes(record, limits), timestamp=int(record.created * 1e9))


#: The limits in force; None until installed (and when turned off), then our factory adds nothing.
_limits: _Limits | None = None
_factory_installed = False


def _factory(previous: Any) -> Any:
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = previous(*args, **kwargs)
        limits = _limits
        if limits is not None:
            with guard("log_events"):  # logging must never fail because of us
                add(record, limits)
        return record

    return make_record


def install() -> bool:
    """Put log records on the active span from now on (idempotent); False when turned off."""
    global _limits, _factory_installed
    limits = _Limits()
    with _lock:
        _limits = limits if limits.level <= logging.CRITICAL else None
        # Installed once per process: another factory (log correlation's) may wrap ours.
        if _limits is not None and not _factory_installed:
            logging.setLogRecordFactory(_factory(logging.getLogRecordFactory()))
            _factory_installed = True
    return _limits is not None


def reset_for_tests() -> None:
    """Stop adding events until the next install, which reads the settings anew."""
    global _limits
    with _lock:
        _limits = None
        _counts.clear()
