"""AWS IoT Core: custom authorizers and fleet pre-provisioning hooks.

(IoT rules hand the function the device's own message, whose shape the rule decides:
those stay generic.) Tokens, passwords and certificates are never read into attributes.
"""

from __future__ import annotations

from typing import Any

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base


def detect(event: Any, context: Any) -> base.Trigger | None:
    protocols = base.mapping(event, "protocolData")
    if protocols is not None or base.mapping(event, "mqttContext") is not None:
        if base.mapping(event, "connectionMetadata") is None and "token" not in event:
            return None
        attributes: base.Attributes = {attr.IOT_HOOK: "custom_authorizer"}
        listed = base.sequence(event, "protocols")
        if listed:
            attributes[attr.IOT_PROTOCOLS] = [item[:32] for item in listed[:8] if isinstance(item, str)]
        return base.Trigger(name="iot", faas_trigger=base.OTHER, attributes=attributes)
    if base.text(event, "claimCertificateId", 128) is not None and base.text(event, "templateArn") is not None:
        return base.Trigger(name="iot", faas_trigger=base.OTHER, attributes={attr.IOT_HOOK: "pre_provisioning"})
    return None
