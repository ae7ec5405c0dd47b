"""Payload format 2.0, shared by API Gateway HTTP APIs and Lambda Function URLs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _http


def http_context(event: Any) -> Mapping[str, Any] | None:
    """``requestContext`` of a format-2.0 event, else None."""
    request = base.mapping(event, "requestContext")
    if request is None or base.mapping(request, "http") is None:
        return None
    return request


def trigger(event: Mapping[str, Any], request: Mapping[str, Any], name: str, *, routed: bool) -> base.Trigger:
    http = base.mapping(request, "http")
    route = base.text(event, "routeKey") if routed else None
    if route == "$default":
        route = None
    elif route and " " in route:
        route = route.split(" ", 1)[1]  # "GET /items/{id}" → "/items/{id}"
    return _http.trigger(
        event,
        name,
        method=base.text(http, "method", 16),
        path=base.text(event, "rawPath") or base.text(http, "path"),
        route=route,
        host=base.text(request, "domainName"),
        client=base.text(http, "sourceIp", 64),
    )
