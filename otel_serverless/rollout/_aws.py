"""The Lambda client rollout uses: botocore's adaptive retries, and a count of what it sent.

Throttling (``TooManyRequestsException``) is retried by botocore's *adaptive* mode:
exponential backoff with jitter per call, and a client-side token bucket that slows
the whole client down when Lambda pushes back, so many workers do not make a storm
of retries. When a call still fails after ``max_attempts`` the error reaches the
runner, which reports that function as failed with the reason (never dropped).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

THROTTLED = frozenset({"TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded"})


class Calls:
    """API operations made and HTTP attempts sent (retries included), per operation (thread-safe)."""

    def __init__(self) -> None:
        self.operations: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _operation(self, model: Any = None, **_: Any) -> None:
        with self._lock:
            self.operations[model.name] += 1

    def _attempt(self, event_name: str = "", **_: Any) -> None:
        # Emitted once per HTTP attempt as before-send.lambda.<Operation>.
        with self._lock:
            self.attempts[event_name.rsplit(".", 1)[-1]] += 1

    @property
    def total(self) -> int:
        return sum(self.operations.values())

    @property
    def retries(self) -> int:
        return sum(self.attempts.values()) - self.total


def client(region: str | None, max_attempts: int, calls: Calls, max_workers: int = 10) -> Any:
    """A botocore Lambda client for *region* (endpoint and credentials from the usual places)."""
    import botocore.session
    from botocore.config import Config

    session = botocore.session.get_session()
    config = Config(
        retries={"mode": "adaptive", "total_max_attempts": max_attempts},
        max_pool_connections=max(10, max_workers),
        user_agent_extra="otel-serverless-rollout",
    )
    lambda_client = session.create_client("lambda", region_name=region, config=config)
    lambda_client.meta.events.register("before-call.lambda", calls._operation)
    lambda_client.meta.events.register("before-send.lambda", calls._attempt)
    return lambda_client


def error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "")) or type(error).__name__
    return type(error).__name__


def describe(error: BaseException) -> str:
    """A one-line reason for a failed call (bounded: messages can echo input)."""
    code = error_code(error)
    response = getattr(error, "response", None)
    attempts = response.get("ResponseMetadata", {}).get("RetryAttempts") if isinstance(response, dict) else None
    if code in THROTTLED:
        tries = f" after {attempts + 1} attempts" if isinstance(attempts, int) else ""
        return f"throttled: {code}{tries}; run again to finish"
    if code == "ResourceConflictException":
        return "an update of the function is in progress; run again when it is done"
    if code == "PreconditionFailedException":
        return "the function changed while this ran (its revision moved on); run again"
    message = str(response.get("Error", {}).get("Message", "")) if isinstance(response, dict) else str(error)
    return f"{code}: {message[:160]}" if message else code
