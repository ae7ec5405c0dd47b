"""Stream event source mappings (Kinesis, DynamoDB Streams): one poller per shard, in order.

As Lambda does for streams: each shard is read with a shard iterator, in
sequence order, one batch in flight per shard. A failed batch (error, timeout,
or — with ``report_batch_item_failures`` — a ``batchItemFailures`` entry) is
retried before the shard moves on: from the lowest failed sequence number for a
partial failure, the whole batch otherwise. ``max_retry_attempts`` bounds the
retries (``-1``: until it succeeds, AWS's default); then the batch is skipped.
A throttled batch is retried without counting.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from otel_serverless.local._functions import FunctionPool
from otel_serverless.local.sources._base import Host
from otel_serverless.local.sources._batch_response import failed_identifiers

logger = logging.getLogger("otel_serverless.local")

STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")


class ShardReader(Protocol):
    """How one kind of stream is read and turned into Lambda records."""

    def shards(self) -> list[str]: ...

    def iterator(self, shard: str, position: str) -> str: ...

    def read(self, shard: str, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Lambda records and the next iterator (None when the shard is closed)."""
        ...

    @staticmethod
    def sequence_number(record: Mapping[str, Any]) -> str: ...


@dataclass
class _Shard:
    iterator: str | None
    in_flight: bool = False
    retry: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0


class StreamEventSource:
    """One stream → Lambda event source mapping."""

    def __init__(
        self,
        host: Host,
        pool: FunctionPool,
        reader: ShardReader,
        *,
        source: str,
        description: str,
        batch_size: int = 100,
        starting_position: str = "TRIM_HORIZON",
        max_retry_attempts: int = -1,
        report_batch_item_failures: bool = False,
    ) -> None:
        if not 1 <= batch_size <= 10000:
            raise ValueError("batch size must be 1–10000")
        if starting_position not in STARTING_POSITIONS:
            raise ValueError(f"starting position must be one of {', '.join(STARTING_POSITIONS)}")
        if not -1 <= max_retry_attempts <= 10000:
            raise ValueError("max retry attempts must be -1 (forever) to 10000")
        self._host = host
        self._pool = pool
        self._reader = reader
        self._source = source
        self._batch_size = batch_size
        self._max_retry_attempts = max_retry_attempts
        self._report_failures = report_batch_item_failures
        self._lock = threading.Lock()
        # Iterators are taken now, so LATEST means "records written after the mapping was created".
        self._shards = {shard: _Shard(reader.iterator(shard, starting_position)) for shard in reader.shards()}
        self.description = description
        #: Batches given up after their retries (a test seam and a demo figure).
        self.discarded_batches = 0

    def poll(self) -> int:
        started = 0
        for shard_id, shard in self._shards.items():
            with self._lock:
                if shard.in_flight:
                    continue
            if not self._pool.has_capacity():
                break
            batch = shard.retry
            if not batch:
                if shard.iterator is None:
                    continue
                batch, shard.iterator = self._reader.read(shard_id, shard.iterator, self._batch_size)
                shard.attempts = 0
            if not batch:
                continue
            with self._lock:
                shard.in_flight = True
                shard.retry = batch
            self._host.background(
                functools.partial(self._invoke, shard, batch), f"{self._source}:{self._pool.config.name}"
            )
            started += 1
        return started

    def pending(self) -> bool:
        with self._lock:
            return any(shard.in_flight or shard.retry for shard in self._shards.values())

    def _invoke(self, shard: _Shard, batch: list[dict[str, Any]]) -> None:
        remaining: list[dict[str, Any]] = batch
        try:
            result = self._host.invoke(
                self._pool, {"Records": batch}, source=self._source, attempt=shard.attempts + 1, wait=0.0
            )
            if result.throttled:
                return  # retried as is, not counted
            if result.ok and not self._report_failures:
                remaining = []
            elif result.ok:
                positions = {self._reader.sequence_number(record): i for i, record in enumerate(batch)}
                failed = failed_identifiers(result.value(), positions)
                # Lambda checkpoints before the lowest failed record and retries from there.
                remaining = (
                    batch if failed is None else batch[min((positions[f] for f in failed), default=len(batch)) :]
                )
            if remaining:
                shard.attempts += 1
                if 0 <= self._max_retry_attempts < shard.attempts:
                    logger.info("%s: batch discarded after %d attempts", self.description, shard.attempts)
                    self.discarded_batches += 1
                    remaining = []
        finally:
            with self._lock:
                shard.retry = remaining
                shard.in_flight = False
