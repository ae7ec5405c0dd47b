"""Smaller AWS callers, each told by fields only it sends.

Secrets Manager rotation, S3 Batch Operations, Bedrock agent action groups, Amazon
Connect contact flows, CloudWatch alarm actions and custom dashboard widgets, and API
Gateway TOKEN authorizers. Secrets, tokens, prompts and contact data are never read.
"""

from __future__ import annotations

from typing import Any

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base


def _secrets_manager(event: Any) -> base.Trigger | None:
    step = base.text(event, "Step", 64)
    if step is None or base.text(event, "SecretId") is None or "ClientRequestToken" not in event:
        return None
    return base.Trigger(name="secrets_manager", faas_trigger=base.OTHER, attributes={attr.SECRETS_ROTATION_STEP: step})


def _s3_batch(event: Any) -> base.Trigger | None:
    version = base.text(event, "invocationSchemaVersion", 16)
    tasks = base.sequence(event, "tasks")
    if version is None or tasks is None:
        return None
    attributes: base.Attributes = {attr.S3_BATCH_TASKS: len(tasks)}
    base.put(attributes, attr.S3_BATCH_JOB_ID, base.text(base.mapping(event, "job"), "id", 128))
    return base.Trigger(name="s3_batch", faas_trigger=base.DATASOURCE, attributes=attributes)


def _bedrock_agent(event: Any) -> base.Trigger | None:
    group = base.text(event, "actionGroup", 256)
    agent = base.mapping(event, "agent")
    if group is None or agent is None:
        return None
    attributes: base.Attributes = {attr.BEDROCK_ACTION_GROUP: group}
    base.put(attributes, attr.BEDROCK_AGENT_NAME, base.text(agent, "name", 256))
    base.put(attributes, attr.HTTP_REQUEST_METHOD, base.text(event, "httpMethod", 16))
    base.put(attributes, attr.HTTP_ROUTE, base.text(event, "apiPath"))
    return base.Trigger(name="bedrock_agent", faas_trigger=base.OTHER, attributes=attributes)


def _connect(event: Any) -> base.Trigger | None:
    if base.text(event, "Name", 64) != "ContactFlowEvent" or base.mapping(event, "Details") is None:
        return None
    channel = base.text(base.mapping(base.mapping(event, "Details"), "ContactData"), "Channel", 32)
    attributes: base.Attributes = {}
    base.put(attributes, attr.CONNECT_CHANNEL, channel)
    return base.Trigger(name="connect", faas_trigger=base.OTHER, attributes=attributes)


def _cloudwatch_alarm(event: Any) -> base.Trigger | None:
    data = base.mapping(event, "alarmData")
    if base.text(event, "source", 32) != "aws.cloudwatch" or data is None:
        return None
    attributes: base.Attributes = {}
    base.put(attributes, attr.ALARM_NAME, base.text(data, "alarmName", 256))
    base.put(attributes, attr.ALARM_STATE, base.text(base.mapping(data, "state"), "value", 32))
    return base.Trigger(name="cloudwatch_alarm", faas_trigger=base.OTHER, attributes=attributes)


def _token_authorizer(event: Any) -> base.Trigger | None:
    # The REQUEST authorizer is an API Gateway request (api_gateway_rest); TOKEN carries only
    # the token, which is never read.
    if base.text(event, "type", 16) != "TOKEN" or base.text(event, "methodArn") is None:
        return None
    attributes: base.Attributes = {attr.API_GATEWAY_AUTHORIZER_TYPE: "token"}
    return base.Trigger(name="api_gateway_authorizer", faas_trigger=base.OTHER, attributes=attributes)


def _dashboard_widget(event: Any) -> base.Trigger | None:
    widget = base.mapping(event, "widgetContext")
    name = base.text(widget, "dashboardName", 256)
    if name is None:
        return None
    return base.Trigger(name="cloudwatch_dashboard", faas_trigger=base.OTHER, attributes={attr.DASHBOARD_NAME: name})


def detect(event: Any, context: Any) -> base.Trigger | None:
    if type(event) is not dict:
        return None
    for hook in (
        _secrets_manager,
        _s3_batch,
        _bedrock_agent,
        _connect,
        _cloudwatch_alarm,
        _token_authorizer,
        _dashboard_widget,
    ):
        found = hook(event)
        if found is not None:
            return found
    return None
