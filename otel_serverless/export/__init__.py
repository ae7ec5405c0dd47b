"""Export pipeline: provider, resource, exporters, and a flush with a hard deadline.

``otel_serverless.configure()`` wires it with the serverless processors and the logs pipeline.
"""

from otel_serverless.export._batch import DeadlineBatchSpanProcessor
from otel_serverless.export._pipeline import Telemetry, current
from otel_serverless.export._resource import LambdaResourceDetector, build_resource, lambda_attributes

__all__ = [
    "DeadlineBatchSpanProcessor",
    "LambdaResourceDetector",
    "Telemetry",
    "build_resource",
    "current",
    "lambda_attributes",
]
