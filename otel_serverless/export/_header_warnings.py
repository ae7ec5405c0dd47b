"""The SDK's warnings about a malformed OTLP header, without the header's value.

``opentelemetry.util.re.parse_env_headers`` (which reads ``OTEL_EXPORTER_OTLP_HEADERS``
for our exporter and the SDK's) logs the whole ``name=value`` entry it cannot parse, and
header values are where credentials go (``x-api-key=…``, ``authorization=Basic …``). A
filter on its logger keeps each warning and replaces the entry with its name alone — when
the entry has a plain header name; otherwise with only its length.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

#: The logger ``parse_env_headers`` warns on.
LOGGER: Final = "opentelemetry.util.re"
_NAME_CHARS: Final = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
#: How each of those warnings begins (strict and liberal parsing alike).
_WARNING: Final = "Header format invalid!"
_lock = threading.Lock()


class HeaderValueFilter(logging.Filter):
    """Rewrites the one argument of the SDK's header warnings: the entry becomes ``name=…``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            isinstance(record.msg, str)
            and record.msg.startswith(_WARNING)
            and isinstance(args, tuple)
            and len(args) == 1
            and isinstance(args[0], str)
        ):
            record.args = (hidden(args[0]),)
        return True


def hidden(entry: str) -> str:
    """*entry* (``name=value``) as it may be logged: its name, never its value."""
    name, separator, _ = entry.partition("=")
    name = name.strip()
    if separator and name and len(name) <= 64 and set(name) <= _NAME_CHARS:
        return f"{name}=<value not logged>"
    return f"<an entry of {len(entry)} characters, not logged>"


def install() -> None:
    """Put the filter on the SDK's logger, once per process."""
    logger = logging.getLogger(LOGGER)
    with _lock:
        if not any(isinstance(existing, HeaderValueFilter) for existing in logger.filters):
            logger.addFilter(HeaderValueFilter())
