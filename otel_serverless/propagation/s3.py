"""S3: object metadata for readers of the object, and a correlation key for notifications.

An S3 event notification carries no metadata, so an S3-triggered consumer links
to the producer through :func:`correlation_key` (bucket, key and ETag), which
the producer span records along with
``aws.s3.bucket``/``aws.s3.key``/ETag/version: no extra HeadObject needed.

The context also goes into the object's user metadata under :data:`METADATA_KEY`
(PutObject, CreateMultipartUpload, and CopyObject when it replaces metadata), for
readers that fetch the object (GetObject/HeadObject → :func:`extract_metadata`).
S3 caps user metadata at 2 KB (keys plus values); we never push it over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import unquote_plus

from opentelemetry.context import Context

from otel_serverless.propagation._carrier import (
    INJECTED_METADATA,
    MAPPING,
    NO_CONTEXT,
    NOT_APPLICABLE,
    SIZE_LIMIT,
    Fields,
    Outcome,
    encode,
    extract_slot,
    text_size,
)

__all__ = [
    "MAX_METADATA_BYTES",
    "METADATA_KEY",
    "correlation_key",
    "correlation_key_for_record",
    "extract_metadata",
    "inject_metadata",
]

#: Our one user-metadata key (sent as ``x-amz-meta-otel-context``).
METADATA_KEY: Final = "otel-context"
#: S3 user-defined metadata limit: UTF-8 bytes of every key and value together.
MAX_METADATA_BYTES: Final = 2_048


def correlation_key(bucket: str, key: str, etag: str | None = None, version: str | None = None) -> str:
    """The key the producer span records and an S3-triggered consumer recomputes.

    *key* is the object key as given to PutObject (notifications URL-encode it:
    :func:`correlation_key_for_record` decodes). The ETag (quotes ignored) is
    what both sides always have: every write response and every ObjectCreated
    notification carry it, while the version id is missing from some
    notifications. The version is used only when there is no ETag; the producer
    span records it separately to tell apart identical re-uploads.
    """
    identity = (etag or "").strip('"') or (version if version and version != "null" else "")
    return hashlib.sha256("\x1f".join(("s3", bucket, key, identity)).encode("utf-8")).hexdigest()[:32]


def correlation_key_for_record(record: Mapping[str, Any]) -> str | None:
    """:func:`correlation_key` from an S3 event notification record (or None if it is not one)."""
    if not isinstance(record, MAPPING):
        return None
    s3 = record.get("s3")
    if not isinstance(s3, MAPPING):
        return None
    bucket, obj = s3.get("bucket"), s3.get("object")
    if not isinstance(bucket, MAPPING) or not isinstance(obj, MAPPING):
        return None
    name, key = bucket.get("name"), obj.get("key")
    if not isinstance(name, str) or not isinstance(key, str):
        return None
    etag, version = obj.get("eTag"), obj.get("versionId")
    return correlation_key(
        name,
        unquote_plus(key),
        etag if isinstance(etag, str) else None,
        version if isinstance(version, str) else None,
    )


def extract_metadata(metadata: Mapping[str, Any]) -> Context | None:
    """Context from an object's user metadata (``HeadObject``/``GetObject`` ``Metadata``), or None."""
    if not isinstance(metadata, MAPPING):
        return None
    value = metadata.get(METADATA_KEY)
    if value is None:  # S3 lower-cases keys; be lenient with other clients
        value = next((v for k, v in metadata.items() if isinstance(k, str) and k.lower() == METADATA_KEY), None)
    return extract_slot(value)


def metadata_size(metadata: Mapping[str, Any]) -> int:
    return sum(text_size(key) + text_size(value) for key, value in metadata.items())


def inject_metadata(metadata: object, fields: Fields) -> tuple[dict[str, Any] | None, Outcome]:
    """A copy of *metadata* with the context added, or (None, why not)."""
    if not fields:
        return None, Outcome(reason=NO_CONTEXT)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, MAPPING):
        return None, Outcome(reason=NOT_APPLICABLE)
    others = {
        key: value for key, value in metadata.items() if not (isinstance(key, str) and key.lower() == METADATA_KEY)
    }
    new = {**others, METADATA_KEY: encode(fields)}
    if metadata_size(new) > MAX_METADATA_BYTES:
        return None, Outcome(reason=SIZE_LIMIT)
    return new, INJECTED_METADATA
