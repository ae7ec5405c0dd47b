"""Asynchronous invocation (``InvocationType=Event``): Lambda's internal queue and its two retries.

Lambda answers ``202`` at once, queues the event and runs it later; a function
error or timeout is retried up to ``max_retry_attempts`` times (default 2) with
the *same request id*, as Lambda does. AWS waits about one and then two minutes
between attempts; locally the delays are short (``retry_delays``) so a demo
finishes in seconds. An event that failed every attempt goes to the function's
dead-letter queue, with the ``RequestID``/``ErrorCode``/``ErrorMessage`` message
attributes Lambda adds. A throttled event waits for a free instance and does not
use up an attempt, as in Lambda.

Lambda passes ``ClientContext`` to the function for synchronous invocations only,
so an async event never carries one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from otel_serverless.local._dispatch import Dispatcher
from otel_serverless.local._functions import FunctionPool, InvocationResult, run_invocation

logger = logging.getLogger("otel_serverless.local")

#: Local stand-ins for Lambda's ~1 min and ~2 min waits before the two retries.
DEFAULT_RETRY_DELAYS = (0.2, 0.4)
#: How long a throttled event keeps waiting for an instance (Lambda: up to 6 hours).
MAX_EVENT_AGE = 60.0
#: Lambda puts at most this much of the error message in the DLQ message attribute.
DLQ_ERROR_MESSAGE_CHARS = 1024


class AsyncInvoker:
    """Queue events for functions and retry them the way Lambda's async invoke does."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        record: Callable[[InvocationResult], None],
        sqs_client: Callable[[], Any],
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        max_event_age: float = MAX_EVENT_AGE,
    ) -> None:
        self._dispatcher = dispatcher
        self._record = record
        self._sqs_client = sqs_client
        self._retry_delays = tuple(retry_delays)
        self._max_event_age = max_event_age
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def submit(self, pool: FunctionPool, event: Any, *, source: str = "event") -> str:
        """Queue *event* for *pool*'s function; the request id, as the 202 response carries it."""
        request_id = str(uuid.uuid4())
        payload = event if isinstance(event, str | bytes | bytearray) else json.dumps(event)
        self._dispatcher.submit(
            lambda: self._deliver(pool, payload, request_id, source),
            name=f"async:{pool.config.name}:{request_id[:8]}",
        )
        return request_id

    def _deliver(self, pool: FunctionPool, payload: str | bytes | bytearray, request_id: str, source: str) -> None:
        config = pool.config
        attempts = 1 + config.max_retry_attempts
        queued_at = time.monotonic()
        attempt = 1
        last: InvocationResult | None = None
        while attempt <= attempts and not self._stopping.is_set():
            remaining_age = self._max_event_age - (time.monotonic() - queued_at)
            if remaining_age <= 0:
                break
            result = run_invocation(
                pool, payload, request_id=request_id, source=source, attempt=attempt, wait_for_capacity=remaining_age
            )
            if result.throttled:
                continue  # a throttle is not an attempt; the wait above is bounded by the event age
            self._record(result)
            last = result
            if result.ok:
                return
            if attempt < attempts:
                delay = self._retry_delays[min(attempt - 1, len(self._retry_delays) - 1)] if self._retry_delays else 0
                self._stopping.wait(delay)
            attempt += 1
        if last is not None and config.dead_letter_queue_url and not self._stopping.is_set():
            self._dead_letter(config.dead_letter_queue_url, payload, request_id, last)

    def _dead_letter(
        self, queue_url: str, payload: str | bytes | bytearray, request_id: str, result: InvocationResult
    ) -> None:
        body = payload.decode() if isinstance(payload, bytes | bytearray) else payload
        message = str((result.error or {}).get("errorMessage", ""))[:DLQ_ERROR_MESSAGE_CHARS]
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        }
        if message:
            attributes["ErrorMessage"] = {"DataType": "String", "StringValue": message}
        self._sqs_client().send_message(QueueUrl=queue_url, MessageBody=body or "{}", MessageAttributes=attributes)
        logger.info("%s event %s sent to its dead-letter queue", result.function_name, request_id)
