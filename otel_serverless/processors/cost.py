"""Cost: billed duration × memory × the price per GB-second of the architecture, plus the request.

Billed duration is the invocation span's duration rounded up to the millisecond
(Lambda's granularity) — plus, on an on-demand cold start, the measured init
duration, which Lambda bills too — and the function's whole timeout when the
watchdog saw it time out. Prices default to us-east-1's first tier and are
configurable (``OTEL_SERVERLESS_PRICE_*``). The figure is an estimate: it ignores
free tiers, volume discounts, Savings Plans, provisioned-concurrency pricing,
ephemeral storage and data transfer.
"""

from __future__ import annotations

import math
import platform
from typing import NamedTuple

from opentelemetry.trace import Span as ApiSpan
from opentelemetry.util.types import AttributeValue

from otel_serverless import _settings
from otel_serverless import attributes as attr
from otel_serverless import environment_variables as env
from otel_serverless._invocation import Invocation
from otel_serverless.processors._stage import ServerlessProcessor


class Prices(NamedTuple):
    """USD per GB-second, by architecture, and per request."""

    x86_64: float = 0.0000166667
    arm64: float = 0.0000133334
    request: float = 0.0000002

    @classmethod
    def from_env(cls) -> Prices:
        default = cls()
        return cls(
            x86_64=_settings.read_float(env.OTEL_SERVERLESS_PRICE_X86_64, default.x86_64, minimum=0),
            arm64=_settings.read_float(env.OTEL_SERVERLESS_PRICE_ARM64, default.arm64, minimum=0),
            request=_settings.read_float(env.OTEL_SERVERLESS_PRICE_REQUEST, default.request, minimum=0),
        )

    def per_gb_second(self, architecture: str) -> float:
        return self.arm64 if architecture == "arm64" else self.x86_64


def architecture() -> str:
    """``arm64`` or ``x86_64``, as Lambda names them."""
    machine = platform.machine().lower()
    return "arm64" if machine in ("aarch64", "arm64") else "x86_64"


def billed_ms(start_time: int, end_time: int, invocation: Invocation) -> int:
    """The milliseconds Lambda bills for an invocation whose span runs from *start_time* to *end_time* (ns)."""
    if invocation.timed_out and invocation.timeout_ms:
        duration = invocation.timeout_ms
    else:
        duration = max(0, end_time - start_time) / 1e6
    cold = invocation.cold
    if cold is not None and cold.init_type == "on-demand" and cold.init_duration_ms is not None:
        duration += cold.init_duration_ms
    return max(1, math.ceil(duration))


class CostProcessor(ServerlessProcessor):
    name = "cost"

    def __init__(self, *, prices: Prices | None = None, arch: str | None = None) -> None:
        self.prices = prices
        self.arch = arch

    def ending(self, span: ApiSpan, invocation: Invocation, end_time: int) -> dict[str, AttributeValue] | None:
        if not invocation.memory_mb:
            return None
        prices = self.prices or _settings.per_process("cost.prices", Prices.from_env)
        arch = self.arch or _settings.per_process("cost.architecture", architecture)
        start_time = getattr(span, "start_time", None)  # the SDK's spans have one; the API's do not say
        billed = billed_ms(start_time if isinstance(start_time, int) else end_time, end_time, invocation)
        gb_seconds = billed / 1000 * invocation.memory_mb / 1024
        compute = gb_seconds * prices.per_gb_second(arch)
        return {
            attr.COST_ARCHITECTURE: arch,
            attr.COST_BILLED_DURATION_MS: billed,
            attr.COST_GB_SECONDS: gb_seconds,
            attr.COST_COMPUTE_USD: compute,
            attr.COST_REQUEST_USD: prices.request,
            attr.COST_USD: compute + prices.request,
        }
