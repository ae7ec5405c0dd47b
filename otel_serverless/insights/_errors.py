"""The one error a source raises: a one-line message for the person who ran the command."""

from __future__ import annotations


class SourceError(Exception):
    """A source could not be read (missing file, not OTLP, Jaeger unreachable …)."""
