"""Lambda Function URL: format 2.0 on a ``*.lambda-url.<region>.on.aws`` domain."""

from __future__ import annotations

from typing import Any

from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _v2


def detect(event: Any, context: Any) -> base.Trigger | None:
    request = _v2.http_context(event)
    if request is None or not base.on_function_url(request):
        return None
    return _v2.trigger(event, request, "function_url", routed=False)
