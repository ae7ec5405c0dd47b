"""Application Load Balancer target (single- or multi-value headers)."""

from __future__ import annotations

from typing import Any

from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _http


def detect(event: Any, context: Any) -> base.Trigger | None:
    request = base.mapping(event, "requestContext")
    if request is None or base.mapping(request, "elb") is None:
        return None
    return _http.trigger(
        event,
        "alb",
        method=base.text(event, "httpMethod", 16),
        path=base.text(event, "path"),
        route=None,
        host=_http.header(event, "host"),
        client=None,
    )
