"""Attribute names: the OpenTelemetry semantic conventions we use, and our own.

Standard keys come from the semantic conventions (FaaS, messaging, cloud, HTTP).
Where they have nothing, our own attributes live under the single prefix
``serverless.``, defined here and nowhere else, so that a query in Jaeger
(``serverless.retry=true``) finds them all the same way.
"""

from __future__ import annotations

from typing import Final

PREFIX: Final = "serverless."

# -- standard (semantic conventions) ------------------------------------------
CLOUD_PROVIDER: Final = "cloud.provider"
CLOUD_PLATFORM: Final = "cloud.platform"
CLOUD_REGION: Final = "cloud.region"
CLOUD_ACCOUNT_ID: Final = "cloud.account.id"
CLOUD_RESOURCE_ID: Final = "cloud.resource_id"
FAAS_NAME: Final = "faas.name"
FAAS_VERSION: Final = "faas.version"
FAAS_INSTANCE: Final = "faas.instance"
FAAS_MAX_MEMORY: Final = "faas.max_memory"
AWS_LOG_GROUP_NAMES: Final = "aws.log.group.names"
SERVICE_NAME: Final = "service.name"
#: One execution environment's identity (renewed after a SnapStart restore: see aws_lambda._snapstart).
SERVICE_INSTANCE_ID: Final = "service.instance.id"

# -- ours: pipeline health -----------------------------------------------------
#: Spans lost since the last report (a full export queue, failed exports), on the next local root span.
EXPORT_DROPPED: Final = PREFIX + "export.dropped_spans"
#: On the resource: the head-sampling ratio of OTEL_TRACES_SAMPLER=traceidratio or
#: parentbased_traceidratio, so that a reader (insights) can weigh each kept span by 1 / ratio.
SAMPLING_RATIO: Final = PREFIX + "sampling.ratio"

# -- Lambda handler (consumer side): standard keys -------------------------------
FAAS_TRIGGER: Final = "faas.trigger"
FAAS_INVOCATION_ID: Final = "faas.invocation_id"
FAAS_COLDSTART: Final = "faas.coldstart"
FAAS_TIME: Final = "faas.time"
FAAS_DOCUMENT_COLLECTION: Final = "faas.document.collection"
FAAS_DOCUMENT_OPERATION: Final = "faas.document.operation"
FAAS_DOCUMENT_NAME: Final = "faas.document.name"
FAAS_DOCUMENT_TIME: Final = "faas.document.time"
AWS_LAMBDA_INVOKED_ARN: Final = "aws.lambda.invoked_arn"
AWS_DYNAMODB_TABLE_NAMES: Final = "aws.dynamodb.table_names"
AWS_S3_BUCKET: Final = "aws.s3.bucket"
AWS_S3_KEY: Final = "aws.s3.key"
MESSAGING_SYSTEM: Final = "messaging.system"
MESSAGING_OPERATION_TYPE: Final = "messaging.operation.type"
MESSAGING_OPERATION_NAME: Final = "messaging.operation.name"
MESSAGING_DESTINATION_NAME: Final = "messaging.destination.name"
MESSAGING_MESSAGE_ID: Final = "messaging.message.id"
MESSAGING_BATCH_MESSAGE_COUNT: Final = "messaging.batch.message_count"
HTTP_REQUEST_METHOD: Final = "http.request.method"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
HTTP_ROUTE: Final = "http.route"
URL_PATH: Final = "url.path"
URL_SCHEME: Final = "url.scheme"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
CLIENT_ADDRESS: Final = "client.address"
USER_AGENT_ORIGINAL: Final = "user_agent.original"
ERROR_TYPE: Final = "error.type"

# -- ours: Lambda handler (consumer side) ----------------------------------------
#: The detected trigger (``sqs``, ``api_gateway_http`` …) and, when one service
#: delivered another's message, where it came from (``sns`` for SNS→SQS …).
TRIGGER: Final = PREFIX + "trigger"
TRIGGER_ORIGIN: Final = PREFIX + "trigger.origin"
#: ``on-demand``, ``provisioned-concurrency`` or ``snap-start`` (AWS_LAMBDA_INITIALIZATION_TYPE).
INIT_TYPE: Final = PREFIX + "init.type"
#: Process start → first invocation (on-demand cold starts only; see _state for why).
INIT_DURATION_MS: Final = PREFIX + "init.duration_ms"
#: True on the first invocation after a SnapStart restore.
SNAPSTART_RESTORED: Final = PREFIX + "snapstart.restored"
#: True when this invocation (or record) is a redelivery; the attempt number starts at 1.
RETRY: Final = PREFIX + "retry"
RETRY_ATTEMPT: Final = PREFIX + "retry.attempt"
#: Set (with an error status and a ``serverless.timeout`` event) by the timeout watchdog.
TIMEOUT: Final = PREFIX + "timeout"
TIMEOUT_EVENT: Final = PREFIX + "timeout"
MEMORY_PEAK_MB: Final = PREFIX + "memory.peak_mb"
MEMORY_LIMIT_MB: Final = PREFIX + "memory.limit_mb"
MEMORY_UTILIZATION: Final = PREFIX + "memory.utilization"
MEMORY_NEAR_LIMIT_EVENT: Final = PREFIX + "memory.near_limit"
#: The memory guard ended the invocation close to its memory limit (see aws_lambda._memory_guard).
MEMORY_NEAR_KILL_EVENT: Final = PREFIX + "memory.near_kill"
MEMORY_RESIDENT_MB: Final = PREFIX + "memory.resident_mb"
#: Reported on the first invocation of a new process when the previous one died mid-invocation.
PREVIOUS_KILLED: Final = PREFIX + "previous_invocation.killed"
PREVIOUS_REQUEST_ID: Final = PREFIX + "previous_invocation.request_id"
PREVIOUS_REASON: Final = PREFIX + "previous_invocation.reason"
PREVIOUS_KILLED_EVENT: Final = PREFIX + "previous_invocation.killed"
COST_ARCHITECTURE: Final = PREFIX + "cost.architecture"
COST_BILLED_DURATION_MS: Final = PREFIX + "cost.billed_duration_ms"
COST_GB_SECONDS: Final = PREFIX + "cost.gb_seconds"
COST_COMPUTE_USD: Final = PREFIX + "cost.compute_usd"
COST_REQUEST_USD: Final = PREFIX + "cost.request_usd"
COST_USD: Final = PREFIX + "cost.usd"
#: On a span the scrubbing stage failed on: it went out without its attributes, events, links and status text.
SCRUB_FAILED: Final = PREFIX + "scrub.failed"
PAYLOAD_EVENT: Final = PREFIX + "payload.event"
PAYLOAD_RESPONSE: Final = PREFIX + "payload.response"
#: With payload capture: the message a producer sent (on its span), a record carried (on its processing span).
PAYLOAD_MESSAGE: Final = PREFIX + "payload.message"
#: On the invocation span when OTEL_SERVERLESS_TRUST_INBOUND=false kept an inbound context as a link only.
INBOUND_UNTRUSTED: Final = PREFIX + "inbound.untrusted"
#: On a link: the producer context came from an untrusted inbound request.
LINK_UNTRUSTED: Final = PREFIX + "link.untrusted"
#: On a link: the context of the function's trace header, whose Sampled=0 we did not take as the parent's decision.
LINK_XRAY_UNSAMPLED: Final = PREFIX + "link.xray_unsampled"
#: On a deterministic link (S3 object, DynamoDB item): the key both sides derive it from.
LINK_CORRELATION_ID: Final = PREFIX + "link.correlation_id"
SQS_MESSAGE_GROUP_ID: Final = PREFIX + "sqs.message_group_id"
STEPFUNCTIONS_EXECUTION_ARN: Final = PREFIX + "stepfunctions.execution_arn"
STEPFUNCTIONS_STATE_NAME: Final = PREFIX + "stepfunctions.state_name"
#: Position of a record in its batch, on a per-record processing span.
RECORD_INDEX: Final = PREFIX + "record.index"
#: The handler reported this record in ``batchItemFailures``.
RECORD_FAILED: Final = PREFIX + "record.failed"
#: On a batch invocation: how many of its records the handler reported in ``batchItemFailures``.
BATCH_FAILED_RECORDS: Final = PREFIX + "batch.failed_records"
EVENTBRIDGE_SOURCE: Final = PREFIX + "eventbridge.source"
EVENTBRIDGE_DETAIL_TYPE: Final = PREFIX + "eventbridge.detail_type"
#: ARN of the EventBridge rule of a scheduled event.
SCHEDULE_RULE: Final = PREFIX + "schedule.rule"

# -- more triggers: standard keys, then ours -------------------------------------
MESSAGING_KAFKA_OFFSET: Final = "messaging.kafka.offset"
GRAPHQL_OPERATION_TYPE: Final = "graphql.operation.type"
GRAPHQL_OPERATION_NAME: Final = "graphql.operation.name"
#: How the trigger's records reached the function when a service stood between (``eventbridge_pipes``).
TRIGGER_VIA: Final = PREFIX + "trigger.via"
#: ``msk`` or ``self_managed_kafka``.
KAFKA_CLUSTER_KIND: Final = PREFIX + "kafka.cluster"
CLOUDFRONT_EVENT_TYPE: Final = PREFIX + "cloudfront.event_type"
CLOUDFRONT_DISTRIBUTION_ID: Final = PREFIX + "cloudfront.distribution_id"
#: ``connect``, ``message`` or ``disconnect``, and the route key and connection of an API Gateway WebSocket API.
WEBSOCKET_EVENT_TYPE: Final = PREFIX + "websocket.event_type"
WEBSOCKET_ROUTE_KEY: Final = PREFIX + "websocket.route_key"
WEBSOCKET_CONNECTION_ID: Final = PREFIX + "websocket.connection_id"
APPSYNC_API_ID: Final = PREFIX + "appsync.api_id"
APPSYNC_FIELD_NAME: Final = PREFIX + "appsync.field_name"
APPSYNC_PARENT_TYPE_NAME: Final = PREFIX + "appsync.parent_type_name"
#: A Lambda destination record: the original invocation's outcome and attempts.
DESTINATION_CONDITION: Final = PREFIX + "destination.condition"
DESTINATION_RETRIES_EXHAUSTED: Final = PREFIX + "destination.retries_exhausted"
DESTINATION_REQUEST_ID: Final = PREFIX + "destination.request_id"
DESTINATION_INVOKE_COUNT: Final = PREFIX + "destination.invoke_count"
DESTINATION_FUNCTION: Final = PREFIX + "destination.function"
DESTINATION_FUNCTION_ERROR: Final = PREFIX + "destination.function_error"
COGNITO_TRIGGER_SOURCE: Final = PREFIX + "cognito.trigger_source"
COGNITO_USER_POOL_ID: Final = PREFIX + "cognito.user_pool_id"
LOGS_GROUP: Final = PREFIX + "logs.group"
LOGS_STREAM: Final = PREFIX + "logs.stream"
LOGS_MESSAGE_TYPE: Final = PREFIX + "logs.message_type"
FIREHOSE_SOURCE_STREAM: Final = PREFIX + "firehose.source_stream"
#: ``custom_authorizer`` or ``pre_provisioning``.
IOT_HOOK: Final = PREFIX + "iot.hook"
IOT_PROTOCOLS: Final = PREFIX + "iot.protocols"
CONFIG_RULE_NAME: Final = PREFIX + "config.rule_name"
CONFIG_MESSAGE_TYPE: Final = PREFIX + "config.message_type"
CODEPIPELINE_JOB_ID: Final = PREFIX + "codepipeline.job_id"
CODEDEPLOY_DEPLOYMENT_ID: Final = PREFIX + "codedeploy.deployment_id"
CLOUDFORMATION_REQUEST_TYPE: Final = PREFIX + "cloudformation.request_type"
CLOUDFORMATION_STACK_ID: Final = PREFIX + "cloudformation.stack_id"
CLOUDFORMATION_LOGICAL_RESOURCE_ID: Final = PREFIX + "cloudformation.logical_resource_id"
CLOUDFORMATION_RESOURCE_TYPE: Final = PREFIX + "cloudformation.resource_type"
SECRETS_ROTATION_STEP: Final = PREFIX + "secrets_manager.rotation_step"
S3_BATCH_JOB_ID: Final = PREFIX + "s3_batch.job_id"
S3_BATCH_TASKS: Final = PREFIX + "s3_batch.tasks"
BEDROCK_ACTION_GROUP: Final = PREFIX + "bedrock.action_group"
BEDROCK_AGENT_NAME: Final = PREFIX + "bedrock.agent_name"
CONNECT_CHANNEL: Final = PREFIX + "connect.channel"
ALARM_NAME: Final = PREFIX + "cloudwatch.alarm_name"
ALARM_STATE: Final = PREFIX + "cloudwatch.alarm_state"
DASHBOARD_NAME: Final = PREFIX + "cloudwatch.dashboard_name"
S3_OBJECT_LAMBDA_ACCESS_POINT: Final = PREFIX + "s3_object_lambda.access_point"
API_GATEWAY_AUTHORIZER_TYPE: Final = PREFIX + "api_gateway.authorizer_type"

# -- log records as span events -------------------------------------------------------
LOG_LEVEL: Final = "log.level"
LOG_LOGGER: Final = "log.logger"
LOG_MESSAGE: Final = "log.message"
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"
#: Log records of this span past ``OTEL_SERVERLESS_LOG_EVENTS_MAX_PER_SPAN``, not added as events.
LOG_EVENTS_DROPPED: Final = PREFIX + "log_events.dropped"
MESSAGING_DESTINATION_PARTITION_ID: Final = "messaging.destination.partition.id"

# -- Propagation (producer side): standard keys ------------------------------------
RPC_SYSTEM: Final = "rpc.system"
RPC_SERVICE: Final = "rpc.service"
RPC_METHOD: Final = "rpc.method"
AWS_REQUEST_ID: Final = "aws.request_id"
AWS_SQS_QUEUE_URL: Final = "aws.sqs.queue.url"
AWS_SNS_TOPIC_ARN: Final = "aws.sns.topic.arn"
AWS_KINESIS_STREAM_NAME: Final = "aws.kinesis.stream_name"
AWS_STEP_FUNCTIONS_STATE_MACHINE_ARN: Final = "aws.step_functions.state_machine.arn"
#: Retries botocore made within the call (0: the first attempt was the last).
AWS_RETRY_ATTEMPTS: Final = "aws.retry_attempts"
#: Event on an AWS call's span: one attempt failed and was retried.
AWS_RETRY_EVENT: Final = "aws.retry"
FAAS_INVOKED_NAME: Final = "faas.invoked_name"
FAAS_INVOKED_PROVIDER: Final = "faas.invoked_provider"
FAAS_INVOKED_REGION: Final = "faas.invoked_region"

# -- ours: AWS calls ---------------------------------------------------------------
#: On an ``aws.retry`` event: the attempt that failed (1 = the first), and whether botocore counts it as throttled.
AWS_RETRY_ATTEMPT: Final = PREFIX + "retry.attempt"
AWS_THROTTLED: Final = PREFIX + "aws.throttled"
#: On an AWS call's span: attempts answered with a throttling error.
AWS_THROTTLED_ATTEMPTS: Final = PREFIX + "aws.throttled_attempts"

# -- ours: propagation (producer side) ----------------------------------------------
#: Messages of this call that carry the trace context / that could not (limits, no
#: free slot, payload not a JSON object); the reasons and the channels used.
PROPAGATION_INJECTED: Final = PREFIX + "propagation.injected"
PROPAGATION_SKIPPED: Final = PREFIX + "propagation.skipped"
PROPAGATION_SKIP_REASONS: Final = PREFIX + "propagation.skip_reasons"
PROPAGATION_CHANNELS: Final = PREFIX + "propagation.channels"
#: Correlation ids (``otel_serverless.propagation.{s3,dynamodb,kinesis}.correlation_key``)
#: of what this producer wrote: the one id as a string (searchable in Jaeger), and
#: all of them as a list. A consumer puts the same id on its link
#: (:data:`LINK_CORRELATION_ID`).
CORRELATION_ID: Final = PREFIX + "correlation_id"
CORRELATION_IDS: Final = PREFIX + "correlation_ids"
KINESIS_PARTITION_KEY: Final = PREFIX + "kinesis.partition_key"
KINESIS_SHARD_ID: Final = PREFIX + "kinesis.shard_id"
KINESIS_SEQUENCE_NUMBER: Final = PREFIX + "kinesis.sequence_number"
S3_ETAG: Final = PREFIX + "s3.etag"
S3_VERSION_ID: Final = PREFIX + "s3.version_id"
LAMBDA_INVOCATION_TYPE: Final = PREFIX + "lambda.invocation_type"
#: On the timeout event: milliseconds left when the watchdog fired.
TIMEOUT_REMAINING_MS: Final = PREFIX + "timeout.remaining_ms"
#: On the invocation span: the function's configured timeout, the remaining time at the start
#: of the invocation rounded up to the whole second (Lambda timeouts are whole seconds).
TIMEOUT_CONFIGURED_MS: Final = PREFIX + "timeout.configured_ms"
