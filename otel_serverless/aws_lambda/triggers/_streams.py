"""Kinesis and DynamoDB Streams share this: a redelivered record has the same sequence number."""

from __future__ import annotations


def sequence_key(source_arn: str | None, sequence: str | None) -> str | None:
    """Identity of one stream record across deliveries (stream ARN + sequence number)."""
    if not sequence:
        return None
    return f"{source_arn or ''}#{sequence}"
