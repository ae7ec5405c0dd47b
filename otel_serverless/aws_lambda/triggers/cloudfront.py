"""CloudFront with Lambda@Edge: viewer and origin requests and responses, an HTTP trigger.

The request headers come as ``{"name": [{"key": "Name", "value": "…"}]}``; they are read
like any HTTP trigger's (the same bounds, and an ambiguous ``traceparent`` gives no parent).
"""

from __future__ import annotations

from typing import Any

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _http


def _headers(request: Any) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for count, (name, values) in enumerate((base.mapping(request, "headers") or {}).items()):
        if count >= _http.MAX_HEADER_NAMES:
            break
        if isinstance(name, str) and isinstance(values, list):
            headers[name] = [
                text for item in values[:16] if (text := base.text(item, "value", _http.MAX_FIELD_CHARS + 1))
            ]
    return headers


def detect(event: Any, context: Any) -> base.Trigger | None:
    listed = base.sequence(event, "Records")
    cf = base.mapping(listed[0], "cf") if listed else None
    if cf is None:
        return None
    config = base.mapping(cf, "config")
    request = base.mapping(cf, "request")
    headers = _headers(request)
    host = headers.get("host", [None])[0] if headers.get("host") else base.text(config, "distributionDomainName")
    trigger = _http.trigger(
        {"multiValueHeaders": headers},
        "cloudfront",
        method=base.text(request, "method", 16),
        path=base.text(request, "uri"),
        route=None,
        host=host,
        client=base.text(request, "clientIp", 64),
    )
    base.put(trigger.attributes, attr.CLOUDFRONT_EVENT_TYPE, base.text(config, "eventType", 32))
    base.put(trigger.attributes, attr.CLOUDFRONT_DISTRIBUTION_ID, base.text(config, "distributionId", 64))
    return trigger
