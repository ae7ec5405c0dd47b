"""S3 writes: context in object metadata; bucket, key, ETag, version and correlation id on the span."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless.botocore._base import Extension, Params
from otel_serverless.propagation import s3
from otel_serverless.propagation._carrier import NOT_APPLICABLE, Fields, Outcome

# Operations whose Metadata becomes the object's metadata. CopyObject only with
# MetadataDirective=REPLACE: by default it copies the source's metadata and
# ignores ours, and switching the directive would drop the user's metadata.
_METADATA_OPERATIONS = frozenset({"PutObject", "CreateMultipartUpload", "CopyObject"})


class S3Extension(Extension):
    service = "s3"
    operations = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload", "CompleteMultipartUpload"})

    def span_kind(self) -> SpanKind:
        return SpanKind.CLIENT

    def span_name(self) -> str:
        bucket = self.call.params.get("Bucket")
        return f"{self.call.operation} {bucket if isinstance(bucket, str) else 'unknown'}"

    def attributes(self, params: Params) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {}
        for name, key in ((attr.AWS_S3_BUCKET, "Bucket"), (attr.AWS_S3_KEY, "Key")):
            value = params.get(key)
            if isinstance(value, str):
                attributes[name] = value
        return attributes

    def inject(self, params: Params, fields: Fields) -> Params:
        operation = self.call.operation
        if operation not in _METADATA_OPERATIONS or (
            operation == "CopyObject" and params.get("MetadataDirective") != "REPLACE"
        ):
            self.call.outcomes.append(Outcome(reason=NOT_APPLICABLE))
            return params
        metadata, outcome = s3.inject_metadata(params.get("Metadata"), fields)
        self.call.outcomes.append(outcome)
        return params if metadata is None else {**params, "Metadata": metadata}

    def result_attributes(self, result: Mapping[str, Any]) -> dict[str, AttributeValue]:
        if self.call.operation == "CreateMultipartUpload":
            return {}
        copied = result.get("CopyObjectResult")
        etag = (copied if isinstance(copied, Mapping) else result).get("ETag")
        version = result.get("VersionId")
        bucket, key = self.call.params.get("Bucket"), self.call.params.get("Key")
        attributes: dict[str, AttributeValue] = {}
        if isinstance(etag, str):
            attributes[attr.S3_ETAG] = etag.strip('"')
        if isinstance(version, str):
            attributes[attr.S3_VERSION_ID] = version
        if isinstance(bucket, str) and isinstance(key, str) and (isinstance(etag, str) or isinstance(version, str)):
            self.call.correlation_ids.append(
                s3.correlation_key(
                    bucket, key, etag if isinstance(etag, str) else None, version if isinstance(version, str) else None
                )
            )
        return attributes
