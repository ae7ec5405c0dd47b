"""EventBridge PutEvents: context in each entry's ``Detail`` and, when lossless, ``TraceHeader``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless.botocore._base import Extension, Params, entries, messaging
from otel_serverless.propagation import eventbridge, xray
from otel_serverless.propagation._carrier import Fields

SYSTEM = "aws.eventbridge"


def bus_name(params: Params) -> str:
    names = {
        (entry.get("EventBusName") or "default") if isinstance(entry, Mapping) else "default"
        for entry in entries(params, "Entries")
    }
    name = names.pop() if len(names) == 1 else "default" if not names else "multiple"
    return str(name).rsplit("/", 1)[-1]


class EventsExtension(Extension):
    service = "events"
    operations = frozenset({"PutEvents"})

    def span_name(self) -> str:
        return f"send {bus_name(self.call.params)}"

    def attributes(self, params: Params) -> dict[str, AttributeValue]:
        return messaging(SYSTEM, bus_name(params), self.call.operation, len(entries(params, "Entries")))

    def inject(self, params: Params, fields: Fields) -> Params:
        new_entries, outcomes = eventbridge.inject_entries(entries(params, "Entries"), fields, xray.lossless())
        self.call.outcomes.extend(outcomes)
        return {**params, "Entries": new_entries}

    def message(self, params: Params) -> Any:
        listed = [entry.get("Detail") for entry in entries(params, "Entries") if isinstance(entry, dict)]
        return listed or None

    def result_attributes(self, result: Mapping[str, Any]) -> dict[str, AttributeValue]:
        results = result.get("Entries")
        if isinstance(results, list) and len(results) == 1 and isinstance(results[0], Mapping):
            event_id = results[0].get("EventId")
            return {attr.MESSAGING_MESSAGE_ID: event_id} if isinstance(event_id, str) else {}
        return {}
