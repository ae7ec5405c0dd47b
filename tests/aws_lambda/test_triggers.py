"""Every real event sample through the wrapper: no exception, the right trigger, the right attributes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_serverless.aws_lambda import traced
from otel_serverless.aws_lambda.triggers import REGISTRY, detect
from tests.aws_lambda.conftest import LambdaContext, all_event_names, event

#: Event sample → expected trigger (anything not listed is a fallback: a response sample, …).
EXPECTED = {
    "activeMQEvent": "activemq",
    "rabbitMQEvent": "rabbitmq",
    "kafkaEventMsk": "kafka",
    "kafkaEventSelfManaged": "kafka",
    "cloudFrontViewerRequestEvent": "cloudfront",
    "cloudFrontOriginResponseEvent": "cloudfront",
    "apiGatewayWebSocketConnectEvent": "api_gateway_websocket",
    "apiGatewayWebSocketMessageEvent": "api_gateway_websocket",
    "apiGatewayWebSocketDisconnectEvent": "api_gateway_websocket",
    "appSyncResolverEvent": "appsync",
    "appSyncDirectResolver": "appsync",
    "appSyncBatchEvent": "appsync_batch",
    "appSyncAuthorizerEvent": "appsync_authorizer",
    "apiGatewayAuthorizerTokenEvent": "api_gateway_authorizer",
    "vpcLatticeEvent": "vpc_lattice",
    "vpcLatticeEventPathTrailingSlash": "vpc_lattice",
    "vpcLatticeEventV2PathTrailingSlash": "vpc_lattice",
    "vpcLatticeV2Event": "vpc_lattice",
    "vpcLatticeV2EventWithHeaders": "vpc_lattice",
    "pipesSqsEvent": "sqs",
    "pipesKinesisEvent": "kinesis",
    "lambdaDestinationOnFailureEvent": "destination",
    "lambdaDestinationOnSuccessEvent": "destination",
    "kinesisFirehoseKinesisEvent": "firehose",
    "kinesisFirehosePutEvent": "firehose",
    "kinesisFirehoseSQSEvent": "firehose",
    "cloudWatchLogEvent": "cloudwatch_logs",
    "cloudWatchLogEventWithPolicyLevel": "cloudwatch_logs",
    "iotCustomAuthorizerEvent": "iot",
    "iotPreProvisioningHookEvent": "iot",
    "awsConfigRuleConfigurationChanged": "config",
    "awsConfigRuleOversizedConfiguration": "config",
    "awsConfigRuleScheduled": "config",
    "sesEvent": "ses",
    "codePipelineEvent": "codepipeline",
    "codePipelineEventData": "codepipeline",
    "codePipelineEventEmptyUserParameters": "codepipeline",
    "codePipelineEventWithEncryptionKey": "codepipeline",
    "codeDeployLifecycleHookEvent": "codedeploy",
    "cloudformationCustomResourceCreate": "cloudformation",
    "cloudformationCustomResourceDelete": "cloudformation",
    "cloudformationCustomResourceUpdate": "cloudformation",
    "secretsManagerEvent": "secrets_manager",
    "s3BatchOperationEventSchemaV1": "s3_batch",
    "s3BatchOperationEventSchemaV2": "s3_batch",
    "bedrockAgentEvent": "bedrock_agent",
    "bedrockAgentEventWithPathParams": "bedrock_agent",
    "bedrockAgentPostEvent": "bedrock_agent",
    "connectContactFlowEventAll": "connect",
    "connectContactFlowEventMin": "connect",
    "cloudWatchAlarmEventCompositeMetric": "cloudwatch_alarm",
    "cloudWatchAlarmEventSingleMetric": "cloudwatch_alarm",
    "cloudWatchDashboardEvent": "cloudwatch_dashboard",
    "s3ObjectEventIAMUser": "s3_object_lambda",
    "s3ObjectEventTempCredentials": "s3_object_lambda",
    "cognitoCreateAuthChallengeEvent": "cognito",
    "cognitoCustomEmailSenderEvent": "cognito",
    "cognitoCustomMessageEvent": "cognito",
    "cognitoCustomSMSSenderEvent": "cognito",
    "cognitoDefineAuthChallengeEvent": "cognito",
    "cognitoPostAuthenticationEvent": "cognito",
    "cognitoPostConfirmationEvent": "cognito",
    "cognitoPreAuthenticationEvent": "cognito",
    "cognitoPreSignUpEvent": "cognito",
    "cognitoPreTokenGenerationEvent": "cognito",
    "cognitoPreTokenV2GenerationEvent": "cognito",
    "cognitoUserMigrationEvent": "cognito",
    "cognitoVerifyAuthChallengeResponseEvent": "cognito",
    "albEvent": "alb",
    "albEventPathTrailingSlash": "alb",
    "albMultiValueHeadersEvent": "alb",
    "albMultiValueQueryStringEvent": "alb",
    "apiGatewayAuthorizerRequestEvent": "api_gateway_rest",
    "apiGatewayProxyEvent": "api_gateway_rest",
    "apiGatewayProxyEventAnotherPath": "api_gateway_rest",
    "apiGatewayProxyEventNoOrigin": "api_gateway_rest",
    "apiGatewayProxyEventPathTrailingSlash": "api_gateway_rest",
    "apiGatewayProxyEventPrincipalId": "api_gateway_rest",
    "apiGatewayProxyEvent_noVersionAuth": "api_gateway_rest",
    "apiGatewayProxyOtherEvent": "api_gateway_rest",
    "apigatewayeSchemaMiddlwareInvalidEvent": "api_gateway_rest",
    "apigatewayeSchemaMiddlwareValidEvent": "api_gateway_rest",
    "apiGatewayAuthorizerV2Event": "api_gateway_http",
    "apiGatewayProxyV2Event": "api_gateway_http",
    "apiGatewayProxyV2EventPathTrailingSlash": "api_gateway_http",
    "apiGatewayProxyV2Event_GET": "api_gateway_http",
    "apiGatewayProxyV2IamEvent": "api_gateway_http",
    "apiGatewayProxyV2LambdaAuthorizerEvent": "api_gateway_http",
    "apiGatewayProxyV2OtherGetEvent": "api_gateway_http",
    "apiGatewayProxyV2SchemaMiddlwareInvalidEvent": "api_gateway_http",
    "apiGatewayProxyV2SchemaMiddlwareValidEvent": "api_gateway_http",
    "lambdaFunctionUrlEvent": "function_url",
    "lambdaFunctionUrlEventPathTrailingSlash": "function_url",
    "lambdaFunctionUrlEventWithHeaders": "function_url",
    "lambdaFunctionUrlIAMEvent": "function_url",
    "sqsEvent": "sqs",
    "sqsDlqTriggerEvent": "sqs",
    "snsSqsEvent": "sqs",
    "snsSqsFifoEvent": "sqs",
    "s3SqsEvent": "sqs",
    "snsEvent": "sns",
    "kinesisStreamEvent": "kinesis",
    "kinesisStreamEventOneRecord": "kinesis",
    "kinesisStreamCloudWatchLogsEvent": "kinesis",
    "dynamoStreamEvent": "dynamodb",
    "s3Event": "s3",
    "s3EventDecodedKey": "s3",
    "s3EventDeleteObject": "s3",
    "s3EventGlacier": "s3",
    "eventBridgeEvent": "eventbridge",
    "s3EventBridgeNotificationObjectCreatedEvent": "eventbridge",
    "s3EventBridgeNotificationObjectDeletedEvent": "eventbridge",
    "s3EventBridgeNotificationObjectExpiredEvent": "eventbridge",
    "s3EventBridgeNotificationObjectRestoreCompletedEvent": "eventbridge",
}
ORIGIN = {
    "snsSqsEvent": "sns",
    "snsSqsFifoEvent": "sns",
    "s3SqsEvent": "s3",
    "s3EventBridgeNotificationObjectCreatedEvent": "s3",
    "s3EventBridgeNotificationObjectDeletedEvent": "s3",
    "s3EventBridgeNotificationObjectExpiredEvent": "s3",
    "s3EventBridgeNotificationObjectRestoreCompletedEvent": "s3",
}
FAAS_TRIGGER = {
    "alb": "http",
    "api_gateway_rest": "http",
    "api_gateway_http": "http",
    "function_url": "http",
    "sqs": "pubsub",
    "sns": "pubsub",
    "kinesis": "pubsub",
    "eventbridge": "pubsub",
    "dynamodb": "datasource",
    "s3": "datasource",
    "fallback": "other",
    "activemq": "pubsub",
    "rabbitmq": "pubsub",
    "kafka": "pubsub",
    "cloudfront": "http",
    "api_gateway_websocket": "http",
    "appsync": "http",
    "appsync_batch": "http",
    "appsync_authorizer": "other",
    "api_gateway_authorizer": "other",
    "vpc_lattice": "http",
    "destination": "other",
    "firehose": "pubsub",
    "cloudwatch_logs": "pubsub",
    "iot": "other",
    "config": "other",
    "ses": "pubsub",
    "codepipeline": "other",
    "codedeploy": "other",
    "cloudformation": "other",
    "secrets_manager": "other",
    "s3_batch": "datasource",
    "bedrock_agent": "other",
    "connect": "other",
    "cloudwatch_alarm": "other",
    "cloudwatch_dashboard": "other",
    "cognito": "other",
    "s3_object_lambda": "http",
}
#: Samples delivered through a pipe, and where their records came from.
VIA = {"pipesSqsEvent": "eventbridge_pipes", "pipesKinesisEvent": "eventbridge_pipes"}


def test_the_samples_cover_every_event_trigger_module() -> None:
    """Every detector in the registry is the first to answer for at least one real sample."""
    answered = set()
    for name in all_event_names():
        for module, detector in REGISTRY:
            if detector(event(name), LambdaContext()) is not None:
                answered.add(module)
                break
    # Scheduled, Step Functions and direct invokes have no sample: tested with documented shapes below.
    assert answered | {"scheduled", "stepfunctions", "lambda_invoke"} == {name for name, _ in REGISTRY}


@pytest.mark.parametrize("name", all_event_names())
def test_every_sample_replays_through_the_wrapper(name: str, spans: InMemorySpanExporter) -> None:
    original = event(name)
    delivered = copy.deepcopy(original)
    seen: list[Any] = []

    @traced
    def handler(incoming: Any, context: Any) -> dict[str, str]:
        seen.append(incoming)
        return {"ok": name}

    assert handler(delivered, LambdaContext(f"req-{name}")) == {"ok": name}
    assert seen == [delivered] and seen[0] is delivered  # the caller's object, untouched
    assert delivered == original
    (span,) = [span for span in spans.get_finished_spans() if span.name == "orders"]
    attributes = dict(span.attributes or {})
    expected = EXPECTED.get(name, "fallback")
    assert attributes["serverless.trigger"] == expected
    assert attributes["faas.trigger"] == FAAS_TRIGGER[expected]
    assert attributes["faas.invocation_id"] == f"req-{name}"
    assert attributes["cloud.resource_id"] == "arn:aws:lambda:us-east-1:123456789012:function:orders"
    assert attributes["cloud.account.id"] == "123456789012"
    assert attributes.get("serverless.trigger.origin") == ORIGIN.get(name)
    assert attributes.get("serverless.trigger.via") == VIA.get(name)


def _sqs_delivering(body: str) -> dict[str, Any]:
    sample = event("sqsEvent")
    return {**sample, "Records": [{**sample["Records"][0], "body": body}]}


@pytest.mark.parametrize(
    ("body", "origin"),
    [
        (json.dumps(event("eventBridgeEvent")), "eventbridge"),
        (json.dumps(event("s3EventBridgeNotificationObjectCreatedEvent")), "s3"),
        (json.dumps(event("s3Event")), "s3"),
        (json.dumps({"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "hi"}), "sns"),
        (json.dumps({"Type": "Notification", "TopicArn": "arn", "Message": json.dumps(event("s3Event"))}), "s3"),
        # The user's own JSON, with or without a word of the services' in it: no origin.
        (json.dumps({"order": 42, "lines": [{"sku": "a", "qty": 1}] * 50}), None),
        (json.dumps({"note": "detail-type and TopicArn are words here", "source": "aws:s3"}), None),
        (json.dumps({"detail-type": 3, "source": "shop", "detail": {}}), None),
    ],
)
def test_the_origin_of_a_delivered_body(body: str, origin: str | None) -> None:
    assert detect(_sqs_delivering(body), LambdaContext()).origin == origin


def test_http_attributes_follow_the_conventions() -> None:
    v1 = detect(event("apiGatewayProxyEvent"))
    assert v1.attributes["http.request.method"] == "GET"
    assert v1.attributes["http.route"] == "/my/path"
    assert v1.attributes["url.path"] == "/my/path"
    v2_event = event("apiGatewayProxyV2Event")
    v2 = detect(v2_event)
    assert v2.attributes["http.request.method"] == "POST"
    assert "http.route" not in v2.attributes  # "$default" is no route
    v2_event["routeKey"] = "POST /orders/{id}"
    assert detect(v2_event).attributes["http.route"] == "/orders/{id}"
    assert v2.attributes["server.address"] == "id.execute-api.us-east-1.amazonaws.com"
    url = detect(event("lambdaFunctionUrlEvent"))
    assert "http.route" not in url.attributes
    assert url.attributes["server.address"].endswith(".lambda-url.us-east-1.on.aws")


def test_messaging_and_datasource_attributes() -> None:
    sqs = detect(event("sqsEvent"))
    assert sqs.batch and len(sqs.records) == 2
    assert sqs.attributes["messaging.destination.name"] == "my-queue"
    assert sqs.attributes["messaging.batch.message_count"] == 2
    assert sqs.records[0].attributes["messaging.message.id"] == "059f36b4-87a3-44ab-83d2-661975830a7d"
    fifo = detect(event("snsSqsFifoEvent"))
    assert fifo.records[0].attributes["serverless.sqs.message_group_id"] == "powertools-test"
    dynamo = detect(event("dynamoStreamEvent"))
    assert [record.attributes["faas.document.operation"] for record in dynamo.records] == ["insert", "edit"]
    s3 = detect(event("s3Event"))
    assert s3.attributes["faas.document.collection"] == "lambda-artifacts-deafc19498e3f2df"
    assert s3.attributes["faas.document.operation"] == "insert"
    kinesis = detect(event("kinesisStreamEvent"))
    assert kinesis.records[0].attributes["messaging.destination.partition.id"] == "shardId-000000000006"
    assert kinesis.records[0].sequence_key is not None


def test_scheduled_event_is_a_timer() -> None:
    # The documented shape of an EventBridge scheduled rule's event.
    scheduled = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2015-10-08T16:53:06Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"],
        "detail": {},
    }
    trigger = detect(scheduled)
    assert trigger.name == "scheduled"
    assert trigger.attributes["faas.trigger"] == "timer"
    assert trigger.attributes["faas.time"] == "2015-10-08T16:53:06Z"
    assert trigger.attributes["serverless.schedule.rule"].endswith("rule/my-scheduled-rule")


def test_step_functions_task_with_context_object() -> None:
    payload = {
        "order": {"id": 7},
        "context": {
            "Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:flow:run-1", "Name": "run-1"},
            "State": {"Name": "Charge", "RetryCount": 2, "EnteredTime": "2024-01-01T00:00:00Z"},
            "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:flow"},
        },
    }
    trigger = detect(payload)
    assert trigger.name == "stepfunctions"
    assert trigger.attempt == 3
    assert trigger.attributes["serverless.stepfunctions.state_name"] == "Charge"
    assert detect({"order": 1}).name == "fallback"


def _every_detector_in_order(sample: Any) -> str:
    """What detection answered before the shape dispatch: every detector asked, in order."""
    for _name, detector in REGISTRY:
        found = detector(sample, LambdaContext())
        if found is not None:
            return found.name
    return "fallback"


def _reshaped(sample: Any) -> list[Any]:
    """The sample and shapes that sit on the dispatch's edges (records from mixed sources, odd types)."""
    variants: list[Any] = [sample]
    if not isinstance(sample, dict):
        return variants
    records = sample.get("Records")
    if isinstance(records, list) and records:
        variants.append({**sample, "Records": ["junk", *records]})  # first dict record decides
        variants.append({**sample, "Records": [{**records[0], "EventSource": "aws:sns"}, *records[1:]]})
        variants.append({**sample, "Records": {"not": "a list"}})
        variants.append({**sample, "requestContext": {"http": {"method": "GET"}}})
    request = sample.get("requestContext")
    if isinstance(request, dict):  # the HTTP shapes' edges: which of elb / http is there, and of what type
        variants.append({**sample, "requestContext": {**request, "elb": {"targetGroupArn": "arn"}}})
        variants.append({**sample, "requestContext": {**request, "http": "not a mapping"}})
        variants.append({**sample, "requestContext": {k: v for k, v in request.items() if k != "http"}})
        variants.append({**sample, "httpMethod": "GET", "requestContext": {**request, "http": {"method": "GET"}}})
        # What tells WebSocket and Function URL events apart: a connection id, the domain.
        variants.append({**sample, "requestContext": {k: v for k, v in request.items() if k != "connectionId"}})
        variants.append({**sample, "requestContext": {**request, "connectionId": "c-1", "eventType": "MESSAGE"}})
        variants.append({**sample, "requestContext": {**request, "domainName": "u1.lambda-url.us-east-1.on.aws"}})
        variants.append({**sample, "requestContext": {**request, "domainName": ["u1.lambda-url.", "not text"]}})
    return variants


@pytest.mark.parametrize("name", all_event_names())
def test_shape_dispatch_answers_as_every_detector_in_order_would(name: str) -> None:
    for sample in _reshaped(event(name)):
        assert detect(copy.deepcopy(sample), LambdaContext()).name == _every_detector_in_order(sample)


def test_the_shape_cache_covers_what_the_dispatch_reads_and_stays_bounded() -> None:
    from otel_serverless.aws_lambda import triggers

    assert {field for field, _ in triggers._RECORD_SOURCE.values()} == triggers.SHAPE_SOURCE_FIELDS
    sample = event("sqsEvent")
    before = len(triggers._by_shape)
    for index in range(50):  # hostile sources: each a new value, none a new shape
        record = {**sample["Records"][0], "eventSource": f"aws:evil-{index}", "EventSource": ["unhashable"]}
        assert detect({**sample, "Records": [record]}, LambdaContext()).name == _every_detector_in_order(
            {**sample, "Records": [record]}
        )
    assert len(triggers._by_shape) <= before + 1
