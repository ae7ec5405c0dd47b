"""``otel-serverless layer publish``: put a built layer zip into a region, one layer per Python and arch.

The zip is checked first (the exec wrapper and the package are in it) and the Python
version and architecture it was built for are read from its wheels' tags, so a layer
built for 3.11 cannot be published as 3.12 by mistake. A zip identical to the newest
published version (same SHA-256) is not published again: its ARN is printed as is.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import otel_serverless
from otel_serverless.rollout._layers import DEFAULT_PREFIX, layer_name

#: What Lambda accepts inline in PublishLayerVersion; larger zips go through S3.
MAX_INLINE_BYTES: Final = 50 * 1024 * 1024
#: A wheel tag: ``Tag: cp312-cp312-manylinux_2_17_x86_64``; only a ``cpXY`` ABI pins the Python version
#: (``abi3`` and ``none`` wheels serve several), any platform but ``any`` pins the architecture.
_TAG: Final = re.compile(r"^Tag:\s*(?P<interpreter>[\w.]+)-(?P<abi>[\w.]+)-(?P<platform>\S+)$", re.MULTILINE)
_CPYTHON_ABI: Final = re.compile(r"^cp(?P<py>3\d{1,2})m?$")
#: Bytecode ``layer build`` compiled for its target: ``__pycache__/x.cpython-312.pyc``.
_PYC: Final = re.compile(r"/__pycache__/[^/]+\.cpython-(?P<py>3\d{1,2})\.pyc$")
_REQUIRED: Final = ("otel-serverless-handler", "python/otel_serverless/__init__.py")


@dataclass(frozen=True)
class Published:
    arn: str
    version: int
    new: bool


def inspect(path: Path) -> tuple[str | None, str | None]:
    """(Python ``3.12``, arch) the zip's native wheels and bytecode were built for; None where it does not say.

    Raises ValueError when the zip is not a layer built by ``layer build`` or mixes targets.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path}: not a zip file ({error})") from None
    with archive:
        names = set(archive.namelist())
        missing = [name for name in _REQUIRED if name not in names]
        if missing:
            raise ValueError(
                f"{path}: not an otel-serverless layer (no {', '.join(missing)}); build it with layer build"
            )
        pythons: set[str] = set()
        arches: set[str] = set()
        for name in names:
            pyc = _PYC.search(name)
            if pyc is not None:
                pythons.add(f"{pyc['py'][0]}.{pyc['py'][1:]}")
            if name.startswith("python/") and name.endswith(".dist-info/WHEEL"):
                for match in _TAG.finditer(archive.read(name).decode("utf-8", "replace")):
                    abi = _CPYTHON_ABI.match(match["abi"])
                    if abi is not None:
                        pythons.add(f"{abi['py'][0]}.{abi['py'][1:]}")
                    platform = match["platform"]
                    if "x86_64" in platform:
                        arches.add("x86_64")
                    elif "aarch64" in platform:
                        arches.add("arm64")
    if len(pythons) > 1 or len(arches) > 1:
        raise ValueError(f"{path}: mixes targets (Python {sorted(pythons)}, {sorted(arches)})")
    return next(iter(pythons), None), next(iter(arches), None)


def target(path: Path, python: str | None, arch: str | None) -> tuple[str, str]:
    """The Python version and arch to publish *path* for: what it says, checked against what was asked."""
    found_python, found_arch = inspect(path)
    if python and found_python and python != found_python:
        raise ValueError(f"{path} was built for Python {found_python}, not {python}")
    if arch and found_arch and arch != found_arch:
        raise ValueError(f"{path} was built for {found_arch}, not {arch}")
    python, arch = python or found_python, arch or found_arch
    if not python or not arch:
        raise ValueError(f"{path} does not say which Python and architecture it is for: give --python and --arch")
    return python, arch


def publish(
    client: Any,
    path: Path,
    python: str | None = None,
    arch: str | None = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    s3_client: Any = None,
    s3_bucket: str | None = None,
) -> Published:
    """Publish *path* as the next version of ``<prefix>-python3XY-<arch>`` (unless already the newest)."""
    python, arch = target(path, python, arch)
    name = layer_name(prefix, python, arch)
    data = path.read_bytes()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    newest = (client.list_layer_versions(LayerName=name, MaxItems=1).get("LayerVersions") or [None])[0]
    if newest is not None:
        current = client.get_layer_version(LayerName=name, VersionNumber=newest["Version"])
        if current.get("Content", {}).get("CodeSha256") == digest:
            return Published(current["LayerVersionArn"], int(current["Version"]), new=False)
    if s3_bucket:
        key = f"{name}/{digest.replace('/', '_')}.zip"
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=data)
        content: dict[str, Any] = {"S3Bucket": s3_bucket, "S3Key": key}
    elif len(data) > MAX_INLINE_BYTES:
        raise ValueError(f"{path} is {len(data) // 2**20} MiB: over Lambda's 50 MiB inline limit, give --s3-bucket")
    else:
        content = {"ZipFile": data}
    runtime = f"python{python}"
    made = client.publish_layer_version(
        LayerName=name,
        Description=f"otel-serverless {otel_serverless.__version__} for Python {python} on {arch}",
        Content=content,
        CompatibleRuntimes=[runtime],
        CompatibleArchitectures=[arch],
        LicenseInfo="Apache-2.0",
    )
    return Published(made["LayerVersionArn"], int(made["Version"]), new=True)
