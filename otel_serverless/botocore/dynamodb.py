"""DynamoDB writes: table and per-item correlation ids on the span; items untouched unless opted in."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless.botocore import _config
from otel_serverless.botocore._base import Extension, Params
from otel_serverless.propagation import dynamodb
from otel_serverless.propagation._carrier import NOT_APPLICABLE, Fields, Outcome

# (table, kind, payload) for every write of a request; kind is "Item" (a full item) or "Key".
_Write = tuple[str, str, Mapping[str, Any]]


def writes(operation: str, params: Params) -> Iterator[_Write]:
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        table = params.get("TableName")
        kind = "Item" if operation == "PutItem" else "Key"
        if isinstance(table, str) and isinstance(params.get(kind), Mapping):
            yield table, kind, params[kind]
    elif operation == "BatchWriteItem":
        items = params.get("RequestItems")
        for table, requests in items.items() if isinstance(items, Mapping) else ():
            for request in requests if isinstance(requests, list) else ():
                put = request.get("PutRequest") if isinstance(request, Mapping) else None
                delete = request.get("DeleteRequest") if isinstance(request, Mapping) else None
                if isinstance(put, Mapping) and isinstance(put.get("Item"), Mapping):
                    yield table, "Item", put["Item"]
                elif isinstance(delete, Mapping) and isinstance(delete.get("Key"), Mapping):
                    yield table, "Key", delete["Key"]
    elif operation == "TransactWriteItems":
        for entry in params.get("TransactItems") or ():
            for action, kind in (("Put", "Item"), ("Update", "Key"), ("Delete", "Key")):
                body = entry.get(action) if isinstance(entry, Mapping) else None
                if (
                    isinstance(body, Mapping)
                    and isinstance(body.get("TableName"), str)
                    and isinstance(body.get(kind), Mapping)
                ):
                    yield body["TableName"], kind, body[kind]


class DynamoDbExtension(Extension):
    service = "dynamodb"
    operations = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})

    def span_kind(self) -> SpanKind:
        return SpanKind.CLIENT

    def span_name(self) -> str:
        table = self.call.params.get("TableName")
        return f"{self.call.operation} {table}" if isinstance(table, str) else self.call.operation

    def attributes(self, params: Params) -> dict[str, AttributeValue]:
        configured = _config.read().dynamodb_keys
        tables: list[str] = []
        for table, kind, payload in writes(self.call.operation, params):
            if table not in tables:
                tables.append(table)
            if kind == "Key":
                dynamodb.learn_key(table, payload)
                key: Mapping[str, Any] | None = payload
            else:
                key = dynamodb.key_of(table, payload, configured)
            correlation = dynamodb.correlation_key(table, key) if key else None
            if correlation:
                self.call.correlation_ids.append(correlation)
        return {attr.AWS_DYNAMODB_TABLE_NAMES: tables} if tables else {}

    def inject(self, params: Params, fields: Fields) -> Params:
        if not _config.read().dynamodb_item_context:
            return params  # items are the user's data: nothing is added by default
        operation = self.call.operation
        if operation == "PutItem":
            item, outcome = dynamodb.inject_item(params.get("Item"), fields)
            self.call.outcomes.append(outcome)
            return params if item is None else {**params, "Item": item}
        if operation == "UpdateItem":
            update, outcome = dynamodb.inject_update(params, fields)
            self.call.outcomes.append(outcome)
            return params if update is None else update
        if operation == "BatchWriteItem":
            return self._batch(params, fields)
        if operation == "TransactWriteItems":
            return self._transact(params, fields)
        self.call.outcomes.append(Outcome(reason=NOT_APPLICABLE))
        return params

    def _batch(self, params: Params, fields: Fields) -> Params:
        items = params.get("RequestItems")
        if not isinstance(items, Mapping):
            return params
        new_items: dict[str, Any] = {}
        for table, requests in items.items():
            new_requests = []
            for request in requests if isinstance(requests, list) else ():
                put = request.get("PutRequest") if isinstance(request, Mapping) else None
                if isinstance(put, Mapping):
                    item, outcome = dynamodb.inject_item(put.get("Item"), fields)
                    self.call.outcomes.append(outcome)
                    if item is not None:
                        new_requests.append({**request, "PutRequest": {**put, "Item": item}})
                        continue
                new_requests.append(request)
            new_items[table] = new_requests if isinstance(requests, list) else requests
        return {**params, "RequestItems": new_items}

    def _transact(self, params: Params, fields: Fields) -> Params:
        transact = params.get("TransactItems")
        if not isinstance(transact, list):
            return params
        new_transact = []
        for entry in transact:
            put = entry.get("Put") if isinstance(entry, Mapping) else None
            update = entry.get("Update") if isinstance(entry, Mapping) else None
            if isinstance(put, Mapping):
                item, outcome = dynamodb.inject_item(put.get("Item"), fields)
                self.call.outcomes.append(outcome)
                if item is not None:
                    new_transact.append({**entry, "Put": {**put, "Item": item}})
                    continue
            elif isinstance(update, Mapping):
                new_update, outcome = dynamodb.inject_update(update, fields)
                self.call.outcomes.append(outcome)
                if new_update is not None:
                    new_transact.append({**entry, "Update": new_update})
                    continue
            new_transact.append(entry)
        return {**params, "TransactItems": new_transact}
