"""Text helpers: excerpts of untrusted values for log lines and status descriptions (never a
value in full), and regular expressions compiled at their first use."""

from __future__ import annotations

import functools
import re

#: Longest excerpt of an untrusted value that may appear in a log line.
PREVIEW_CHARS = 64


def preview(value: object, limit: int = PREVIEW_CHARS) -> str:
    """A short, safe excerpt of *value* for a log line: never the value in full."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:  # a hostile __repr__ must not escape either
        return f"<unprintable {type(value).__name__}>"
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…(+{len(text) - limit} chars)"


@functools.cache
def pattern(source: str, flags: int = 0) -> re.Pattern[str]:
    """*source* compiled, once per process, at its first use.

    For the rules that only unusual text reaches (the scrubbing rules for text that may
    hold a secret): compiling them all at import would lengthen every cold start for
    text that most functions never produce. Held for the process's life, unlike the
    ``re`` module's own bounded cache, which other code in the process may fill.
    """
    return re.compile(source, flags)
