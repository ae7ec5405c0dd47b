"""The result record every benchmark returns, and the table that prints them."""

from __future__ import annotations

import math
import platform
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Result = dict[str, Any]


def result(what: str, ours: float, peer: float, unit: str, target: str | None, *, note: str = "") -> Result:
    """One figure: ours and the peer's, measured side by side.

    *target* is ``"<= 0.25"`` or ``">= 1.5"``; None for an informational row (G3, G4 and G7
    since #18), which is reported and neither passes nor fails.
    """
    ratio = ours / peer if peer else math.inf
    return {
        "what": what,
        "ours": ours,
        "peer": peer,
        "unit": unit,
        "ratio": ratio,
        "target": target,
        "pass": None if target is None else meets(ratio, target),
        "note": note,
    }


def unavailable(what: str, target: str, reason: str) -> Result:
    """A benchmark whose subject does not exist (yet): reported, not failed."""
    return {
        "what": what,
        "ours": None,
        "peer": None,
        "unit": "",
        "ratio": None,
        "target": target,
        "pass": None,
        "note": f"not available: {reason}",
    }


def verdict(item: Result) -> str:
    """``pass`` or ``FAIL`` against the target; ``info`` for a figure without one; ``n/a`` without a figure."""
    passed = item.get("pass")
    if passed is None:
        return "n/a" if item.get("ratio") is None else "info"
    return "pass" if passed else "FAIL"


def meets(ratio: float, target: str) -> bool:
    op, _, bound = target.partition(" ")
    value = float(bound)
    return ratio <= value if op == "<=" else ratio >= value


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Iterable[float], fraction: float) -> float:
    """The nearest-rank percentile (p99: fraction 0.99)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def _figure(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def table(results: Mapping[str, Result], *, markdown: bool = False) -> str:
    header = ("id", "what", "ours", "peer", "unit", "ratio", "target", "result")
    rows = []
    for key, item in results.items():
        found = verdict(item)
        ratio = "—" if item.get("ratio") is None else f"{item['ratio']:.3f}×"
        target = (item.get("target") or "—").replace("<=", "≤").replace(">=", "≥") + ("×" if item.get("target") else "")
        rows.append(
            (
                key,
                str(item.get("what", key)),
                _figure(item.get("ours")),
                _figure(item.get("peer")),
                str(item.get("unit", "")),
                ratio,
                target,
                found if not item.get("note") else f"{found} ({item['note']})",
            )
        )
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    widths[1] = min(widths[1], 48)
    lines = ["  ".join(str(cell)[: widths[i]].ljust(widths[i]) for i, cell in enumerate(header))]
    lines.append("  ".join("-" * width for width in widths))
    for row in rows:
        lines.append(
            "  ".join(str(cell)[: widths[i]].ljust(widths[i]) if i < 7 else str(cell) for i, cell in enumerate(row))
        )
    return "\n".join(lines)
