"""VPC Lattice services (payload versions 1.0 and 2.0): an HTTP trigger."""

from __future__ import annotations

from typing import Any

from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _http


def detect(event: Any, context: Any) -> base.Trigger | None:
    method = base.text(event, "method", 16)
    request = base.mapping(event, "requestContext")
    if method is None or base.mapping(event, "headers") is None:
        return None
    if request is not None and base.text(request, "serviceNetworkArn") is not None:
        path = base.text(event, "path")  # 2.0
    elif "raw_path" in event:
        path = base.text(event, "raw_path")  # 1.0
    else:
        return None
    headers = base.mapping(event, "headers")
    return _http.trigger(
        event,
        "vpc_lattice",
        method=method,
        path=path,
        route=None,
        host=base.text(headers, "host"),
        client=None,
    )
