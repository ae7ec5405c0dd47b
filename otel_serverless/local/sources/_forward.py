"""Deliveries moto cannot make: a service pushes into a runtime-internal SQS queue, and this
poller hands each message to a delivery callback (a Lambda async invoke, or a send to the
user's queue) in AWS's shape, then deletes it.

The internal queue only moves the notification from moto to the runtime; the
callback is a push (the async invoke has Lambda's retries), so a message is
deleted once handed over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from otel_serverless._guard import preview
from otel_serverless.local.sources._queues import delete, outstanding, receive

logger = logging.getLogger("otel_serverless.local")

#: Handle one message of the internal queue (the received message, with its body).
Deliver = Callable[[dict[str, Any]], None]


class ForwardingQueue:
    """Poll one internal queue and deliver every message."""

    def __init__(self, sqs: Any, url: str, deliver: Deliver, description: str) -> None:
        self._sqs = sqs
        self._url = url
        self._deliver = deliver
        self.description = description

    def poll(self) -> int:
        delivered = 0
        while messages := receive(self._sqs, self._url, 10):
            for message in messages:
                try:
                    self._deliver(message)
                    delivered += 1
                except (ValueError, KeyError, TypeError) as error:
                    # A malformed notification is dropped, as AWS drops what it cannot deliver.
                    logger.warning("%s: dropped a malformed message: %s", self.description, preview(str(error)))
            delete(self._sqs, self._url, messages)
        return delivered

    def pending(self) -> bool:
        return outstanding(self._sqs, self._url) > 0
