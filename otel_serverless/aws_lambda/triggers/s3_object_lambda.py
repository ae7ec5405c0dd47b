"""S3 Object Lambda: a GET through an Object Lambda access point, an HTTP trigger.

The caller's request headers (``userRequest.headers``) carry its context. ``inputS3Url``
is a pre-signed URL and ``outputToken`` a credential: neither is read.
"""

from __future__ import annotations

from typing import Any

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _http


def detect(event: Any, context: Any) -> base.Trigger | None:
    request = base.mapping(event, "userRequest")
    if base.mapping(event, "getObjectContext") is None or request is None:
        return None
    url = base.text(request, "url")
    trigger = _http.trigger(
        request,
        "s3_object_lambda",
        method="GET",
        path=url.split("?", 1)[0] if url else None,
        route=None,
        host=_http.header(request, "host"),
        client=None,
    )
    access_point = base.text(base.mapping(event, "configuration"), "accessPointArn")
    base.put(trigger.attributes, attr.S3_OBJECT_LAMBDA_ACCESS_POINT, access_point)
    return trigger
