"""Amazon MQ: ActiveMQ (``messages``) and RabbitMQ (``rmqMessagesByQueue``), batch triggers.

The broker's ``redelivered`` flag tells a redelivery (a second attempt at least); each
message's producer context comes from its properties or AMQP headers (``propagation.mq``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from opentelemetry.trace import SpanKind

from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _extract

#: Messages read per invocation.
MAX_MESSAGES: Final = 10_000


def _activemq(event: Any) -> Iterator[tuple[dict[str, Any], str | None, str | None]]:
    for message in base.sequence(event, "messages") or ():
        if isinstance(message, dict):
            destination = base.text(base.mapping(message, "destination"), "physicalName", 256)
            yield message, base.text(message, "messageID", 256), destination


def _rabbitmq(event: Any) -> Iterator[tuple[dict[str, Any], str | None, str | None]]:
    for queue, messages in (base.mapping(event, "rmqMessagesByQueue") or {}).items():
        name = queue.split("::", 1)[0][:256] if isinstance(queue, str) else None
        for message in messages if isinstance(messages, list) else ():
            if isinstance(message, dict):
                yield message, base.text(base.mapping(message, "basicProperties"), "messageId", 256), name


#: eventSource → (trigger name, messaging.system, messages, carrier getter).
SOURCES: Final = {
    "aws:amq": ("activemq", "activemq", _activemq, "extract_activemq"),
    "aws:rmq": ("rabbitmq", "rabbitmq", _rabbitmq, "extract_rabbitmq"),
}


def detect(event: Any, context: Any) -> base.Trigger | None:
    source = SOURCES.get(base.text(event, "eventSource", 16) or "")
    if source is None:
        return None
    name, system, messages, getter = source
    records: list[base.Record] = []
    destinations: list[str] = []
    for raw, message_id, destination in messages(event):
        if len(records) >= MAX_MESSAGES:
            break
        if destination and destination not in destinations:
            destinations.append(destination)
        records.append(
            base.Record(
                index=len(records),
                source=raw,
                message_id=message_id,
                parent=_extract.call("mq", getter, raw),
                attempt=2 if raw.get("redelivered") is True else None,
                attributes=base.message_attributes(system, message_id, destination),
            )
        )
    attempts = [record.attempt for record in records if record.attempt]
    destination = destinations[0] if len(destinations) == 1 else None
    return base.Trigger(
        name=name,
        faas_trigger=base.PUBSUB,
        kind=SpanKind.CONSUMER,
        attributes=base.batch_attributes(system, len(records), destination),
        records=records,
        batch=True,
        attempt=max(attempts) if attempts else None,
        destination=destination,
    )
