"""Run one benchmark module in this (fresh) interpreter; print its results as JSON."""

from __future__ import annotations

import importlib
import json
import sys


def main() -> None:
    name, smoke = sys.argv[1], "--smoke" in sys.argv[2:]
    module = importlib.import_module(f"benchmarks.{name}")
    results = module.run(smoke)
    print("\n" + json.dumps(results))


if __name__ == "__main__":
    main()
