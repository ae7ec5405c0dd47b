"""Which functions a rollout touches: ``--function``, ``--all``, ``--tag``, ``--name-glob``, ``--runtime``.

``--function`` names functions (names or ARNs) and reads each one; otherwise every
function of the region is listed, page by page (``ListFunctions`` returns at most 50 a
page). ``--name-glob`` and ``--runtime`` match any of their values, ``--tag`` all of
its pairs; a tag filter costs one ``ListTags`` per function, so it is checked after
the others.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Selector:
    functions: Sequence[str] = ()
    all: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    name_globs: Sequence[str] = ()
    runtimes: Sequence[str] = ()

    def check(self) -> None:
        """Raise ValueError saying what is wrong with the filters as given."""
        if self.functions and self.all:
            raise ValueError("--function and --all exclude each other")
        if not (self.functions or self.all or self.tags or self.name_globs or self.runtimes):
            raise ValueError("choose the functions: --function NAME, --all, --tag K=V, --name-glob or --runtime")

    @property
    def needs_tags(self) -> bool:
        return bool(self.tags)

    def matches(self, config: Mapping[str, Any]) -> bool:
        name = str(config.get("FunctionName", ""))
        if self.name_globs and not any(fnmatch.fnmatchcase(name, glob) for glob in self.name_globs):
            return False
        return not self.runtimes or config.get("Runtime") in self.runtimes

    def matches_tags(self, tags: Mapping[str, str]) -> bool:
        return all(tags.get(key) == value for key, value in self.tags.items())

    def candidates(self, client: Any) -> Iterator[Mapping[str, Any] | str]:
        """Configurations of listed functions that pass the filters; names for ``--function`` (read later)."""
        if self.functions:
            yield from dict.fromkeys(self.functions)
            return
        for page in client.get_paginator("list_functions").paginate():
            for config in page.get("Functions") or ():
                if self.matches(config):
                    yield config


def parse_pairs(values: Sequence[str], option: str) -> dict[str, str]:
    """``K=V`` strings as a dict; ValueError naming *option* for one without ``=`` or key."""
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise ValueError(f"{option} takes KEY=VALUE, not {value[:80]!r}")
        pairs[key] = rest
    return pairs
