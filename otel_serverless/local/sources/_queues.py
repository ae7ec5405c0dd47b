"""SQS helpers shared by the sources: naming queues by URL, ARN or name, and reading them as Lambda does."""

from __future__ import annotations

import hashlib
from typing import Any

#: The most messages SQS returns from one ReceiveMessage / deletes in one batch.
SQS_BATCH_MAX = 10


def queue_url(sqs: Any, queue: str) -> str:
    """The URL of *queue*, given as a URL, an ARN or a name."""
    if queue.startswith(("http://", "https://")):
        return queue
    name = queue.rsplit(":", 1)[-1] if queue.startswith("arn:") else queue
    url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return url


def queue_attribute(sqs: Any, url: str, name: str) -> str:
    value: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"][name]
    return value


def receive(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    """Receive up to *count* messages with every attribute Lambda passes on, without waiting."""
    response = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=max(1, min(count, SQS_BATCH_MAX)),
        WaitTimeSeconds=0,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


def delete(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), SQS_BATCH_MAX):
        chunk = messages[start : start + SQS_BATCH_MAX]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(chunk)],
        )


def outstanding(sqs: Any, url: str) -> int:
    """Messages still to be handled: visible, in flight, or delayed."""
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


def internal_queue(sqs: Any, purpose: str, key: str) -> tuple[str, str]:
    """Create (or find) a runtime-internal queue for *purpose*; its URL and ARN."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    name = f"otel-serverless-local-{purpose}-{digest}"
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, queue_attribute(sqs, url, "QueueArn")
