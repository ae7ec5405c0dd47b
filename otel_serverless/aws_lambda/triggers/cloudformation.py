"""CloudFormation custom resources: Create, Update and Delete requests.

``ResponseURL`` is a pre-signed S3 URL (a credential until it expires): never read.
"""

from __future__ import annotations

from typing import Any, Final

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base

REQUEST_TYPES: Final = frozenset({"Create", "Update", "Delete"})


def detect(event: Any, context: Any) -> base.Trigger | None:
    request_type = base.text(event, "RequestType", 16)
    stack = base.text(event, "StackId")
    if request_type not in REQUEST_TYPES or stack is None or "ResponseURL" not in event:
        return None
    attributes: base.Attributes = {attr.CLOUDFORMATION_REQUEST_TYPE: request_type, attr.CLOUDFORMATION_STACK_ID: stack}
    base.put(attributes, attr.CLOUDFORMATION_LOGICAL_RESOURCE_ID, base.text(event, "LogicalResourceId", 256))
    base.put(attributes, attr.CLOUDFORMATION_RESOURCE_TYPE, base.text(event, "ResourceType", 256))
    return base.Trigger(name="cloudformation", faas_trigger=base.OTHER, attributes=attributes)
