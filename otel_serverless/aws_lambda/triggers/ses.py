"""Amazon SES receipt rules: an incoming mail. Addresses and subjects are personal data: not read."""

from __future__ import annotations

from typing import Any

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base


def detect(event: Any, context: Any) -> base.Trigger | None:
    found = base.records(event, "eventSource", "aws:ses")
    if found is None:
        return None
    mail = base.mapping(base.mapping(found[0], "ses"), "mail")
    attributes: base.Attributes = {attr.MESSAGING_SYSTEM: "aws_ses"}
    base.put(attributes, attr.MESSAGING_MESSAGE_ID, base.text(mail, "messageId", 256))
    return base.Trigger(name="ses", faas_trigger=base.PUBSUB, attributes=attributes)
