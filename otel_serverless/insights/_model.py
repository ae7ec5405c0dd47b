"""The span as insights sees it: the few fields and attributes its figures read.

Sources (OTLP/JSON files, Jaeger's API) turn their own shapes into :class:`Span`;
only the attributes in :data:`WANTED` are kept, so a span costs little memory while
its trace waits to be complete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from otel_serverless import attributes as attr

# OTLP span kinds (the enum's integers, as OTLP/JSON writes them).
INTERNAL: Final = 1
SERVER: Final = 2
CLIENT: Final = 3
PRODUCER: Final = 4
CONSUMER: Final = 5

#: The head-sampling ratio the process was configured with (``OTEL_TRACES_SAMPLER`` =
#: ``traceidratio`` / ``parentbased_traceidratio``), on the resource or the span.
SAMPLING_RATIO: Final = attr.SAMPLING_RATIO
#: Jaeger keeps a span's W3C tracestate as this tag.
JAEGER_TRACESTATE: Final = "w3c.tracestate"

WANTED: Final = frozenset(
    {
        attr.FAAS_TRIGGER,
        attr.FAAS_COLDSTART,
        attr.INIT_DURATION_MS,
        attr.INIT_TYPE,
        attr.RETRY,
        attr.TIMEOUT,
        attr.TIMEOUT_CONFIGURED_MS,
        attr.HTTP_RESPONSE_STATUS_CODE,
        "http.status_code",
        attr.MEMORY_PEAK_MB,
        attr.MEMORY_LIMIT_MB,
        attr.COST_USD,
        attr.PREVIOUS_KILLED,
        attr.PREVIOUS_REASON,
        attr.ERROR_TYPE,
        attr.HTTP_REQUEST_METHOD,
        "http.method",
        attr.HTTP_ROUTE,
        attr.URL_PATH,
        "http.target",
        "http.url",
        "url.full",
        attr.SCHEDULE_RULE,
        attr.TRIGGER,
        attr.TRIGGER_ORIGIN,
        attr.MESSAGING_SYSTEM,
        attr.MESSAGING_DESTINATION_NAME,
        attr.MESSAGING_OPERATION_TYPE,
        attr.AWS_DYNAMODB_TABLE_NAMES,
        attr.FAAS_DOCUMENT_COLLECTION,
        attr.AWS_S3_BUCKET,
        attr.AWS_STEP_FUNCTIONS_STATE_MACHINE_ARN,
        attr.STEPFUNCTIONS_EXECUTION_ARN,
        attr.FAAS_INVOKED_NAME,
        attr.RPC_SYSTEM,
        attr.RPC_SERVICE,
        attr.SERVER_ADDRESS,
        "net.peer.name",
        attr.AWS_SNS_TOPIC_ARN,
        attr.AWS_KINESIS_STREAM_NAME,
        attr.AWS_SQS_QUEUE_URL,
        attr.EVENTBRIDGE_SOURCE,
        SAMPLING_RATIO,
        JAEGER_TRACESTATE,
    }
)


@dataclass(slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    service: str
    scope: str
    kind: int
    start_ns: int
    end_ns: int
    error: bool
    attributes: dict[str, Any]
    links: list[str] = field(default_factory=list)  # linked span ids
    weight: float = 1.0  # 1 / the sampling probability

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6


_THRESHOLD: Final = re.compile(r"(?:^|;)th:([0-9a-f]{1,14})(?:;|$)")


def weight_of(tracestate: str | None, ratio: Any) -> float:
    """1 / sampling probability, from the tracestate's ``ot=th:`` threshold, else a configured ratio.

    The OpenTelemetry threshold ``th`` is the rejection threshold over 56 bits (trailing zeros
    may be left out): the probability is ``1 - th / 2^56``.
    """
    if tracestate and "ot=" in tracestate:
        for member in tracestate.split(","):
            key, _, value = member.strip().partition("=")
            if key != "ot":
                continue
            found = _THRESHOLD.search(value)
            if found:
                digits = found.group(1).ljust(14, "0")
                probability = 1 - int(digits, 16) / 2**56
                if probability > 0:
                    return 1 / probability
    if isinstance(ratio, int | float) and not isinstance(ratio, bool) and 0 < ratio <= 1:
        return 1 / float(ratio)
    return 1.0
