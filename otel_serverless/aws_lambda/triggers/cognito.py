"""Cognito user pool triggers (sign-up, authentication, token generation, messages …).

Only the trigger source and the pool are recorded: user names and attributes are personal data.
"""

from __future__ import annotations

from typing import Any

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base


def detect(event: Any, context: Any) -> base.Trigger | None:
    source = base.text(event, "triggerSource", 128)
    pool = base.text(event, "userPoolId", 128)
    if source is None or pool is None:
        return None
    attributes: base.Attributes = {attr.COGNITO_TRIGGER_SOURCE: source, attr.COGNITO_USER_POOL_ID: pool}
    return base.Trigger(name="cognito", faas_trigger=base.OTHER, attributes=attributes)
