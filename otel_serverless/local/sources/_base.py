"""What every event source is, and what it may ask of the runtime."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from otel_serverless.local._functions import FunctionPool, InvocationResult


class Host(Protocol):
    """The runtime, as event sources see it."""

    region: str
    account_id: str

    def client(self, service: str) -> Any:
        """A boto3 client for *service* pointed at the local endpoints."""
        ...

    def pool(self, function: str) -> FunctionPool:
        """The named function (``KeyError`` if unknown)."""
        ...

    def invoke(self, pool: FunctionPool, event: Any, *, source: str, attempt: int, wait: float) -> InvocationResult:
        """Run one synchronous invocation, as an event source mapping does, and record it."""
        ...

    def invoke_async(self, pool: FunctionPool, event: Any, *, source: str) -> str:
        """Queue an asynchronous invocation (with Lambda's retries), as a service push does."""
        ...

    def background(self, job: Callable[[], None], name: str) -> None:
        """Run *job* in a thread the runtime waits for before it is idle."""
        ...


class EventSource(Protocol):
    """A poller the runtime pumps: it reads its source and starts invocations."""

    description: str

    def poll(self) -> int:
        """Start invocations for whatever is ready now; how many were started."""
        ...

    def pending(self) -> bool:
        """Work that is not ready yet but will be: invisible messages, a batch being
        collected, a failed batch waiting for its retry."""
        ...
