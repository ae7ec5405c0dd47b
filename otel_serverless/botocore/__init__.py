"""Producer side: botocore hooks that carry trace context across AWS calls."""

from __future__ import annotations


def instrument() -> None:
    """Install the hooks (idempotent). Filled in by the propagation work."""
