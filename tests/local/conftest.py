"""A started local runtime on the session's moto server (reset for each test)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otel_serverless.local import LocalRuntime

EVENTS = Path(__file__).parent.parent / "events"


def sample(name: str) -> dict[str, Any]:
    """A real Lambda event captured from AWS (tests/events)."""
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


@pytest.fixture
def runtime(aws: str) -> Iterator[LocalRuntime]:
    with LocalRuntime(moto_endpoint=aws, async_retry_delays=(0.05, 0.05), poll_interval=0.02) as started:
        yield started
