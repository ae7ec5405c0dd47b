"""API Gateway REST API (payload format 1.0), including REQUEST authorizers."""

from __future__ import annotations

from typing import Any

from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _http


def detect(event: Any, context: Any) -> base.Trigger | None:
    request = base.mapping(event, "requestContext")
    if request is None or "elb" in request or base.text(event, "httpMethod") is None:
        return None
    if base.mapping(request, "http") is not None:  # payload format 2.0
        return None
    return _http.trigger(
        event,
        "api_gateway_rest",
        method=base.text(event, "httpMethod", 16),
        path=base.text(event, "path"),
        route=base.text(event, "resource"),
        host=base.text(request, "domainName"),
        client=base.text(base.mapping(request, "identity"), "sourceIp", 64),
    )
