"""Lambda Invoke: context in ``ClientContext.custom``; the ``Payload`` is never touched."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless.botocore import _upstream
from otel_serverless.botocore._base import Extension, Params
from otel_serverless.propagation import lambda_invoke
from otel_serverless.propagation._carrier import NOT_APPLICABLE, Fields, Outcome


def function_name(params: Params) -> str:
    # Accepts a name, a partial or full ARN, with or without a qualifier.
    name = params.get("FunctionName")
    if not isinstance(name, str) or not name:
        return "unknown"
    parts = name.split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1]
    return parts[1] if len(parts) in (2, 3) and parts[0].isdigit() else parts[0]


class LambdaExtension(Extension):
    service = "lambda"
    operations = frozenset({"Invoke", "InvokeWithResponseStream"})
    upstream_injects = True

    def _invocation_type(self) -> str:
        kind = self.call.params.get("InvocationType")
        return kind if isinstance(kind, str) else "RequestResponse"

    def span_kind(self) -> SpanKind:
        return SpanKind.PRODUCER if self._invocation_type() == "Event" else SpanKind.CLIENT

    def span_name(self) -> str:
        return f"invoke {function_name(self.call.params)}"

    def attributes(self, params: Params) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {
            attr.FAAS_INVOKED_NAME: function_name(params),
            attr.FAAS_INVOKED_PROVIDER: "aws",
            attr.LAMBDA_INVOCATION_TYPE: self._invocation_type(),
        }
        if self.call.region:
            attributes[attr.FAAS_INVOKED_REGION] = self.call.region
        return attributes

    def message(self, params: Params) -> Any:
        return params.get("Payload")

    def inject(self, params: Params, fields: Fields) -> Params:
        if self._invocation_type() == "DryRun":
            self.call.outcomes.append(Outcome(reason=NOT_APPLICABLE))
            return params
        client_context, outcome = lambda_invoke.inject_client_context(params.get("ClientContext"), fields)
        self.call.outcomes.append(outcome)
        return params if client_context is None else {**params, "ClientContext": client_context}

    def undo_upstream(self, params: Params, fields: Fields) -> Params:
        payload = params.get("Payload")
        original = self.call.params.get("Payload")
        if payload is not original and original is not None:
            # We saw the caller's payload before upstream rewrote it: put it back as it was.
            return {**params, "Payload": original}
        stripped = _upstream.strip_payload(payload, fields)
        return params if stripped is payload else {**params, "Payload": stripped}
