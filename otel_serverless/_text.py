"""Excerpts of untrusted values for log lines and status descriptions: never a value in full."""

from __future__ import annotations

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
