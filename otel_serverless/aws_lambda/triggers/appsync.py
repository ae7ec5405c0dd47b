"""AppSync Lambda resolvers: one field (``faas.trigger=http``), or a batch of them.

A direct resolver gets ``info`` (or, in the older shape, ``typeName`` / ``fieldName``) and
the GraphQL request's HTTP headers in ``request.headers``, which carry the caller's context.
A batch resolver gets a list of such objects: a batch trigger whose items link to their callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _http

#: GraphQL operation types, as ``graphql.operation.type`` spells them.
OPERATIONS: Final = {"Query": "query", "Mutation": "mutation", "Subscription": "subscription"}
#: Items read from one batch (AppSync batches hold up to 2,000).
MAX_ITEMS: Final = 2_000


def _field(item: object) -> tuple[str, str | None] | None:
    """(field name, parent type name) of one resolver invocation, or None if it is not one."""
    info = base.mapping(item, "info")
    source = info if info is not None else item
    field = base.text(source, "fieldName", 256)
    parent = base.text(source, "parentTypeName" if info is not None else "typeName", 256)
    if field is None:
        return None
    if info is None and (parent is None or not isinstance(item, Mapping) or "arguments" not in item):
        return None  # the older shape: typeName and arguments beside fieldName
    return field, parent


def _attributes(field: str, parent: str | None) -> base.Attributes:
    attributes: base.Attributes = {attr.APPSYNC_FIELD_NAME: field}
    base.put(attributes, attr.APPSYNC_PARENT_TYPE_NAME, parent)
    base.put(attributes, attr.GRAPHQL_OPERATION_TYPE, OPERATIONS.get(parent or ""))
    return attributes


def _headers(item: object) -> Mapping[str, Any]:
    return {"headers": base.mapping(base.mapping(item, "request"), "headers") or {}}


def detect(event: Any, context: Any) -> base.Trigger | None:
    if isinstance(event, list):
        return _batch(event)
    found = _field(event)
    if found is None:
        return None
    return base.Trigger(
        name="appsync",
        faas_trigger=base.HTTP,
        attributes=_attributes(*found),
        parent=_http.parent_from(_headers(event)),
        http=True,
    )


def _batch(event: list[Any]) -> base.Trigger | None:
    items = [(item, _field(item)) for item in event[:MAX_ITEMS] if isinstance(item, dict)]
    if not items or items[0][1] is None:
        return None
    records = [
        base.Record(index=index, source=item, parent=_http.parent_from(_headers(item)), attributes=_attributes(*found))
        for index, (item, found) in enumerate(items)
        if found is not None
    ]
    first = items[0][1]
    attributes = _attributes(*first) if all(found == first for _, found in items) else {}
    attributes[attr.MESSAGING_BATCH_MESSAGE_COUNT] = len(records)
    return base.Trigger(
        name="appsync_batch", faas_trigger=base.HTTP, attributes=attributes, records=records, batch=True
    )
