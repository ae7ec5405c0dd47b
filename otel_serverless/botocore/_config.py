"""Producer-side settings, read once per process (see ``_settings.per_process``): Lambda fixes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._guard import preview, warn_once
from otel_serverless.propagation import kinesis, sqs


@dataclass(frozen=True)
class Config:
    exclude: frozenset[str]
    sqs_max_message_bytes: int
    kinesis_max_record_bytes: int
    dynamodb_item_context: bool
    dynamodb_keys: dict[str, tuple[str, ...]]


def read() -> Config:
    return _settings.per_process("botocore.config", _read)


#: The services OTEL_SERVERLESS_PROPAGATION_EXCLUDE may name (botocore names).
SERVICES: Final = frozenset({"sqs", "sns", "events", "kinesis", "stepfunctions", "lambda", "s3", "dynamodb"})


def _exclude() -> frozenset[str]:
    """The services named in OTEL_SERVERLESS_PROPAGATION_EXCLUDE; an unknown name warns (once)."""
    names = frozenset(name.lower() for name in _settings.read_list(env.OTEL_SERVERLESS_PROPAGATION_EXCLUDE, ()))
    unknown = sorted(names - SERVICES)
    if unknown:
        warn_once(
            f"setting:{env.OTEL_SERVERLESS_PROPAGATION_EXCLUDE}",
            f"otel-serverless: {env.OTEL_SERVERLESS_PROPAGATION_EXCLUDE} names no such service "
            f"{preview(', '.join(unknown))}; ignored (known: {', '.join(sorted(SERVICES))})",
        )
    return names & SERVICES


def _read() -> Config:
    from otel_serverless.propagation.dynamodb import parse_key_schema

    return Config(
        exclude=_exclude(),
        sqs_max_message_bytes=_settings.read_int(
            env.OTEL_SERVERLESS_SQS_MAX_MESSAGE_BYTES, sqs.DEFAULT_MAX_MESSAGE_BYTES, minimum=1024, maximum=1_048_576
        ),
        kinesis_max_record_bytes=_settings.read_int(
            env.OTEL_SERVERLESS_KINESIS_MAX_RECORD_BYTES,
            kinesis.DEFAULT_MAX_RECORD_BYTES,
            minimum=1024,
            maximum=10_485_760,
        ),
        dynamodb_item_context=_settings.read_bool(env.OTEL_SERVERLESS_DYNAMODB_ITEM_CONTEXT, False),
        dynamodb_keys=_settings.read(
            env.OTEL_SERVERLESS_DYNAMODB_KEYS,
            parse_key_schema,
            {},
            expected="Table=partition[,sort];Other=id",
        ),
    )
