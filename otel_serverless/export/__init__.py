"""Export pipeline: provider, resource, exporters, and a flush with a hard deadline."""

from otel_serverless.export._batch import DeadlineBatchSpanProcessor
from otel_serverless.export._pipeline import Telemetry, configure, current
from otel_serverless.export._resource import LambdaResourceDetector, build_resource, lambda_attributes

__all__ = [
    "DeadlineBatchSpanProcessor",
    "LambdaResourceDetector",
    "Telemetry",
    "build_resource",
    "configure",
    "current",
    "lambda_attributes",
]
