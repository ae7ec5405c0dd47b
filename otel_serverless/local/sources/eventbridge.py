"""EventBridge rules → targets (a function, or an SQS queue), and scheduled rules.

The rule and its pattern live in moto (moto matches events against the pattern);
its target is a runtime-internal queue, because moto needs Docker to invoke a
function and leaves ``account`` out of the events it writes to SQS. The runtime
completes each event to AWS's shape and delivers it: to a function by async
invoke (EventBridge invokes Lambda asynchronously), to a queue by SendMessage.

moto does not run schedules: :meth:`ScheduledRule.fire` delivers one
``Scheduled Event`` to the rule's functions, when the caller decides.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Mapping
from typing import Any

from otel_serverless.local._functions import FunctionPool
from otel_serverless.local.sources._base import Host
from otel_serverless.local.sources._forward import ForwardingQueue
from otel_serverless.local.sources._queues import internal_queue, queue_url

_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


def complete_event(event: Mapping[str, Any], account_id: str, region: str) -> dict[str, Any]:
    """An event as EventBridge delivers it: every top-level field, in AWS's order."""
    completed: dict[str, Any] = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "",
        "source": "",
        "account": account_id,
        "time": _now(),
        "region": region,
        "resources": [],
        "detail": {},
    }
    completed.update({key: value for key, value in event.items() if value is not None})
    ordered = {key: completed.pop(key) for key in _KEYS}
    ordered.update(completed)
    return ordered


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rule_target(
    host: Host,
    rule_name: str,
    *,
    event_pattern: Mapping[str, Any] | None,
    bus: str,
    function: FunctionPool | None = None,
    queue: str | None = None,
) -> ForwardingQueue:
    """Create (or extend) a rule with a target; the poller that delivers to it."""
    if (function is None) == (queue is None):
        raise ValueError("give exactly one target: a function or a queue")
    events = host.client("events")
    sqs = host.client("sqs")
    if event_pattern is not None:
        events.put_rule(Name=rule_name, EventPattern=json.dumps(event_pattern), EventBusName=bus, State="ENABLED")
    target_key = function.config.name if function is not None else str(queue)
    url, arn = internal_queue(sqs, "events", f"{bus}|{rule_name}|{target_key}")
    events.put_targets(Rule=rule_name, EventBusName=bus, Targets=[{"Id": f"local-{uuid.uuid4().hex[:12]}", "Arn": arn}])
    target_url = queue_url(sqs, queue) if queue is not None else None

    def deliver(message: dict[str, Any]) -> None:
        event = complete_event(json.loads(message["Body"]), host.account_id, host.region)
        if function is not None:
            host.invoke_async(function, event, source="eventbridge")
        else:
            sqs.send_message(QueueUrl=target_url, MessageBody=json.dumps(event))

    return ForwardingQueue(sqs, url, deliver, f"events:{rule_name} → {target_key}")


class ScheduledRule:
    """A ``ScheduleExpression`` rule whose targets are functions; fired on demand."""

    def __init__(self, host: Host, rule_name: str, expression: str, bus: str = "default") -> None:
        self._host = host
        response = host.client("events").put_rule(
            Name=rule_name, ScheduleExpression=expression, EventBusName=bus, State="ENABLED"
        )
        self.rule_arn: str = response["RuleArn"]
        self.targets: list[FunctionPool] = []

    def fire(self) -> list[str]:
        """Deliver one scheduled event to every target; the async request ids."""
        event = complete_event(
            {
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "resources": [self.rule_arn],
                "detail": {},
            },
            self._host.account_id,
            self._host.region,
        )
        return [self._host.invoke_async(pool, event, source="schedule") for pool in self.targets]
