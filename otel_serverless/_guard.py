"""Telemetry never breaks the host: the one place where our errors are caught and reported.

Every hook that runs inside a user's call (a botocore hook, the handler wrapper,
a span processor) runs under :func:`guard`. An exception
there is logged once per *key* (so a hot path cannot flood the logs), with a
bounded message that never repeats inbound values in full, and is then
swallowed.

Tests must still see those errors: every swallowed exception is also appended
to :data:`swallowed` (bounded), and the test suite fails when a test leaves
anything there that it did not expect. That is the seam that keeps hook errors
from hiding, the flaw that let upstream botocore hooks drift unnoticed.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Final

from otel_serverless._text import PREVIEW_CHARS, preview

__all__ = [
    "MESSAGE_CHARS",
    "PREVIEW_CHARS",
    "guard",
    "logger",
    "preview",
    "report",
    "reset_for_tests",
    "swallowed",
    "warn_once",
]

logger = logging.getLogger("otel_serverless")

#: Longest log message we emit, whatever it is built from.
MESSAGE_CHARS = 512


_lock = threading.Lock()
_reported: set[str] = set()
#: Exceptions swallowed by :func:`guard`, newest last (a test seam; bounded).
swallowed: deque[tuple[str, BaseException]] = deque(maxlen=100)


def _bounded(message: str) -> str:
    """*message* scrubbed (the rules of every exported span: a secret in a setting or an
    inbound value is not logged either), then cut to :data:`MESSAGE_CHARS`."""
    message = _scrubbed(message)
    if len(message) <= MESSAGE_CHARS:
        return message
    return message[:MESSAGE_CHARS] + "…"


def _scrubbed(message: str) -> str:
    try:  # imported when a first warning is written (rare), never before
        from otel_serverless._scrub import clean_text

        return clean_text(message)
    except Exception:  # scrubbing itself not importable yet (a warning during our own import)
        return message


def warn_once(key: str, message: str) -> bool:
    """Log *message* as a warning the first time *key* is seen; True if it was logged."""
    with _lock:
        if key in _reported:
            return False
        _reported.add(key)
    logger.warning(_bounded(message))
    return True


def report(key: str, error: BaseException) -> None:
    """Record a swallowed *error* and log it once per *key*, without its traceback values."""
    swallowed.append((key, error))
    warn_once(
        f"error:{key}",
        f"otel-serverless: {key} failed and was skipped "
        f"({type(error).__name__}: {preview(str(error), 200)}); "
        "the application is unaffected; further errors here are not logged",
    )


class _Guard:
    # A class, not @contextmanager: a generator per use costs about a microsecond, and
    # a warm invocation enters a dozen guards.
    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: object) -> bool:
        if isinstance(error, Exception):
            report(self.key, error)
            return True
        return False  # nothing raised, or a BaseException (KeyboardInterrupt, SystemExit): not ours to stop


#: ``with guard(key):`` runs the block; if it raises an ``Exception``, reports and swallows it.
#: The class itself, not a function returning one: one call less per block.
guard: Final = _Guard


def reset_for_tests() -> None:
    """Forget what was reported, so each test sees its own first warning."""
    with _lock:
        _reported.clear()
        _sdk_seen.clear()
    swallowed.clear()


# -- the SDK's log lines about inbound data -------------------------------------------

#: SDK loggers that write inbound header values into their messages (the W3C baggage
#: propagator logs every malformed list member of a request's ``baggage`` header in full).
SDK_INBOUND_LOGGERS: Final = (
    "opentelemetry.baggage.propagation",
    "opentelemetry.trace.propagation.tracecontext",
    "opentelemetry.propagators.aws.aws_xray_propagator",
)
#: Distinct SDK messages let through per process (each once).
_SDK_MESSAGES_MAX: Final = 64
_sdk_seen: set[tuple[str, str]] = set()


class _BoundedSdkLines(logging.Filter):
    """Hostile input must not choose what a function logs: each SDK message about inbound
    data is logged once per template (not once per request), with the value cut to a preview."""

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        with _lock:
            if key in _sdk_seen or len(_sdk_seen) >= _SDK_MESSAGES_MAX:
                return False
            _sdk_seen.add(key)
        # Each argument (the inbound value) cut to a preview, the template kept whole.
        args = record.args if isinstance(record.args, tuple) else ()
        try:
            message = str(record.msg) % tuple(preview(arg) for arg in args) if args else str(record.msg)
        except (TypeError, ValueError):  # a template that does not take them: the template alone
            message = str(record.msg)
        record.msg, record.args = _bounded(message) + " (further lines like it are not logged)", None
        return True


_sdk_filter: Final = _BoundedSdkLines()
for _name in SDK_INBOUND_LOGGERS:
    logging.getLogger(_name).addFilter(_sdk_filter)
