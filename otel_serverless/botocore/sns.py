"""SNS Publish / PublishBatch: one attribute slot per message (no fallback channel)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless.botocore import _upstream
from otel_serverless.botocore._base import Extension, Params, bodies, entries, messaging
from otel_serverless.propagation import sns
from otel_serverless.propagation._carrier import Fields

SYSTEM = "aws.sns"
_BATCH = "PublishBatchRequestEntries"


def topic_name(params: Params) -> str:
    for name in ("TopicArn", "TargetArn"):
        arn = params.get(name)
        if isinstance(arn, str) and arn:
            return arn.rsplit(":", 1)[-1]
    # A phone number is personal data: never a span attribute.
    return "phone_number" if params.get("PhoneNumber") else "unknown"


class SnsExtension(Extension):
    service = "sns"
    operations = frozenset({"Publish", "PublishBatch"})
    upstream_injects = True

    def span_name(self) -> str:
        return f"send {topic_name(self.call.params)}"

    def attributes(self, params: Params) -> dict[str, AttributeValue]:
        batch = self.call.operation == "PublishBatch"
        count = len(entries(params, _BATCH)) if batch else None
        # aws.sns.topic.arn is set for every SNS call with the resource (botocore._retries.call_attributes).
        return messaging(SYSTEM, topic_name(params), self.call.operation, count)

    def inject(self, params: Params, fields: Fields) -> Params:
        if self.call.operation == "Publish":
            new, outcome = sns.inject_entry(params, fields)
            self.call.outcomes.append(outcome)
            return new
        new_entries, outcomes = sns.inject_entries(entries(params, _BATCH), fields)
        self.call.outcomes.extend(outcomes)
        return {**params, _BATCH: new_entries}

    def protect(self, params: Params) -> Params:
        # Upstream assigns entry["MessageAttributes"] and writes into that dict in place.
        if self.call.operation == "Publish":
            protected: Params = _protected(params)
            return protected
        return {**params, _BATCH: [_protected(entry) for entry in entries(params, _BATCH)]}

    def undo_upstream(self, params: Params, fields: Fields) -> Params:
        if self.call.operation == "Publish":
            if "MessageAttributes" not in params:
                return params
            return {**params, "MessageAttributes": _upstream.strip_attributes(params["MessageAttributes"], fields)}
        stripped = [
            {**entry, "MessageAttributes": _upstream.strip_attributes(entry.get("MessageAttributes"), fields)}
            if isinstance(entry, Mapping) and "MessageAttributes" in entry
            else entry
            for entry in entries(params, _BATCH)
        ]
        return {**params, _BATCH: stripped}

    def message(self, params: Params) -> Any:
        return bodies(params, "Message", "PublishBatchRequestEntries", "Message")

    def result_attributes(self, result: Mapping[str, Any]) -> dict[str, AttributeValue]:
        message_id = result.get("MessageId")
        if isinstance(message_id, str):
            return {attr.MESSAGING_MESSAGE_ID: message_id}
        successful = result.get("Successful")
        if isinstance(successful, list) and len(successful) == 1 and isinstance(successful[0], Mapping):
            only = successful[0].get("MessageId")
            return {attr.MESSAGING_MESSAGE_ID: only} if isinstance(only, str) else {}
        return {}


def _protected(entry: object) -> Any:
    if not isinstance(entry, Mapping):
        return entry
    attributes = entry.get("MessageAttributes")
    copy = dict(entry)
    if isinstance(attributes, Mapping):
        copy["MessageAttributes"] = dict(attributes)
    return copy
