"""SQS SendMessage / SendMessageBatch: one attribute slot, AWSTraceHeader fallback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless.botocore import _config
from otel_serverless.botocore._base import Extension, Params, bodies, entries, messaging
from otel_serverless.propagation import sqs, xray
from otel_serverless.propagation._carrier import Fields

SYSTEM = "aws_sqs"


def queue_name(url: object) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1] if isinstance(url, str) and url else "unknown"


def _no_header() -> None:
    return None


class SqsExtension(Extension):
    service = "sqs"
    operations = frozenset({"SendMessage", "SendMessageBatch"})

    def span_name(self) -> str:
        return f"send {queue_name(self.call.params.get('QueueUrl'))}"

    def attributes(self, params: Params) -> dict[str, AttributeValue]:
        batch = self.call.operation == "SendMessageBatch"
        count = len(entries(params, "Entries")) if batch else None
        # aws.sqs.queue.url is set for every SQS call with the resource (botocore._retries.call_attributes).
        return messaging(SYSTEM, queue_name(params.get("QueueUrl")), self.call.operation, count)

    def inject(self, params: Params, fields: Fields) -> Params:
        max_bytes = _config.read().sqs_max_message_bytes
        # The X-Ray header is only the fallback for a message whose attribute slot could not
        # be used: built, and the message tried again with it, only when one was skipped.
        # A message that takes the slot never looks at the header, so the outcome is the same.
        # No fields at all (OTEL_PROPAGATORS=none): nothing is carried, X-Ray included.
        header = xray.header if fields else _no_header
        if self.call.operation == "SendMessage":
            new, outcome = sqs.inject_entry(params, fields, None, max_bytes=max_bytes)
            if not outcome.injected:
                new, outcome = sqs.inject_entry(params, fields, header(), max_bytes=max_bytes)
            self.call.outcomes.append(outcome)
            return new
        listed = entries(params, "Entries")
        new_entries, outcomes = sqs.inject_entries(listed, fields, None, max_bytes=max_bytes)
        if not all(outcome.injected for outcome in outcomes):
            new_entries, outcomes = sqs.inject_entries(listed, fields, header(), max_bytes=max_bytes)
        self.call.outcomes.extend(outcomes)
        return {**params, "Entries": new_entries}

    def message(self, params: Params) -> Any:
        return bodies(params, "MessageBody", "Entries", "MessageBody")

    def result_attributes(self, result: Mapping[str, Any]) -> dict[str, AttributeValue]:
        if self.call.operation == "SendMessage":
            message_id = result.get("MessageId")
            return {attr.MESSAGING_MESSAGE_ID: message_id} if isinstance(message_id, str) else {}
        successful = result.get("Successful")
        if isinstance(successful, list) and len(successful) == 1 and isinstance(successful[0], Mapping):
            message_id = successful[0].get("MessageId")
            return {attr.MESSAGING_MESSAGE_ID: message_id} if isinstance(message_id, str) else {}
        return {}
