"""The insight sentences a person reads first, each with its threshold.

=============  ===========================================================================
kind           when
=============  ===========================================================================
timeout        a function timed out at least once in the window
errors_rose    its errors rose by 10 % or more against the previous window (which had some)
errors         it failed (other than by timing out) and its errors did not rise (or no base)
near_memory    its peak memory is over 90 % of its memory size
near_timeout   its p99 duration is over 80 % of its timeout, and it never timed out
retries        it was retried at least once
cold_starts    over 25 % of at least 10 invocations started cold
=============  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

NEAR_TIMEOUT: Final = 0.8
NEAR_MEMORY: Final = 0.9
ERRORS_ROSE: Final = 0.10
COLD_SHARE: Final = 0.25
COLD_MIN_INVOCATIONS: Final = 10

_ORDER: Final = ("timeout", "errors_rose", "errors", "near_memory", "near_timeout", "retries", "cold_starts")


def _times(count: float) -> str:
    if count == 1:
        return "once"
    if count == 2:
        return "twice"
    return f"{_count(count)} times"


def _count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _seconds(ms: float) -> str:
    return f"{ms / 1000:g} s"


def sentences(
    functions: Sequence[Mapping[str, Any]], previous: Mapping[str, Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """One ``{kind, function, message}`` per finding, the most severe kinds first."""
    found: list[dict[str, Any]] = []
    for function in functions:
        found.extend(_about(function, None if previous is None else previous.get(function["name"])))
    return sorted(found, key=lambda item: _ORDER.index(item["kind"]))


def _about(f: Mapping[str, Any], before: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    name = f["name"]
    out: list[dict[str, Any]] = []

    def say(kind: str, message: str) -> None:
        out.append({"kind": kind, "function": name, "message": message})

    timeout_ms = f.get("timeout_ms")
    if f["timeouts"] > 0:
        configured = f" ({_seconds(timeout_ms)} configured)" if timeout_ms else ""
        say("timeout", f"Function `{name}` timed out {_times(f['timeouts'])}{configured}")
    errors = f["errors"]
    earlier = before["errors"] if before else 0
    if earlier > 0 and errors >= earlier * (1 + ERRORS_ROSE) - 1e-9:
        say("errors_rose", f"`{name}` errors rose {round((errors - earlier) / earlier * 100)}%")
    elif errors - f["timeouts"] > 0:
        failed = errors - f["timeouts"]
        share = failed / f["invocations"] if f["invocations"] else 0
        say("errors", f"Function `{name}` failed {_times(failed)} ({share:.0%} of its invocations)")
    peak, limit = f.get("max_memory_mb"), f.get("memory_limit_mb")
    if peak is not None and limit and peak > NEAR_MEMORY * limit:
        where = "over" if peak > limit else "close to"
        say("near_memory", f"Function `{name}` is {where} its memory limit ({peak:.0f} MB used of {limit:.0f} MB)")
    p99 = f.get("p99_ms")
    if p99 is not None and timeout_ms and f["timeouts"] == 0 and p99 > NEAR_TIMEOUT * timeout_ms:
        say(
            "near_timeout",
            f"Function `{name}` is close to its timeout ({p99 / 1000:.1f} s used of {_seconds(timeout_ms)})",
        )
    if f["retries"] > 0:
        say("retries", f"`{name}` was retried {_times(f['retries'])}")
    invocations = f["invocations"]
    if invocations >= COLD_MIN_INVOCATIONS and f["cold_starts"] / invocations > COLD_SHARE:
        say(
            "cold_starts",
            f"Function `{name}` started cold in {f['cold_starts'] / invocations:.0%} of its invocations",
        )
    return out
