"""API Gateway WebSocket APIs: ``$connect``, messages and ``$disconnect``, alike.

All three are ``faas.trigger=http`` SERVER spans with the same attributes (event type,
route key, connection id), so one query finds a connection's whole life. Only the
connect request has HTTP headers, and so a caller's context.
"""

from __future__ import annotations

from typing import Any, Final

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _http

EVENT_TYPES: Final = frozenset({"CONNECT", "MESSAGE", "DISCONNECT"})


def detect(event: Any, context: Any) -> base.Trigger | None:
    request = base.mapping(event, "requestContext")
    event_type = base.text(request, "eventType", 16)
    connection = base.text(request, "connectionId", 128)
    if event_type not in EVENT_TYPES or connection is None:
        return None
    trigger = _http.trigger(
        event,
        "api_gateway_websocket",
        method=None,
        path=None,
        route=None,
        host=base.text(request, "domainName"),
        client=base.text(base.mapping(request, "identity"), "sourceIp", 64),
    )
    trigger.attributes[attr.WEBSOCKET_EVENT_TYPE] = event_type.lower()
    trigger.attributes[attr.WEBSOCKET_CONNECTION_ID] = connection
    base.put(trigger.attributes, attr.WEBSOCKET_ROUTE_KEY, base.text(request, "routeKey", 256))
    base.put(trigger.attributes, attr.MESSAGING_MESSAGE_ID, base.text(request, "messageId", 128))
    return trigger
