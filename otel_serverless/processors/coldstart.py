"""Cold start: ``faas.coldstart``, the init type and duration, and a killed predecessor."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from opentelemetry.sdk.trace import Span
from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless._invocation import Invocation
from otel_serverless.processors._stage import ServerlessProcessor

_WARM: Final = MappingProxyType({attr.FAAS_COLDSTART: False})


class ColdStartProcessor(ServerlessProcessor):
    """``faas.coldstart`` on every invocation span; on the first one, what the init was.

    ``serverless.init.type`` tells on-demand, provisioned concurrency and SnapStart
    apart; ``serverless.init.duration_ms`` is measured for on-demand only (see
    ``aws_lambda._state``). When the previous invocation in this environment was
    killed, the first invocation of the new process says so, with an event.
    """

    name = "coldstart"

    def start_attributes(self, invocation: Invocation) -> Mapping[str, AttributeValue]:
        cold = invocation.cold
        if cold is None:
            return _WARM
        attributes: dict[str, AttributeValue] = {attr.FAAS_COLDSTART: True, attr.INIT_TYPE: cold.init_type}
        if cold.init_duration_ms is not None:
            attributes[attr.INIT_DURATION_MS] = round(cold.init_duration_ms, 3)
        if cold.snapstart_restored:
            attributes[attr.SNAPSTART_RESTORED] = True
        previous = cold.previous
        if previous is not None:
            attributes[attr.PREVIOUS_KILLED] = True
            attributes[attr.PREVIOUS_REASON] = previous.reason
            if previous.request_id:
                attributes[attr.PREVIOUS_REQUEST_ID] = previous.request_id
        return attributes

    def started(self, span: Span, invocation: Invocation) -> None:
        cold = invocation.cold
        previous = None if cold is None else cold.previous
        if previous is not None:
            span.add_event(
                attr.PREVIOUS_KILLED_EVENT,
                {attr.PREVIOUS_REASON: previous.reason, attr.PREVIOUS_REQUEST_ID: previous.request_id or ""},
            )
