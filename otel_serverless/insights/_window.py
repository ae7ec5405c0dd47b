"""The report's time window: ``--since 24h`` or ``--start T --end T``."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SINCE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
DEFAULT_SINCE: Final = "24h"


@dataclass(frozen=True)
class Window:
    start_ns: int
    end_ns: int

    @property
    def previous(self) -> Window:
        length = self.end_ns - self.start_ns
        return Window(self.start_ns - length, self.start_ns)


def duration_ns(text: str) -> int:
    found = _SINCE.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a duration such as 90m, 24h or 7d")
    seconds = float(found.group(1)) * _UNITS[found.group(2)]
    if seconds <= 0:
        raise ValueError(f"{text!r}: the window must be longer than zero")
    return int(seconds * 1e9)


def instant_ns(text: str) -> int:
    """ISO-8601 (``2026-12-07T08:00:00Z``; without a zone: UTC) or Unix seconds."""
    stripped = text.strip()
    try:
        return int(float(stripped) * 1e9)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(stripped.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a time such as 2026-12-07T08:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1e9)


def choose(since: str | None, start: str | None, end: str | None, now_ns: int | None = None) -> Window:
    """The window the options name; ValueError with a one-line reason when they do not make one."""
    now = time.time_ns() if now_ns is None else now_ns
    if since is not None and (start is not None or end is not None):
        raise ValueError("give --since or --start/--end, not both")
    if start is None and end is None:
        return Window(now - duration_ns(since or DEFAULT_SINCE), now)
    end_ns = instant_ns(end) if end is not None else now
    start_ns = instant_ns(start) if start is not None else end_ns - duration_ns(DEFAULT_SINCE)
    if start_ns >= end_ns:
        raise ValueError("--start must be before --end")
    return Window(start_ns, end_ns)
