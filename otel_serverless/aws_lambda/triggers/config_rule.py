"""AWS Config custom rules: a configuration change or a periodic evaluation."""

from __future__ import annotations

import re
from typing import Any, Final

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base

#: ``invokingEvent`` is JSON text (a whole configuration item): only its message type is read.
_MESSAGE_TYPE: Final = re.compile(r'"messageType"\s*:\s*"([A-Za-z]{1,128})"')


def detect(event: Any, context: Any) -> base.Trigger | None:
    rule = base.text(event, "configRuleName", 256)
    invoking = base.text(event, "invokingEvent", 1 << 20)
    if rule is None or invoking is None:
        return None
    attributes: base.Attributes = {attr.CONFIG_RULE_NAME: rule}
    found = _MESSAGE_TYPE.search(invoking)
    base.put(attributes, attr.CONFIG_MESSAGE_TYPE, found.group(1) if found else None)
    return base.Trigger(name="config", faas_trigger=base.OTHER, attributes=attributes)
