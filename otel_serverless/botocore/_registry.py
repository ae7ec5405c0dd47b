"""Which extension handles which AWS service: the one registry, keyed by botocore service name."""

from __future__ import annotations

from typing import Final

from otel_serverless.botocore._base import Extension
from otel_serverless.botocore.awslambda import LambdaExtension
from otel_serverless.botocore.dynamodb import DynamoDbExtension
from otel_serverless.botocore.events import EventsExtension
from otel_serverless.botocore.kinesis import KinesisExtension
from otel_serverless.botocore.s3 import S3Extension
from otel_serverless.botocore.sns import SnsExtension
from otel_serverless.botocore.sqs import SqsExtension
from otel_serverless.botocore.stepfunctions import StepFunctionsExtension

EXTENSIONS: Final[dict[str, type[Extension]]] = {
    extension.service: extension
    for extension in (
        SqsExtension,
        SnsExtension,
        EventsExtension,
        KinesisExtension,
        StepFunctionsExtension,
        LambdaExtension,
        S3Extension,
        DynamoDbExtension,
    )
}


def lookup(service: str, operation: str) -> type[Extension] | None:
    extension = EXTENSIONS.get(service)
    return extension if extension is not None and operation in extension.operations else None
