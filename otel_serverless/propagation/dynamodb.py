"""DynamoDB: deterministic links from stream consumers, and opt-in context in the item.

Items belong to the user: by default nothing is added to them. The producer
span records the table (``aws.dynamodb.table_names``) and, per written item,
:func:`correlation_key` of the table and the item's primary key; a DynamoDB
stream consumer recomputes it from ``eventSourceARN`` and ``dynamodb.Keys``
(:func:`correlation_key_for_record`). The key values themselves are hashed, so
they never reach the trace backend in clear.

PutItem sends a whole item, not its key: which attributes form the key is
learnt from the ``Key`` of UpdateItem/DeleteItem calls seen in this process,
or configured with ``OTEL_SERVERLESS_DYNAMODB_KEYS``.

Opt-in (``OTEL_SERVERLESS_DYNAMODB_ITEM_CONTEXT=true``): the context is also
stored in written items under :data:`RESERVED_KEY` (a String attribute), within
the 400 KB item limit, and :func:`extract_stream_record` reads it from
``NewImage``. UpdateItem gets one more ``SET`` action for that attribute
(:func:`inject_update`); the user's own actions are kept as they are.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from opentelemetry.context import Context

from otel_serverless.propagation._carrier import (
    CHANNEL_ITEM,
    INJECTED_ITEM,
    MAPPING,
    NO_CONTEXT,
    NOT_APPLICABLE,
    RESERVED_KEY,
    SIZE_LIMIT,
    Fields,
    Outcome,
    encode,
    extract_slot,
    text_size,
)

__all__ = [
    "MAX_ITEM_BYTES",
    "RESERVED_KEY",
    "correlation_key",
    "correlation_key_for_record",
    "extract_stream_record",
    "inject_item",
    "inject_update",
    "key_of",
    "learn_key",
    "table_name",
]

#: DynamoDB item limit (attribute names and values, UTF-8).
MAX_ITEM_BYTES: Final = 409_600
_MAX_KEY_ATTRIBUTES: Final = 2

_lock = threading.Lock()
_learnt: dict[str, tuple[str, ...]] = {}


# -- correlation ----------------------------------------------------------------------


def correlation_key(table: str, keys: Mapping[str, Any]) -> str | None:
    """The key both the producer span and a stream consumer compute for one item, or None.

    *keys*: the item's primary key in DynamoDB JSON (``{"pk": {"S": "a"}}``), as
    in ``Key`` parameters and stream records' ``dynamodb.Keys``.
    """
    parts = []
    for name in sorted(keys):
        value = _canonical(keys[name])
        if value is None:
            return None
        parts.append(f"{name}={value}")
    if not parts:
        return None
    return hashlib.sha256("\x1f".join(("dynamodb", table, *parts)).encode("utf-8")).hexdigest()[:32]


def correlation_key_for_record(record: Mapping[str, Any]) -> str | None:
    """:func:`correlation_key` from a DynamoDB stream record (Lambda shape), or None."""
    if not isinstance(record, MAPPING):
        return None
    arn, dynamodb = record.get("eventSourceARN"), record.get("dynamodb")
    if not isinstance(arn, str) or not isinstance(dynamodb, MAPPING):
        return None
    keys = dynamodb.get("Keys")
    return correlation_key(table_name(arn), keys) if isinstance(keys, MAPPING) else None


def table_name(name_or_arn: str) -> str:
    """The table name from a name, a table ARN or a stream ARN (``…:table/NAME/stream/…``)."""
    if ":table/" in name_or_arn:
        return name_or_arn.split(":table/", 1)[1].split("/", 1)[0]
    return name_or_arn


def _canonical(value: object) -> str | None:  # noqa: PLR0911  # one exit per malformed shape
    # Key attributes are S, N or B; numbers compare by value, binaries as base64.
    if not isinstance(value, MAPPING) or len(value) != 1:
        return None
    ((kind, raw),) = value.items()
    if kind == "S" and isinstance(raw, str):
        return f"S:{raw}"
    if kind == "N" and isinstance(raw, str):
        try:
            return f"N:{format(Decimal(raw).normalize(), 'f')}"
        except InvalidOperation:
            return None
    if kind == "B":
        if isinstance(raw, (bytes, bytearray)):
            return "B:" + base64.b64encode(raw).decode("ascii")
        if isinstance(raw, str):
            return f"B:{raw}"
    return None


# -- key schema -----------------------------------------------------------------------


def learn_key(table: str, key: Mapping[str, Any]) -> None:
    """Remember which attributes form *table*'s primary key (from a ``Key`` parameter)."""
    names = tuple(sorted(name for name in key if isinstance(name, str)))
    if 0 < len(names) <= _MAX_KEY_ATTRIBUTES and _learnt.get(table) != names:
        with _lock:
            if len(_learnt) < 1024:  # bounded: a process touches few tables
                _learnt[table] = names


def key_of(table: str, item: Mapping[str, Any], configured: Mapping[str, tuple[str, ...]]) -> dict[str, Any] | None:
    """The primary key of *item* (a full item), if the table's key attributes are known."""
    names = configured.get(table) or _learnt.get(table)
    if not names or any(name not in item for name in names):
        return None
    return {name: item[name] for name in names}


def forget_learnt_keys() -> None:
    """Tests only: forget learnt key schemas."""
    with _lock:
        _learnt.clear()


# -- opt-in: context in the item ------------------------------------------------------


def extract_stream_record(record: Mapping[str, Any]) -> Context | None:
    """Context stored in the item (opt-in) from a stream record's ``NewImage``, or None."""
    if not isinstance(record, MAPPING):
        return None
    dynamodb = record.get("dynamodb")
    if not isinstance(dynamodb, MAPPING):
        return None
    image = dynamodb.get("NewImage")
    if not isinstance(image, MAPPING):
        return None
    slot = image.get(RESERVED_KEY)
    return extract_slot(slot.get("S")) if isinstance(slot, MAPPING) else None


def item_size(item: Mapping[str, Any]) -> int:
    """Approximate bytes DynamoDB counts for an item (names + values; sets and documents summed)."""
    return sum(text_size(name) + _value_size(value) for name, value in item.items())


def _value_size(value: object) -> int:
    if not isinstance(value, MAPPING):
        return 1
    size = 0
    for kind, raw in value.items():
        if kind in ("S", "B"):
            size += text_size(raw) if isinstance(raw, (str, bytes, bytearray)) else 0
        elif kind == "N":
            size += len(str(raw)) // 2 + 1
        elif kind in ("SS", "BS", "NS") and isinstance(raw, list):
            size += sum(text_size(item) if not isinstance(item, str) or kind != "NS" else len(item) for item in raw)
        elif kind == "L" and isinstance(raw, list):
            size += 3 + sum(_value_size(item) + 1 for item in raw)
        elif kind == "M" and isinstance(raw, MAPPING):
            size += 3 + sum(text_size(name) + _value_size(item) + 1 for name, item in raw.items())
        else:
            size += 1
    return size


def inject_item(item: object, fields: Fields) -> tuple[dict[str, Any] | None, Outcome]:
    """A copy of *item* (DynamoDB JSON) with the context under :data:`RESERVED_KEY`, or (None, why not)."""
    if not fields:
        return None, Outcome(reason=NO_CONTEXT)
    if not isinstance(item, MAPPING):
        return None, Outcome(reason=NOT_APPLICABLE)
    new = {**item, RESERVED_KEY: {"S": encode(fields)}}
    if item_size(new) > MAX_ITEM_BYTES:
        return None, Outcome(reason=SIZE_LIMIT)
    return new, INJECTED_ITEM


# Placeholders for our one SET action; a request already using them is left alone.
_NAME: Final = "#otel_serverless_ctx"
_VALUE: Final = ":otel_serverless_ctx"
# SET is a DynamoDB reserved word: it can only be the clause keyword, never a bare name.
_SET_CLAUSE: Final = re.compile(r"\bSET\b", re.IGNORECASE)


def inject_update(update: object, fields: Fields) -> tuple[dict[str, Any] | None, Outcome]:
    """A copy of an UpdateItem request (or a transaction's ``Update``) that also sets
    :data:`RESERVED_KEY` to the context, or (None, why not)."""
    if not fields:
        return None, Outcome(reason=NO_CONTEXT)
    if not isinstance(update, MAPPING):
        return None, Outcome(reason=NOT_APPLICABLE)
    value = {"S": encode(fields)}
    legacy = update.get("AttributeUpdates")
    expression = update.get("UpdateExpression")
    if isinstance(legacy, MAPPING) and expression is None:
        return {**update, "AttributeUpdates": {**legacy, RESERVED_KEY: {"Value": value, "Action": "PUT"}}}, Outcome(
            CHANNEL_ITEM
        )
    if not isinstance(expression, str):
        return None, Outcome(reason=NOT_APPLICABLE)
    names = update.get("ExpressionAttributeNames") or {}
    values = update.get("ExpressionAttributeValues") or {}
    if not isinstance(names, MAPPING) or not isinstance(values, MAPPING) or _NAME in names or _VALUE in values:
        return None, Outcome(reason=NOT_APPLICABLE)
    action = f"{_NAME} = {_VALUE}"
    match = _SET_CLAUSE.search(expression)
    if match is None:
        new_expression = f"{expression} SET {action}"
    else:
        new_expression = f"{expression[: match.end()]} {action},{expression[match.end() :]}"
    return {
        **update,
        "UpdateExpression": new_expression,
        "ExpressionAttributeNames": {**names, _NAME: RESERVED_KEY},
        "ExpressionAttributeValues": {**values, _VALUE: value},
    }, INJECTED_ITEM


def parse_key_schema(raw: str) -> dict[str, tuple[str, ...]]:
    """``Orders=pk,sk;Users=id`` → ``{"Orders": ("pk", "sk"), "Users": ("id",)}`` (ValueError if malformed)."""
    schema: dict[str, tuple[str, ...]] = {}
    for part in raw.split(";"):
        if not part.strip():
            continue
        table, sep, names = part.partition("=")
        keys = tuple(name.strip() for name in names.split(",") if name.strip())
        if not sep or not table.strip() or not 0 < len(keys) <= _MAX_KEY_ATTRIBUTES:
            raise ValueError(part)
        schema[table.strip()] = keys
    return schema
