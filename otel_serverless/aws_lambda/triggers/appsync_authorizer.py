"""AppSync Lambda authorizers: the token is never read into an attribute."""

from __future__ import annotations

from typing import Any

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base


def detect(event: Any, context: Any) -> base.Trigger | None:
    request = base.mapping(event, "requestContext")
    api = base.text(request, "apiId", 128)
    if request is None or api is None or "authorizationToken" not in event or "queryString" not in request:
        return None
    attributes: base.Attributes = {attr.APPSYNC_API_ID: api}
    base.put(attributes, attr.GRAPHQL_OPERATION_NAME, base.text(request, "operationName", 256))
    return base.Trigger(name="appsync_authorizer", faas_trigger=base.OTHER, attributes=attributes)
