"""Percentiles in bounded memory: exact while small, then a log-bucket sketch (DDSketch-like).

Up to :data:`EXACT_LIMIT` weighted values are kept as they are, so small windows (and the
tests' constructed traces) get exact nearest-rank percentiles. Past that, values move into
logarithmic buckets: bucket ``i`` holds values in ``(γ^(i-1), γ^i]`` with
``γ = (1 + α) / (1 - α)``, and a bucket answers with ``2γ^i / (γ + 1)``, within a relative
error ``α`` (1 %) of any value in it. Sketches merge by adding bucket weights, and the
number of buckets grows with the logarithm of the value range, not with the count.
"""

from __future__ import annotations

import math
from typing import Final

#: Relative accuracy of a percentile once values are bucketed.
ALPHA: Final = 0.01
GAMMA: Final = (1 + ALPHA) / (1 - ALPHA)
_LOG_GAMMA: Final = math.log(GAMMA)
#: Values kept exactly before the sketch switches to buckets.
EXACT_LIMIT: Final = 512
#: Values at or below this (ms) share one bucket: a zero-length span is not a number to resolve.
MIN_VALUE: Final = 1e-3


class Sketch:
    """Weighted values → nearest-rank percentiles; bounded memory, mergeable."""

    __slots__ = ("_buckets", "_exact", "count", "total")

    def __init__(self) -> None:
        self._exact: list[tuple[float, float]] | None = []
        self._buckets: dict[int, float] = {}
        self.count = 0.0  # total weight
        self.total = 0.0  # weighted sum of values

    def add(self, value: float, weight: float = 1.0) -> None:
        if not 0.0 <= value < math.inf or weight <= 0:  # negative, infinite or NaN
            if value < 0:
                self.add(0.0, weight)
            return
        self.count += weight
        self.total += value * weight
        exact = self._exact
        if exact is not None:
            exact.append((value, weight))
            if len(exact) > EXACT_LIMIT:
                self._to_buckets()
        else:
            self._bucket(value, weight)

    def merge(self, other: Sketch) -> None:
        self.count += other.count
        self.total += other.total
        if other._exact is not None:
            for value, weight in other._exact:
                if self._exact is not None:
                    self._exact.append((value, weight))
                else:
                    self._bucket(value, weight)
            if self._exact is not None and len(self._exact) > EXACT_LIMIT:
                self._to_buckets()
            return
        if self._exact is not None:
            self._to_buckets()
        for index, weight in other._buckets.items():
            self._buckets[index] = self._buckets.get(index, 0.0) + weight

    def quantile(self, q: float) -> float | None:
        """The smallest value whose cumulative weight reaches ``q`` of the total (None if empty)."""
        if self.count <= 0:
            return None
        rank = max(q, 0.0) * self.count
        seen = 0.0
        if self._exact is not None:
            ordered = sorted(self._exact)
            for value, weight in ordered:
                seen += weight
                if seen >= rank - 1e-9:
                    return value
            return ordered[-1][0]
        last = 0
        for index in sorted(self._buckets):
            last = index
            seen += self._buckets[index]
            if seen >= rank - 1e-9:
                break
        return _value_of(last)

    def _bucket(self, value: float, weight: float) -> None:
        index = _index_of(value)
        self._buckets[index] = self._buckets.get(index, 0.0) + weight

    def _to_buckets(self) -> None:
        exact = self._exact or []
        self._exact = None
        for value, weight in exact:
            self._bucket(value, weight)


def _index_of(value: float) -> int:
    if value <= MIN_VALUE:
        return -(2**31)
    return math.ceil(math.log(value) / _LOG_GAMMA)


def _value_of(index: int) -> float:
    if index == -(2**31):
        return 0.0
    return 2 * GAMMA**index / (GAMMA + 1)
