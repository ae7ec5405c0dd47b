"""The OpenTelemetry ranges in pyproject.toml are what scripts/sdk-matrix tests.

The lowest end pins each package at its range's lower bound; a range without an upper
bound would let users get an SDK no test ever ran on, while otel-serverless reads some
SDK internals.
"""

from __future__ import annotations

from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]


def _requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    listed = list(project["dependencies"])
    for extra in ("instrumentations", "grpc"):
        listed += project["optional-dependencies"][extra]
    return [Requirement(text) for text in listed]


def _pins() -> dict[str, Version]:
    pins = {}
    for raw in (REPO / "constraints" / "sdk-lowest.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip()] = Version(version.strip())
    return pins


def test_every_opentelemetry_range_has_its_lower_bound_pinned_in_the_lowest_end_and_an_upper_bound() -> None:
    pins = _pins()
    checked = 0
    for requirement in _requirements():
        if not requirement.name.startswith("opentelemetry-"):
            continue
        lower = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        upper = [s for s in requirement.specifier if s.operator == "<"]
        assert lower and upper, f"{requirement}: give both bounds"
        assert pins.get(requirement.name) == lower[0], f"{requirement.name}: pin {lower[0]} in the lowest end"
        assert requirement.specifier.contains(pins[requirement.name], prereleases=True)
        checked += 1
    assert checked >= 10
