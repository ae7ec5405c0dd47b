"""Retries: ``serverless.retry.attempt`` (1 = first delivery) and ``serverless.retry``.

Known from the event: SQS ``ApproximateReceiveCount``, Step Functions
``State.RetryCount``. Known from this environment's memory (``aws_lambda._state``):
an asynchronous invoke retried with the same request id, a stream record
delivered again with the same sequence number. The attempt is the largest of
what each source says.
"""

from __future__ import annotations

from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless._invocation import Invocation
from otel_serverless.processors._stage import ServerlessProcessor


def attempt_of(invocation: Invocation) -> int:
    """The delivery attempt of this invocation (1 for a first delivery)."""
    return max(
        1,
        invocation.trigger.attempt or 1,
        invocation.request_seen + 1,
        invocation.records_seen + 1,
    )


class RetryProcessor(ServerlessProcessor):
    name = "retries"

    def start_attributes(self, invocation: Invocation) -> dict[str, AttributeValue]:
        attempt = attempt_of(invocation)
        return {attr.RETRY_ATTEMPT: attempt, attr.RETRY: attempt > 1}
