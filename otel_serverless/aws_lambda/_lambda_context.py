"""Safe reads of the Lambda context object (the runtime's, or any look-alike)."""

from __future__ import annotations

from typing import Any


def text(context: Any, name: str) -> str | None:
    value = getattr(context, name, None)
    return value[:512] if isinstance(value, str) and value else None


def memory_mb(context: Any) -> int | None:
    value = getattr(context, "memory_limit_in_mb", None)
    if not isinstance(value, (int, str)) or isinstance(value, bool):
        return None
    try:
        memory = int(value)  # the runtime gives a string
    except (TypeError, ValueError):
        return None
    return memory if memory > 0 else None


def remaining_ms(context: Any) -> float | None:
    """Milliseconds left before the platform kills the invocation, or None if unknown."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    try:
        value = remaining()
    except Exception:  # a look-alike context that cannot answer: no deadline, not an error
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def account_id(arn: str | None) -> str | None:
    """``arn:aws:lambda:<region>:<account>:function:<name>`` → account."""
    if not arn:
        return None
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None
