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

# -- ours: pipeline health -----------------------------------------------------
#: Spans dropped because the export queue was full (on the next exported span).
EXPORT_DROPPED: Final = PREFIX + "export.dropped_spans"

# -- Propagation (producer side): standard keys ------------------------------------
RPC_SYSTEM: Final = "rpc.system"
RPC_SERVICE: Final = "rpc.service"
RPC_METHOD: Final = "rpc.method"
AWS_REQUEST_ID: Final = "aws.request_id"
AWS_SQS_QUEUE_URL: Final = "aws.sqs.queue.url"
AWS_SNS_TOPIC_ARN: Final = "aws.sns.topic.arn"
AWS_KINESIS_STREAM_NAME: Final = "aws.kinesis.stream_name"
AWS_STEP_FUNCTIONS_STATE_MACHINE_ARN: Final = "aws.step_functions.state_machine.arn"
FAAS_INVOKED_NAME: Final = "faas.invoked_name"
FAAS_INVOKED_PROVIDER: Final = "faas.invoked_provider"
FAAS_INVOKED_REGION: Final = "faas.invoked_region"

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
