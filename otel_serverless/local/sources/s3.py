"""S3 event notifications to a function (emulated) or an SQS queue.

Every target of a bucket becomes one ``QueueConfiguration`` (with the target's
events and prefix/suffix filter, matched by moto) on one runtime-internal
queue. The runtime completes moto's record to the shape S3 sends
(``userIdentity``, ``requestParameters``, ``responseElements``, the bucket's
``ownerIdentity``, the object's ``sequencer``, the key form-encoded with ``/`` kept), and delivers it: to a function
by async invoke (S3 invokes Lambda asynchronously), to a queue by SendMessage.
S3's ``s3:TestEvent`` goes to queue targets only, as in AWS.
"""

from __future__ import annotations

import copy
import json
import time
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from otel_serverless.local._functions import FunctionPool
from otel_serverless.local.sources._base import Host
from otel_serverless.local.sources._forward import ForwardingQueue
from otel_serverless.local.sources._queues import internal_queue, queue_url

#: The principal a local request appears to come from.
LOCAL_PRINCIPAL = "AWS:AIDAOTELSERVERLESSLOCAL"


def complete_record(record: Mapping[str, Any], configuration_id: str) -> dict[str, Any]:
    """A moto S3 notification record with every field S3 sends."""
    completed = copy.deepcopy(dict(record))
    completed.setdefault("userIdentity", {"principalId": LOCAL_PRINCIPAL})
    completed.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
    completed.setdefault(
        "responseElements",
        {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": uuid.uuid4().hex},
    )
    s3 = completed.setdefault("s3", {})
    s3["configurationId"] = configuration_id
    s3.setdefault("bucket", {}).setdefault("ownerIdentity", {"principalId": "A3OTELSERVERLESSLOCAL"})
    obj = s3.setdefault("object", {})
    obj.setdefault("sequencer", f"{time.time_ns():X}")
    if isinstance(obj.get("key"), str):
        # S3 form-encodes the key but keeps "/" (moto encodes it too): "posts/a b.json" → "posts/a+b.json".
        obj["key"] = urllib.parse.quote_plus(urllib.parse.unquote_plus(obj["key"]), safe="/")
    ordered_keys = (
        "eventVersion",
        "eventSource",
        "awsRegion",
        "eventTime",
        "eventName",
        "userIdentity",
        "requestParameters",
        "responseElements",
        "s3",
    )
    ordered = {key: completed.pop(key) for key in ordered_keys if key in completed}
    ordered.update(completed)
    return ordered


class BucketNotifications:
    """The local notification targets of one bucket."""

    def __init__(self, host: Host, bucket: str) -> None:
        self._host = host
        self.bucket = bucket
        self._sqs = host.client("sqs")
        self._url, self._arn = internal_queue(self._sqs, "s3", bucket)
        self._targets: dict[str, tuple[FunctionPool | None, str | None]] = {}
        self.poller = ForwardingQueue(self._sqs, self._url, self._deliver, f"s3:{bucket}")

    def add(
        self,
        *,
        function: FunctionPool | None = None,
        queue: str | None = None,
        events: Sequence[str] = ("s3:ObjectCreated:*",),
        prefix: str = "",
        suffix: str = "",
        configuration_id: str | None = None,
    ) -> str:
        """Add a target; its configuration id (as in the records it will receive)."""
        if (function is None) == (queue is None):
            raise ValueError("give exactly one target: a function or a queue")
        identifier = configuration_id or f"local-{uuid.uuid4().hex[:12]}"
        target_url = queue_url(self._sqs, queue) if queue is not None else None
        self._targets[identifier] = (function, target_url)
        s3 = self._host.client("s3")
        configuration = s3.get_bucket_notification_configuration(Bucket=self.bucket)
        configuration.pop("ResponseMetadata", None)
        entry: dict[str, Any] = {"Id": identifier, "QueueArn": self._arn, "Events": list(events)}
        rules = [{"Name": name, "Value": value} for name, value in (("prefix", prefix), ("suffix", suffix)) if value]
        if rules:
            entry["Filter"] = {"Key": {"FilterRules": rules}}
        configuration.setdefault("QueueConfigurations", []).append(entry)
        s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration=configuration)
        return identifier

    def _deliver(self, message: dict[str, Any]) -> None:
        body = json.loads(message["Body"])
        if body.get("Event") == "s3:TestEvent":
            for _, target_url in self._targets.values():
                if target_url is not None:
                    self._sqs.send_message(QueueUrl=target_url, MessageBody=message["Body"])
            return
        for record in body["Records"]:
            identifier = record.get("s3", {}).get("configurationId")
            function, target_url = self._targets[identifier]
            event = {"Records": [complete_record(record, identifier)]}
            if function is not None:
                self._host.invoke_async(function, event, source="s3")
            else:
                self._sqs.send_message(QueueUrl=target_url, MessageBody=json.dumps(event))
