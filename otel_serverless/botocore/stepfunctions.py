"""Step Functions StartExecution / StartSyncExecution: context in the input JSON object."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless.botocore._base import Extension, Params
from otel_serverless.propagation import stepfunctions
from otel_serverless.propagation._carrier import Fields


def machine_name(params: Params) -> str:
    arn = params.get("stateMachineArn")
    return arn.rsplit(":", 1)[-1] if isinstance(arn, str) and arn else "unknown"


class StepFunctionsExtension(Extension):
    service = "stepfunctions"
    operations = frozenset({"StartExecution", "StartSyncExecution"})

    def span_kind(self) -> SpanKind:
        return SpanKind.CLIENT if self.call.operation == "StartSyncExecution" else SpanKind.PRODUCER

    def span_name(self) -> str:
        return f"{self.call.operation} {machine_name(self.call.params)}"

    def attributes(self, params: Params) -> dict[str, AttributeValue]:
        arn = params.get("stateMachineArn")
        return {attr.AWS_STEP_FUNCTIONS_STATE_MACHINE_ARN: arn} if isinstance(arn, str) else {}

    def message(self, params: Params) -> Any:
        return params.get("input")

    def inject(self, params: Params, fields: Fields) -> Params:
        new, outcome = stepfunctions.inject_input(params, fields)
        self.call.outcomes.append(outcome)
        return new
