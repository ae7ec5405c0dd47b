"""Which layer version a function gets: our naming per runtime and architecture, and ARN parsing.

``layer publish`` names a layer ``<prefix>-python3XY-<arch>`` (one zip per Python version
and architecture: the layer carries compiled bytecode and native wheels for exactly
one of each); ``rollout instrument`` looks the newest version of that name up, once
per runtime and architecture, unless ``--layer-arn`` names the versions to use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

DEFAULT_PREFIX: Final = "otel-serverless"
_LAYER_ARN: Final = re.compile(r"^arn:[\w-]+:lambda:[\w-]+:\d{12}:layer:(?P<name>[\w-]+):(?P<version>\d+)$")
_PYTHON_RUNTIME: Final = re.compile(r"^python(?P<major>\d)\.(?P<minor>\d{1,2})$")


def layer_name(prefix: str, python: str, arch: str) -> str:
    """``otel-serverless-python312-x86_64`` for Python ``3.12`` on ``x86_64``."""
    return f"{prefix}-python{python.replace('.', '')}-{arch}"


def python_of(runtime: str | None) -> tuple[int, int] | None:
    """``(3, 12)`` for ``python3.12``; None for any other runtime."""
    match = _PYTHON_RUNTIME.match(runtime or "")
    return (int(match["major"]), int(match["minor"])) if match else None


def name_of(arn: str) -> str | None:
    """The layer name in a layer version ARN; None when *arn* is not one."""
    match = _LAYER_ARN.match(arn)
    return match["name"] if match else None


def split_arn(arn: str) -> tuple[str, int]:
    """(layer ARN without version, version) of a layer version ARN; ValueError otherwise."""
    match = _LAYER_ARN.match(arn)
    if match is None:
        raise ValueError(f"not a layer version ARN: {arn[:200]!r}")
    return arn.rsplit(":", 1)[0], int(match["version"])


@dataclass(frozen=True)
class LayerVersion:
    arn: str
    runtimes: tuple[str, ...]
    architectures: tuple[str, ...]

    def fits(self, runtime: str, arch: str) -> bool:
        # A layer that declares nothing claims to fit everything, as Lambda treats it.
        return (not self.runtimes or runtime in self.runtimes) and (
            not self.architectures or arch in self.architectures
        )


def _version(item: Mapping[str, Any], arn: str) -> LayerVersion:
    return LayerVersion(
        arn=arn,
        runtimes=tuple(item.get("CompatibleRuntimes") or ()),
        architectures=tuple(item.get("CompatibleArchitectures") or ()),
    )


class Resolver:
    """The layer version ARN for a (runtime, architecture), looked up once each (thread-safe)."""

    def __init__(self, client: Any, prefix: str = DEFAULT_PREFIX, explicit: Sequence[str] = ()) -> None:
        self._client = client
        self._prefix = prefix
        self._explicit: list[LayerVersion] | None = None
        self._explicit_arns = tuple(explicit)
        self._found: dict[tuple[str, str], str | LookupError] = {}
        self._lock = threading.Lock()

    def load_explicit(self) -> None:
        """Read the versions named by ``--layer-arn`` (raises ValueError/ClientError if one is wrong)."""
        versions = []
        for arn in self._explicit_arns:
            layer, number = split_arn(arn)
            item = self._client.get_layer_version(LayerName=layer, VersionNumber=number)
            versions.append(_version(item, arn))
        self._explicit = versions

    def resolve(self, runtime: str, arch: str) -> str:
        """The ARN to add to a *runtime* function on *arch*; LookupError (a skip reason) if none fits."""
        with self._lock:
            found = self._found.get((runtime, arch))
            if found is None:
                found = self._lookup(runtime, arch)
                self._found[runtime, arch] = found
        if isinstance(found, LookupError):
            raise found
        return found

    def owns(self, arn: str) -> bool:
        """Whether *arn* is a version of one of our layers (by name)."""
        name = name_of(arn) or ""
        if self._explicit_arns:
            return name in {name_of(explicit) for explicit in self._explicit_arns}
        return name.startswith(self._prefix + "-python")

    def _lookup(self, runtime: str, arch: str) -> str | LookupError:
        if self._explicit_arns:
            if self._explicit is None:
                self.load_explicit()
            for version in self._explicit or ():
                if version.fits(runtime, arch):
                    return version.arn
            return LookupError(f"no --layer-arn fits {runtime} on {arch}")
        python = python_of(runtime)
        if python is None:
            return LookupError(f"runtime {runtime} is not Python")
        name = layer_name(self._prefix, f"{python[0]}.{python[1]}", arch)
        page = self._client.list_layer_versions(LayerName=name, MaxItems=1)
        versions = page.get("LayerVersions") or []
        if not versions:
            return LookupError(
                f"no layer {name} in this region (otel-serverless layer publish --python "
                f"{python[0]}.{python[1]} --arch {arch})"
            )
        newest: str = versions[0]["LayerVersionArn"]
        return newest
