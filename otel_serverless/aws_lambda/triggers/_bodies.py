"""What rides inside a delivered body: SNS envelopes, S3 notifications, EventBridge events.

SQS and SNS deliver other services' messages as JSON text. The carrier getters
read the trace context out of them; this module only tells which service first
produced the message, for ``serverless.trigger.origin`` and S3 links.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _correlation

#: Largest body parsed to learn its origin (SQS and SNS cap messages at 256 KiB).
MAX_BODY_CHARS: Final = 262_144


def parse(body: object) -> Mapping[str, Any] | None:
    """The JSON object in *body* when it may be another service's message, else None (not JSON,
    too large, not an object, or plainly the user's own data)."""
    if not isinstance(body, str) or len(body) > MAX_BODY_CHARS or not body.lstrip().startswith("{"):
        return None
    # What each service's message names (an S3 notification's event source, an EventBridge
    # event's detail-type, an SNS envelope's TopicArn): most bodies are user data, never parsed.
    if '"aws:s3"' not in body and '"detail-type"' not in body and '"TopicArn"' not in body:
        return None
    try:
        found = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return found if isinstance(found, Mapping) else None


def is_sns_envelope(document: Mapping[str, Any] | None) -> bool:
    return base.text(document, "Type") == "Notification" and base.text(document, "TopicArn") is not None


def is_eventbridge(document: Mapping[str, Any] | None) -> bool:
    return (
        document is not None
        and isinstance(document.get("detail-type"), str)
        and isinstance(document.get("source"), str)
        and "detail" in document
    )


def is_s3_notification(document: Mapping[str, Any] | None) -> bool:
    return base.records(document, "eventSource", "aws:s3") is not None


def origin(document: Mapping[str, Any] | None) -> str | None:
    """Which service produced *document*: ``sns``, ``s3``, ``eventbridge`` (innermost wins), or None."""
    if document is None:
        return None
    if is_s3_notification(document):
        return "s3"
    if is_eventbridge(document):
        return "s3" if document.get("source") == "aws.s3" else "eventbridge"
    if is_sns_envelope(document):
        return origin(parse(document.get("Message"))) or "sns"
    return None


def s3_links(document: Mapping[str, Any] | None) -> list[Any]:
    """Deterministic links for S3 objects inside *document*, however it was wrapped."""
    if document is None:
        return []
    if is_s3_notification(document):
        return _correlation.s3_records(document)
    if is_eventbridge(document):
        return _correlation.s3_eventbridge(document)
    if is_sns_envelope(document):
        return s3_links(parse(document.get("Message")))
    return []
