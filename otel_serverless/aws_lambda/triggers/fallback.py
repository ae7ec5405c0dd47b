"""Anything else (an IoT rule's device message, a test payload, None …): no parent, no records."""

from __future__ import annotations

from typing import Any

from otel_serverless.aws_lambda.triggers import _base as base


def detect(event: Any, context: Any) -> base.Trigger:
    return base.Trigger(name="fallback", faas_trigger=base.OTHER)
