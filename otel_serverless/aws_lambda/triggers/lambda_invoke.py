"""A direct ``Invoke`` from another function or app, carrying context in the ClientContext.

The event can be anything, so this detector looks at the Lambda context instead
(``context.client_context.custom``, where ``propagation.lambda_invoke`` puts the
fields) and runs after every event-shape detector.
"""

from __future__ import annotations

from typing import Any

from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _extract


def detect(event: Any, context: Any) -> base.Trigger | None:
    client_context = getattr(context, "client_context", None)
    if client_context is None:
        return None
    parent = _extract.call("lambda_invoke", "extract_client_context", client_context)
    if parent is None:
        return None
    return base.Trigger(name="lambda_invoke", faas_trigger=base.OTHER, parent=parent)
