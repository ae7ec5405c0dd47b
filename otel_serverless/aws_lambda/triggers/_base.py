"""What a trigger module answers: the :class:`Trigger` of one invocation.

A trigger module reads one event shape. It never raises on a malformed event
(the registry guards it anyway) and never keeps the caller's objects beyond
what it was given: attribute values are copied scalars, bounded in size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr

#: ``faas.trigger`` values (OpenTelemetry FaaS conventions).
HTTP: Final = "http"
PUBSUB: Final = "pubsub"
DATASOURCE: Final = "datasource"
TIMER: Final = "timer"
OTHER: Final = "other"

#: Longest string copied from an event into an attribute.
MAX_VALUE_CHARS: Final = 1024

Attributes = dict[str, AttributeValue]


class Record:
    """One message of a batch (or the one message of a single-message trigger).

    Records and triggers are plain classes rather than dataclasses: building a dataclass's
    methods at import is paid on every cold start, and neither is compared or printed.
    """

    __slots__ = (
        "attempt",
        "attributes",
        "index",
        "item_id",
        "links",
        "message_id",
        "parent",
        "redelivered",
        "sequence_key",
        "source",
    )

    def __init__(
        self,
        index: int,
        source: object,
        *,
        message_id: str | None = None,
        parent: Context | None = None,
        item_id: str | None = None,
        sequence_key: str | None = None,
        attempt: int | None = None,
        attributes: Attributes | None = None,
        links: list[Link] | None = None,
    ) -> None:
        self.index = index
        #: The record dict as delivered (a reference for matching, never modified).
        self.source = source
        self.message_id = message_id
        #: The producer's context, or None when the record carries none (or a bad one).
        self.parent = parent
        #: What ``batchItemFailures[].itemIdentifier`` names this record by.
        self.item_id = item_id
        #: Identity of the delivery, to tell a redelivered stream record (source ARN + sequence).
        self.sequence_key = sequence_key
        #: Delivery attempt known from the event itself (SQS ``ApproximateReceiveCount``).
        self.attempt = attempt
        #: Attributes of this record's processing span (and of its link).
        self.attributes: Attributes = {} if attributes is None else attributes
        #: Deterministic links derived from what the producer recorded (S3 object, DynamoDB item).
        self.links: list[Link] = [] if links is None else links
        #: Times this stream record was delivered before in this environment (set by the wrapper).
        self.redelivered = 0


class Trigger:
    """What started this invocation, and how its span relates to the producers."""

    __slots__ = (
        "attempt",
        "attributes",
        "batch",
        "destination",
        "faas_trigger",
        "http",
        "kind",
        "links",
        "name",
        "origin",
        "parent",
        "records",
    )

    def __init__(
        self,
        name: str,
        faas_trigger: str,
        *,
        kind: SpanKind = SpanKind.SERVER,
        attributes: Attributes | None = None,
        parent: Context | None = None,
        records: list[Record] | None = None,
        batch: bool = False,
        http: bool = False,
        attempt: int | None = None,
        origin: str | None = None,
        destination: str | None = None,
        links: list[Link] | None = None,
    ) -> None:
        #: Our name for the delivering shape: ``sqs``, ``api_gateway_http``, ``fallback`` …
        self.name = name
        #: ``faas.trigger`` value.
        self.faas_trigger = faas_trigger
        self.kind = kind
        self.attributes: Attributes = {} if attributes is None else attributes
        #: The producer's context for a single-message trigger.
        self.parent = parent
        self.records: list[Record] = [] if records is None else records
        #: True for batch triggers (SQS, Kinesis, DynamoDB): producers are links, never the parent.
        self.batch = batch
        #: True for HTTP triggers: a 5xx response is an error, the untrusted-inbound setting applies.
        self.http = http
        #: Delivery attempt known from the event (SQS receive count, Step Functions retry count).
        self.attempt = attempt
        #: The service that first produced the message when another one delivered it (SNS→SQS …).
        self.origin = origin
        #: Messaging destination, for per-record span names.
        self.destination = destination
        #: Links that are not a record's producer (S3 via EventBridge, a deterministic link …).
        self.links: list[Link] = [] if links is None else links
        self.attributes.setdefault(attr.FAAS_TRIGGER, faas_trigger)
        self.attributes.setdefault(attr.TRIGGER, name)
        if origin:
            self.attributes.setdefault(attr.TRIGGER_ORIGIN, origin)


class Detector(Protocol):
    """A trigger module: the Trigger for *event*, or None if the shape is not its own."""

    def __call__(self, event: Any, context: Any) -> Trigger | None: ...


# -- safe readers over untrusted JSON ------------------------------------------------


def text(container: object, key: str, limit: int = MAX_VALUE_CHARS) -> str | None:
    """``container[key]`` if it is a non-empty string (cut to *limit*), else None."""
    if type(container) is not dict and not isinstance(container, Mapping):  # a dict: no ABC check
        return None
    value = container.get(key)
    if not isinstance(value, str) or not value:
        return None
    return value[:limit]


def mapping(container: object, key: str) -> Mapping[str, Any] | None:
    if type(container) is not dict and not isinstance(container, Mapping):  # a dict: no ABC check
        return None
    value = container.get(key)
    if type(value) is dict:
        return value
    return value if value is not None and isinstance(value, Mapping) else None  # None: no ABC check either


def sequence(container: object, key: str) -> Sequence[Any] | None:
    if type(container) is not dict and not isinstance(container, Mapping):  # a dict: no ABC check
        return None
    value = container.get(key)
    return value if isinstance(value, list) else None


def number(container: object, key: str) -> int | None:
    """An integer field that AWS sends as a number or a numeric string."""
    if type(container) is not dict and not isinstance(container, Mapping):  # a dict: no ABC check
        return None
    value = container.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def arn_resource(arn: str | None) -> str | None:
    """The last part of an ARN (a queue, topic, function or stream name)."""
    if not arn:
        return None
    tail = arn.rsplit(":", 1)[-1]
    return tail.rsplit("/", 1)[-1] or None


def records(event: object, source_key: str, source: str) -> list[Mapping[str, Any]] | None:
    """The event's ``Records`` if the first well-formed one comes from *source*; else None.

    Non-dict entries are skipped, so a malformed record cannot hide the well-formed ones.
    """
    found = sequence(event, "Records")
    if not found:
        return None
    good = [record for record in found if isinstance(record, Mapping)]
    if not good or good[0].get(source_key) != source:
        return None
    return good


def on_function_url(request: object) -> bool:
    """Whether a ``requestContext`` names a Lambda Function URL's domain (``*.lambda-url.<region>.on.aws``)."""
    return ".lambda-url." in (text(request, "domainName") or "")


def put(attributes: Attributes, key: str, value: AttributeValue | None) -> None:
    if value is not None:
        attributes[key] = value


def batch_attributes(system: str, count: int, destination: str | None) -> Attributes:
    """A batch invocation's messaging attributes (``process`` of *count* messages from *destination*)."""
    attributes: Attributes = {
        attr.MESSAGING_SYSTEM: system,
        attr.MESSAGING_OPERATION_TYPE: "process",
        attr.MESSAGING_OPERATION_NAME: "process",
        attr.MESSAGING_BATCH_MESSAGE_COUNT: count,
    }
    put(attributes, attr.MESSAGING_DESTINATION_NAME, destination)
    return attributes


def message_attributes(system: str, message_id: str | None, destination: str | None) -> Attributes:
    """One message's attributes, on its processing span and its link."""
    attributes: Attributes = {attr.MESSAGING_SYSTEM: system}
    put(attributes, attr.MESSAGING_MESSAGE_ID, message_id)
    put(attributes, attr.MESSAGING_DESTINATION_NAME, destination)
    return attributes
