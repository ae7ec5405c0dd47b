"""SNS subscriptions: to a Lambda function (emulated), and to SQS queues (moto delivers).

moto needs Docker to invoke a function, so a Lambda subscription is made of a
runtime-internal queue subscribed to the topic *non-raw*: its JSON envelope has
everything Lambda's ``Sns`` record holds, and the runtime turns it into that
record and invokes the function asynchronously (SNS invokes Lambda
asynchronously, one message per event, with Lambda's retries). A filter policy
on the subscription is applied by moto. SQS subscriptions (raw or not) are
plain moto subscriptions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from otel_serverless.local._functions import FunctionPool
from otel_serverless.local.sources._base import Host
from otel_serverless.local.sources._forward import ForwardingQueue
from otel_serverless.local.sources._queues import internal_queue, queue_attribute, queue_url


def lambda_record(envelope: Mapping[str, Any], subscription_arn: str) -> dict[str, Any]:
    """An SNS→SQS JSON envelope as the record SNS delivers to Lambda.

    Lambda's record spells ``SigningCertUrl``/``UnsubscribeUrl`` where the SQS
    envelope has ``…URL``, and always has ``Subject`` and ``MessageAttributes``.
    """
    return {
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": envelope.get("SignatureVersion", "1"),
            "Timestamp": envelope["Timestamp"],
            "Signature": envelope.get("Signature", ""),
            "SigningCertUrl": envelope.get("SigningCertURL", ""),
            "MessageId": envelope["MessageId"],
            "Message": envelope["Message"],
            "MessageAttributes": dict(envelope.get("MessageAttributes") or {}),
            "Type": envelope.get("Type", "Notification"),
            "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
            "TopicArn": envelope["TopicArn"],
            "Subject": envelope.get("Subject"),
        },
    }


def subscribe_queue(
    host: Host, topic_arn: str, queue: str, *, raw: bool = False, filter_policy: Mapping[str, Any] | None = None
) -> str:
    """Subscribe an SQS queue to a topic (delivered by moto); the subscription ARN."""
    sqs = host.client("sqs")
    arn = queue_attribute(sqs, queue_url(sqs, queue), "QueueArn")
    attributes: dict[str, str] = {"RawMessageDelivery": "true" if raw else "false"}
    if filter_policy is not None:
        attributes["FilterPolicy"] = json.dumps(filter_policy)
    response = host.client("sns").subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes, ReturnSubscriptionArn=True
    )
    subscription: str = response["SubscriptionArn"]
    return subscription


def subscribe_function(
    host: Host, topic_arn: str, pool: FunctionPool, *, filter_policy: Mapping[str, Any] | None = None
) -> ForwardingQueue:
    """Subscribe a function to a topic; the poller that delivers to it."""
    sqs = host.client("sqs")
    url, arn = internal_queue(sqs, "sns", f"{topic_arn}|{pool.config.name}")
    attributes: dict[str, str] = {"RawMessageDelivery": "false"}
    if filter_policy is not None:
        attributes["FilterPolicy"] = json.dumps(filter_policy)
    response = host.client("sns").subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes, ReturnSubscriptionArn=True
    )
    subscription_arn: str = response["SubscriptionArn"]

    def deliver(message: dict[str, Any]) -> None:
        envelope = json.loads(message["Body"])
        event = {"Records": [lambda_record(envelope, subscription_arn)]}
        host.invoke_async(pool, event, source="sns")

    return ForwardingQueue(sqs, url, deliver, f"sns:{topic_arn.rsplit(':', 1)[-1]} → {pool.config.name}")
