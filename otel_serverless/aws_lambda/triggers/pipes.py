"""EventBridge Pipes: SQS, Kinesis and DynamoDB Streams records delivered as a bare list.

A pipe with no enrichment or transformation hands the target the source's records
without the ``Records`` wrapper; they are read as that source's trigger reads them,
and the trigger says it came through a pipe (``serverless.trigger.via``).
"""

from __future__ import annotations

import importlib
from typing import Any, Final

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base

#: A record's ``eventSource`` → the trigger module that reads that source's records.
SOURCES: Final = {"aws:sqs": "sqs", "aws:kinesis": "kinesis", "aws:dynamodb": "dynamodb"}


def detect(event: Any, context: Any) -> base.Trigger | None:
    if not isinstance(event, list):
        return None
    first = next((record for record in event if isinstance(record, dict)), None)
    module = SOURCES.get(base.text(first, "eventSource", 32) or "")
    if module is None:
        return None
    found: base.Trigger | None = importlib.import_module(f"{__package__}.{module}").detect({"Records": event}, context)
    if found is not None:
        found.attributes[attr.TRIGGER_VIA] = "eventbridge_pipes"
    return found
