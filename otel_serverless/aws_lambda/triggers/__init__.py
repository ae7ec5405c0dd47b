"""Trigger detection: an ordered registry of one small module per event shape.

``detect(event)`` asks each detector in turn and returns the first answer;
:mod:`.fallback` answers for anything else. Order matters only where shapes
overlap: ALB before the REST API (both have ``httpMethod``), Function URL before
the HTTP API (both are payload format 2.0), scheduled events before EventBridge,
and the direct invoke (which reads the Lambda context, not the event) last.
A detector that raises is reported once and skipped: a malformed event can
only ever produce a less specific trigger, never an exception.
"""

from __future__ import annotations

from typing import Any, Final

from otel_serverless._guard import guard
from otel_serverless.aws_lambda.triggers import (
    alb,
    api_gateway_http,
    api_gateway_rest,
    dynamodb,
    eventbridge,
    fallback,
    function_url,
    kinesis,
    lambda_invoke,
    s3,
    scheduled,
    sns,
    sqs,
    stepfunctions,
)
from otel_serverless.aws_lambda.triggers._base import Detector, Record, Trigger

__all__ = ["REGISTRY", "Detector", "Record", "Trigger", "detect"]

REGISTRY: Final[tuple[tuple[str, Detector], ...]] = (
    ("alb", alb.detect),
    ("api_gateway_rest", api_gateway_rest.detect),
    ("function_url", function_url.detect),
    ("api_gateway_http", api_gateway_http.detect),
    ("sqs", sqs.detect),
    ("sns", sns.detect),
    ("kinesis", kinesis.detect),
    ("dynamodb", dynamodb.detect),
    ("s3", s3.detect),
    ("scheduled", scheduled.detect),
    ("eventbridge", eventbridge.detect),
    ("stepfunctions", stepfunctions.detect),
    ("lambda_invoke", lambda_invoke.detect),
)


def detect(event: Any, context: Any = None) -> Trigger:
    """The trigger of an invocation with this *event* (and Lambda *context*); never raises."""
    for name, detector in REGISTRY:
        found: Trigger | None = None
        with guard(f"trigger.{name}"):
            found = detector(event, context)
        if found is not None:
            return found
    return fallback.detect(event, context)
