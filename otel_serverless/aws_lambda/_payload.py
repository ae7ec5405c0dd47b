"""Payload capture for the invocation span: the event and the response (see :mod:`otel_serverless._capture`)."""

from __future__ import annotations

from otel_serverless._capture import enabled, render

__all__ = ["enabled", "render"]
