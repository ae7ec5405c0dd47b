"""The extension contract: one subclass per AWS service, hooks called by :mod:`._hooks`.

An extension is created per API call it handles. Every hook runs under
``_guard`` (an error is reported once and swallowed; the AWS call proceeds
unchanged) and the test suite fails when one raises, so a drifting hook cannot
hide. Hooks never mutate what they are given: :meth:`Extension.inject` returns
new params, copying only the containers it changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless.propagation._carrier import Fields, Outcome

Params = Mapping[str, Any]


@dataclass
class Call:
    """One AWS API call in flight, shared by the hooks of its extension."""

    service: str
    operation: str
    region: str | None
    params: Params
    #: What happened to each message's context, in order (filled by :meth:`Extension.inject`).
    outcomes: list[Outcome] = field(default_factory=list)
    #: Correlation ids of what this call wrote (S3 objects, DynamoDB items, Kinesis records).
    correlation_ids: list[str] = field(default_factory=list)


class Extension:
    """Base class: every hook is a no-op. Subclasses set :attr:`operations` and override hooks."""

    #: The botocore service name (``client.meta.service_model.service_name``).
    service: ClassVar[str] = ""
    #: Operations this extension traces and injects into; other operations are not touched.
    operations: ClassVar[frozenset[str]] = frozenset()
    #: Upstream botocore instrumentation writes the context into this service's messages,
    #: so :meth:`undo_upstream` needs the propagator's fields even when we inject nothing.
    upstream_injects: ClassVar[bool] = False
    #: The service's messages can carry context (False: the call is traced, nothing is injected).
    propagates: ClassVar[bool] = True

    def __init__(self, call: Call) -> None:
        self.call = call

    def span_kind(self) -> SpanKind:
        """Kind of our span (runs before the call, only when we own the span)."""
        return SpanKind.PRODUCER

    def span_name(self) -> str:
        """Name of our span (before the call, only when we own the span)."""
        return f"{self.service}.{self.call.operation}"

    def attributes(self, params: Params) -> dict[str, AttributeValue]:
        """Attributes from the request (inside botocore, after the user's parameter handlers).

        *params* are the final parameters, e.g. DynamoDB JSON even for boto3's
        Table resource. Set on the call's span, ours or upstream's.
        """
        return {}

    def inject(self, params: Params, fields: Fields) -> Params:
        """Params carrying *fields* (the global propagator's, for the call's span); never mutate *params*.

        Runs inside botocore right before serialisation. Append one
        :class:`Outcome` per message to ``self.call.outcomes``.
        """
        return params

    def message(self, params: Params) -> Any:
        """What the call sends, for payload capture (``OTEL_SERVERLESS_CAPTURE_PAYLOAD``): the
        message body, or the list of them for a batch; None when it sends no message.

        Runs on the caller's own parameters, before anything is injected.
        """
        return None

    def result_attributes(self, result: Mapping[str, Any]) -> dict[str, AttributeValue]:
        """Attributes from a successful response (message ids, ETags, sequence numbers)."""
        return {}

    def undo_upstream(self, params: Params, fields: Fields) -> Params:
        """Params without what upstream botocore instrumentation injected.

        Called only when upstream is active and :attr:`upstream_injects` is set.
        """
        return params

    def protect(self, params: Params) -> Params:
        """A copy deep enough that upstream botocore instrumentation cannot mutate the caller's objects."""
        return dict(params)


class AnyCall(Extension):
    """Any call no service extension handles: a CLIENT span named ``Service.Operation`` (the
    name upstream botocore instrumentation gives it), nothing injected."""

    propagates = False

    def __init__(self, call: Call, service_id: str) -> None:
        super().__init__(call)
        self.service_id = service_id

    def span_kind(self) -> SpanKind:
        return SpanKind.CLIENT

    def span_name(self) -> str:
        return f"{self.service_id}.{self.call.operation}"


def messaging(system: str, destination: str, operation: str, count: int | None = None) -> dict[str, AttributeValue]:
    """Messaging semantic-convention attributes of a send."""
    attributes: dict[str, AttributeValue] = {
        attr.MESSAGING_SYSTEM: system,
        attr.MESSAGING_DESTINATION_NAME: destination,
        attr.MESSAGING_OPERATION_TYPE: "send",
        attr.MESSAGING_OPERATION_NAME: operation,
    }
    if count is not None:
        attributes[attr.MESSAGING_BATCH_MESSAGE_COUNT] = count
    return attributes


def entries(params: Params, name: str) -> list[Mapping[str, Any]]:
    """The list parameter *name* (batch entries), or [] if absent or malformed."""
    value = params.get(name)
    return list(value) if isinstance(value, (list, tuple)) else []


def bodies(params: Params, single: str, batch: str, field: str) -> Any:
    """The message *single* names, or the *field* of each entry of the list *batch* names."""
    if single in params:
        return params.get(single)
    listed = [entry.get(field) for entry in entries(params, batch) if isinstance(entry, Mapping)]
    return listed or None


def record(call: Call, outcome: Outcome) -> None:
    call.outcomes.append(outcome)
