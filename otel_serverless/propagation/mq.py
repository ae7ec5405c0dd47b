"""Amazon MQ messages as Lambda delivers them: ActiveMQ and RabbitMQ.

ActiveMQ producers carry the context in JMS message properties (delivered as the
``properties`` object of strings); RabbitMQ producers in the AMQP ``headers`` table
(delivered in ``basicProperties.headers``, a string value as ``{"bytes": [...]}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.context import Context

from otel_serverless.propagation import _carrier
from otel_serverless.propagation.kafka import header_text

#: Properties or headers looked at per message.
MAX_ENTRIES: Final = 64


def _entries(table: object) -> _carrier.Fields:
    if not isinstance(table, Mapping):
        return {}
    pairs: list[tuple[object, object]] = []
    for name, value in list(table.items())[:MAX_ENTRIES]:
        # A RabbitMQ long string comes as {"bytes": [...]}.
        pairs.append((name, header_text(value.get("bytes")) if isinstance(value, Mapping) else value))
    return _carrier.lowered(pairs)


def extract_activemq(message: Mapping[str, Any]) -> Context | None:
    """The producer's context from one ActiveMQ message's properties, or None."""
    return _carrier.extract(_entries(message.get("properties") if isinstance(message, Mapping) else None))


def extract_rabbitmq(message: Mapping[str, Any]) -> Context | None:
    """The producer's context from one RabbitMQ message's AMQP headers, or None."""
    properties = message.get("basicProperties") if isinstance(message, Mapping) else None
    return _carrier.extract(_entries(properties.get("headers") if isinstance(properties, Mapping) else None))
