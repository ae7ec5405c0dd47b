"""Reading the report dict defensively and formatting its figures for the HTML view.

The report comes from traces, and a saved ``--json`` file may have been edited: every value is
checked for its type here (a wrong type reads as "unknown", never as an exception), every string
is escaped where it is written, and lists are bounded so a hostile report cannot make a page
that no browser opens.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

# Beyond these a page stops being readable; what is left out is said on the page.
MAX_ROWS = 300
MAX_TEXT = 300


def esc(value: object, limit: int = MAX_TEXT) -> str:
    """``value`` as text safe inside HTML/SVG content and quoted attributes, cut at ``limit`` characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)


def name(value: object) -> str:
    """A name from the report (function, dataflow, node id): any non-string reads as unknown."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return "(unknown)"


def num(value: object) -> float | None:
    """A finite number, or None (bools, strings, NaN and infinities are not figures)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def rows(value: object, limit: int = MAX_ROWS) -> list[Mapping[str, Any]]:
    """The dict items of a list, at most ``limit`` of them (anything else in the list is skipped)."""
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        return []
    found: list[Mapping[str, Any]] = []
    for item in value:
        if isinstance(item, Mapping):
            found.append(item)
            if len(found) >= limit:
                break
    return found


def count_rows(value: object) -> int:
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        return 0
    return sum(1 for item in value if isinstance(item, Mapping))


def parse_time(value: object) -> datetime | None:
    """An ISO-8601 time as an aware UTC datetime (``Z`` accepted on Python 3.10 too), or None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


DASH = "—"


def fmt_int(value: object) -> str:
    number = num(value)
    if number is None:
        return DASH
    if number != int(number):
        # Weighted (sampled) counts are estimates and may be fractional.
        return f"{number:,.1f}"
    return f"{int(number):,}"


def fmt_ms(value: object) -> str:
    number = num(value)
    if number is None:
        return DASH
    magnitude = abs(number)
    if magnitude < 10:
        return f"{number:.1f} ms"
    if magnitude < 1000:
        return f"{number:.0f} ms"
    if magnitude < 60_000:
        return f"{number / 1000:.2f} s"
    if magnitude < 3_600_000:
        return f"{number / 60_000:.1f} min"
    return f"{number / 3_600_000:.1f} h"


def fmt_usd(value: object) -> str:
    number = num(value)
    if number is None:
        return DASH
    if number == 0:
        return "$0"
    magnitude = abs(number)
    if magnitude < 0.01:
        # Per-window Lambda costs are often fractions of a cent: keep three significant digits.
        digits = min(12, 2 - math.floor(math.log10(magnitude)))
        return f"${number:.{digits}f}".rstrip("0")
    if magnitude < 1:
        return f"${number:.3f}"
    return f"${number:,.2f}"


def fmt_ms_short(value: float) -> str:
    """An axis label: ``250 ms``, ``2.5 s``."""
    if value < 1000:
        return f"{value:g} ms"
    return f"{value / 1000:g} s"


def fmt_share(value: object) -> str:
    """A 0–1 share as a percentage; two decimals near 100% where the difference matters."""
    number = num(value)
    if number is None:
        return DASH
    percent = number * 100
    if 99 <= percent < 100:
        return f"{math.floor(percent * 100) / 100:.2f}%"
    return f"{percent:.1f}%"


def fmt_mb(value: object) -> str:
    number = num(value)
    if number is None:
        return DASH
    return f"{number:,.0f} MB"


def fmt_change(value: float) -> str:
    """``0.32`` → ``▲ 32%``; ``-0.05`` → ``▼ 5.0%``; ``0`` → ``= 0%``."""
    percent = value * 100
    if percent == 0:
        return "= 0%"
    arrow = "▲" if percent > 0 else "▼"
    magnitude = abs(percent)
    text = f"{magnitude:.1f}%" if magnitude < 10 else f"{magnitude:,.0f}%"
    return f"{arrow} {text}"


def fmt_time(moment: datetime, with_date: bool, with_seconds: bool = False) -> str:
    """A UTC time; seconds only when the window is short enough for them to tell buckets apart."""
    return moment.strftime(("%Y-%m-%d " if with_date else "") + ("%H:%M:%S" if with_seconds else "%H:%M"))


def fmt_span(seconds: float) -> str:
    """A window length as a person says it: 24 h, 90 min, 7 d."""
    if seconds >= 2 * 86_400 and seconds % 86_400 == 0:
        return f"{seconds / 86_400:.0f} d"
    if seconds >= 3600:
        hours = seconds / 3600
        return f"{hours:.0f} h" if hours == int(hours) else f"{hours:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
