"""Coverage-guided fuzzing of what reads inbound data, on demand (not part of the test command):

    pip install -e '.[fuzz]'
    python fuzz/atheris_inbound.py -atheris_runs=100000

Each input becomes a JSON value (the bytes as JSON when they parse, else a structure built
from them, seeded with real events), then goes through trigger detection, every carrier
getter and the handler wrapper. A raised exception, a call over one second, or a log line
over 1 KB (or repeating an inbound value in full) stops the run with the input that did it.
"""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import sys
from pathlib import Path
from typing import Any

import atheris  # type: ignore[import-not-found]

with atheris.instrument_imports():
    import otel_serverless.propagation
    from otel_serverless.aws_lambda import traced, triggers
    from otel_serverless.aws_lambda.triggers import detect

    # Detectors and getters load lazily; load them here, so that they are instrumented too.
    assert triggers.REGISTRY
    for found in pkgutil.iter_modules(otel_serverless.propagation.__path__):
        importlib.import_module(f"otel_serverless.propagation.{found.name}")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.fuzz.strategies import KEYS, MARKER, MAX_LOG_CHARS, TEXTS, Context, getters, samples, timed

GETTERS = getters()

SAMPLES = list(samples().values())


class _Check(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        if len(line) > MAX_LOG_CHARS or MARKER in line:
            raise AssertionError(f"log line of {len(line)} characters: {line[:200]!r}")


logging.getLogger("otel_serverless").addHandler(_Check())


def _value(data: atheris.FuzzedDataProvider, depth: int = 0) -> Any:  # noqa: PLR0911  # one return per kind of value
    kind = data.ConsumeIntInRange(0, 9 if depth < 4 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return data.ConsumeBool()
    if kind == 2:
        return data.ConsumeInt(8)
    if kind == 3:
        return data.PickValueInList(TEXTS)
    if kind == 4:
        return data.ConsumeUnicodeNoSurrogates(data.ConsumeIntInRange(0, 64))
    if kind == 5:
        return [data.ConsumeIntInRange(-5, 300) for _ in range(data.ConsumeIntInRange(0, 8))]
    if kind == 6:
        return [_value(data, depth + 1) for _ in range(data.ConsumeIntInRange(0, 4))]
    if kind == 7:
        return json.dumps(_value(data, depth + 1), default=str)
    if kind == 8:
        picked = data.PickValueInList(SAMPLES)
        if not isinstance(picked, dict) or not picked:
            return picked
        sample = dict(picked)
        sample[data.PickValueInList(list(sample))] = _value(data, depth + 1)
        return sample
    return {data.PickValueInList(KEYS): _value(data, depth + 1) for _ in range(data.ConsumeIntInRange(0, 5))}


@traced
def _handler(event: Any, context: Any) -> str:
    return "ok"


def test_one_input(raw: bytes) -> None:
    try:
        event: Any = json.loads(raw)
    except (ValueError, RecursionError):
        event = _value(atheris.FuzzedDataProvider(raw))
    timed(lambda: detect(event, Context()))
    for getter in GETTERS:
        timed(lambda getter=getter: getter(event))
    if timed(lambda: _handler(event, Context())) != "ok":
        raise AssertionError("the handler's result did not pass through")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
