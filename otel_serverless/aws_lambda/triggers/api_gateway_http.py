"""API Gateway HTTP API (payload format 2.0), including REQUEST authorizers."""

from __future__ import annotations

from typing import Any

from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _v2


def detect(event: Any, context: Any) -> base.Trigger | None:
    request = _v2.http_context(event)
    if request is None:
        return None
    return _v2.trigger(event, request, "api_gateway_http", routed=True)
