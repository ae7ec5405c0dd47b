"""Deterministic links: S3 objects and DynamoDB items carry no trace context.

The producer records a correlation id on its span (``propagation.s3`` /
``propagation.dynamodb`` ``correlation_key``: bucket/key/etag, table/key). The
consumer derives the same id from the event and links to a span context computed
from it (SHA-256 → trace id and span id, not sampled), with the id itself as the
link attribute ``serverless.link.correlation_id``: every consumer of one object
version links to the same ids, and a backend query on the attribute finds the
producer span that recorded it.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import Link, SpanContext, TraceFlags

from otel_serverless import attributes as attr
from otel_serverless._guard import guard
from otel_serverless.aws_lambda.triggers import _base as base


def link(correlation_id: str, extra: base.Attributes | None = None) -> Link:
    digest = hashlib.sha256(correlation_id.encode("utf-8", "replace")).digest()
    trace_id = int.from_bytes(digest[:16], "big") or 1
    span_id = int.from_bytes(digest[16:24], "big") or 1
    context = SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(TraceFlags.DEFAULT))
    attributes: base.Attributes = {attr.LINK_CORRELATION_ID: correlation_id}
    if extra:
        attributes.update(extra)
    return Link(context, attributes)


def _key(module: str, *args: Any) -> str | None:
    try:
        from importlib import import_module

        function = import_module(f"otel_serverless.propagation.{module}").correlation_key
    except (ImportError, AttributeError):
        return None
    with guard(f"correlation.{module}"):
        value = function(*args)
        return value if isinstance(value, str) and value else None
    return None


def s3_link(
    bucket: str | None, key: str | None, etag: str | None, *, encoded: bool, version: str | None = None
) -> Link | None:
    """The link to the writer of this S3 object version (key as in the event, URL-encoded or not)."""
    if not bucket or not key:
        return None
    if encoded:
        key = urllib.parse.unquote_plus(key)
    correlation = _key("s3", bucket, key, etag.strip('"') if etag else None, version)
    if correlation is None:
        return None
    return link(correlation, {attr.AWS_S3_BUCKET: bucket, attr.AWS_S3_KEY: key[: base.MAX_VALUE_CHARS]})


def dynamodb_link(table: str | None, keys: Mapping[str, Any] | None) -> Link | None:
    """The link to the writer of this DynamoDB item (table + primary key as the stream shows it)."""
    if not table or not keys:
        return None
    correlation = _key("dynamodb", table, dict(keys))
    if correlation is None:
        return None
    return link(correlation, {attr.AWS_DYNAMODB_TABLE_NAMES: (table,)})


def s3_records(notification: object) -> list[Link]:
    """Links for every object of an S3 notification (``{"Records": [{"s3": …}]}``)."""
    found = base.records(notification, "eventSource", "aws:s3") or []
    links: list[Link] = []
    for record in found[:100]:
        s3 = base.mapping(record, "s3")
        made = s3_link(
            base.text(base.mapping(s3, "bucket"), "name"),
            base.text(base.mapping(s3, "object"), "key"),
            base.text(base.mapping(s3, "object"), "eTag"),
            encoded=True,
            version=base.text(base.mapping(s3, "object"), "versionId"),
        )
        if made is not None:
            links.append(made)
    return links


def s3_eventbridge(event: object) -> list[Link]:
    """The link for an S3 event delivered by EventBridge (``source: aws.s3``)."""
    if base.text(event, "source") != "aws.s3":
        return []
    detail = base.mapping(event, "detail")
    made = s3_link(
        base.text(base.mapping(detail, "bucket"), "name"),
        base.text(base.mapping(detail, "object"), "key"),
        base.text(base.mapping(detail, "object"), "etag"),
        encoded=False,
        version=base.text(base.mapping(detail, "object"), "version-id"),
    )
    return [made] if made is not None else []
