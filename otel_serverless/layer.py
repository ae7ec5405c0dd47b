"""Build a Lambda layer zip: ``otel-serverless layer build [--python 3.12] [--arch x86_64|arm64] [--with-grpc]``.

Layout (Lambda extracts a layer into ``/opt``)::

    otel-serverless-handler     the exec wrapper: AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-serverless-handler
    python/                     on the runtime's sys.path (/opt/python)
      otel_serverless/          this package (its development tools, demo/ local/ insights/ rollout/, left out)
      otel_serverless-<v>.dist-info/  its metadata and entry points (distro, configurator)
      opentelemetry/ … google/protobuf/ …   its dependencies, for that runtime and architecture

The layer holds what the default configuration runs, OTLP/HTTP with our own exporter,
and leaves out two stacks only other settings use: gRPC (grpcio and the gRPC exporter,
more than half of a layer with them: 19.1 of 30.9 MB unpacked, Python 3.11 on x86_64),
and the SDK's OTLP/HTTP exporter with requests and the protobuf runtime (our exporter
encodes OTLP itself). ``with_grpc=True`` (``--with-grpc``) adds the ``grpc`` extra for
``OTEL_EXPORTER_OTLP_PROTOCOL=grpc``, ``with_sdk_exporter=True`` (``--with-sdk-exporter``)
the SDK's exporter for ``OTEL_SERVERLESS_EXPORTER=sdk``; a setting whose stack is not in
the layer warns once, naming what to add, and exports with our OTLP/HTTP exporter.

Dependencies are fetched by pip as binary wheels for the target (``--platform
manylinux2014_<arch> --python-version <x.y> --implementation cp --only-binary=:all:``),
so a layer for arm64 / Python 3.12 can be built on any machine. ``botocore`` and
``boto3`` (and their own dependencies) are left out: the Lambda Python runtime
ships them, and a second copy in the layer would shadow the runtime's, grow the
layer and slow the cold start. ``from_environment=True`` copies the installed
distributions instead (offline; only for the local Python version and architecture).

Bytecode: the runtime cannot write ``__pycache__`` under the read-only ``/opt``, so a
layer without ``.pyc`` files compiles every module it imports on every cold start.
When the target Python is the build interpreter's own version, ``python/`` is compiled
with :mod:`compileall` into ``__pycache__/*.cpython-3XY.pyc`` using *unchecked-hash*
invalidation: a layer's files never change after it is built, and Lambda extracts them
with the zip's fixed timestamps, so timestamp checks are meaningless and a checked hash
would read and hash every source file on each import for nothing. Measured on the
extracted layer (``import boto3`` excluded; import + configure + instrument, median of 41
fresh ``python -S`` processes, read-only bytecode): no .pyc 69.7 ms, checked hash
24.2 ms, unchecked hash 23.7 ms. Bytecode is specific to one
interpreter version, so for another target version the layer is built without any
``.pyc`` (the build says so on stderr) and modules are compiled in memory at import time.
Any ``.pyc`` that arrived with a dependency is removed first, so the zip never holds
bytecode of another interpreter.
"""

from __future__ import annotations

import compileall
import os
import platform
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Final

from packaging.markers import default_environment
from packaging.requirements import Requirement

import otel_serverless

ARCHITECTURES: Final = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
#: Shipped by the Lambda runtime: never in the layer.
RUNTIME_PROVIDED: Final = frozenset(
    {"botocore", "boto3", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)
WRAPPER_NAME: Final = "otel-serverless-handler"
#: Development tools of this package, never run in a function: not in the layer.
DEVELOPMENT_ONLY: Final = frozenset({"demo", "local", "insights", "rollout", "cli.py"})
DISTRIBUTION: Final = "otel-serverless"
_PYTHON: Final = re.compile(r"^3\.\d{1,2}$")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


#: The extra that adds OTLP/gRPC export.
GRPC_EXTRA: Final = "grpc"
#: Always in the layer: the HTTP client instrumentations (each loads only when the function calls out).
INSTRUMENTATIONS_EXTRA: Final = "instrumentations"


def requirements(extras: frozenset[str] = frozenset()) -> list[Requirement]:
    """This package's runtime requirements (and those of *extras*), minus what Lambda provides."""
    found: list[Requirement] = []
    for line in metadata.requires(DISTRIBUTION) or []:
        requirement = Requirement(line)
        if requirement.marker is not None and "extra" in str(requirement.marker):
            wanted = any(requirement.marker.evaluate({"extra": extra}) for extra in extras)
            if not wanted:
                continue
            requirement.marker = None  # pip installs it into --target without an extra to match
        if _normalise(requirement.name) in RUNTIME_PROVIDED:
            continue
        found.append(requirement)
    return found


#: Requirements only the SDK's own OTLP/HTTP exporter needs (``OTEL_SERVERLESS_EXPORTER=sdk``).
SDK_EXPORTER: Final = frozenset({"opentelemetry-exporter-otlp-proto-http", "protobuf"})


def build_layer(
    python: str,
    arch: str,
    output: Path,
    *,
    from_environment: bool = False,
    with_grpc: bool = False,
    with_sdk_exporter: bool = False,
) -> Path:
    """Write the layer zip for Lambda's *python* (``3.12``) on *arch* to *output*; return its path."""
    if not _PYTHON.match(python):
        raise ValueError(f"python must look like 3.12, not {python!r}")
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {', '.join(ARCHITECTURES)}, not {arch!r}")
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="otel-serverless-layer-") as scratch:
        root = Path(scratch) / "layer"
        site = root / "python"
        site.mkdir(parents=True)
        extras = {INSTRUMENTATIONS_EXTRA, GRPC_EXTRA} if with_grpc else {INSTRUMENTATIONS_EXTRA}
        wanted = requirements(frozenset(extras))
        if not with_sdk_exporter:
            wanted = [req for req in wanted if _normalise(req.name) not in SDK_EXPORTER]
        if from_environment:
            _check_local(python, arch)
            copy_distributions([requirement.name for requirement in wanted], site)
        else:
            _pip_install(site, python, arch, wanted)
        _copy_package(site)
        _drop_runtime_provided(site)
        _drop_bytecode(site)
        if python == _local_python() and sys.implementation.name == "cpython":
            _compile(site)
        else:
            print(
                f"otel-serverless layer build: no bytecode in the layer: target Python {python} differs from "
                f"the build interpreter's {_local_python()}; modules compile at import on each cold start",
                file=sys.stderr,
            )
        shutil.copy2(Path(otel_serverless.__file__).parent / "aws_lambda" / WRAPPER_NAME, root / WRAPPER_NAME)
        output.parent.mkdir(parents=True, exist_ok=True)
        _zip(root, output)
    return output


# -- dependencies --------------------------------------------------------------------------


def _pip_install(site: Path, python: str, arch: str, wanted: list[Requirement]) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--no-warn-conflicts",  # the target directory is checked against this environment otherwise
        "--target",
        str(site),
        "--platform",
        ARCHITECTURES[arch],
        "--python-version",
        python,
        "--implementation",
        "cp",
        "--only-binary=:all:",
        *(str(requirement) for requirement in wanted),
    ]
    subprocess.run(command, check=True)  # noqa: S603  # our own interpreter, fixed arguments


def _local_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _check_local(python: str, arch: str) -> None:
    local_python = _local_python()
    local_arch = "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"
    if (python, arch) != (local_python, local_arch) or not sys.platform.startswith("linux"):
        raise ValueError(
            f"from_environment builds only for this machine (Linux, Python {local_python}, {local_arch}); "
            f"asked for Python {python} on {arch}"
        )


def _closure(names: list[str], skip: frozenset[str]) -> list[metadata.Distribution]:
    """The installed distributions *names* need at run time, without those in *skip* (and theirs)."""
    environment: dict[str, str] = {key: str(value) for key, value in default_environment().items()}
    seen: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = _normalise(todo.pop())
        if name in seen or name in skip:
            continue
        distribution = metadata.distribution(name)
        seen[name] = distribution
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({**environment, "extra": ""}):
                todo.append(requirement.name)
    return list(seen.values())


def copy_distributions(names: list[str], site: Path, *, skip: frozenset[str] = RUNTIME_PROVIDED) -> None:
    """Copy the installed distributions *names* and their dependencies into *site* (offline)."""
    for distribution in _closure(names, skip):
        for file in distribution.files or []:
            relative = Path(str(file))
            if relative.is_absolute() or ".." in relative.parts or "__pycache__" in relative.parts:
                continue  # console scripts and the like live outside site-packages
            source = Path(str(distribution.locate_file(file)))
            if source.is_file():
                target = site / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)


def _copy_package(site: Path) -> None:
    """This package from where it is imported (works for editable installs too) and its metadata."""
    source = Path(otel_serverless.__file__).parent
    target = site / "otel_serverless"
    if target.exists():
        shutil.rmtree(target)
    bytecode = shutil.ignore_patterns("__pycache__", "*.pyc")

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set(bytecode(directory, names))
        if Path(directory) == source:
            skipped |= DEVELOPMENT_ONLY & set(names)
        return skipped

    shutil.copytree(source, target, ignore=ignore)
    for stale in site.glob("otel_serverless-*.dist-info"):
        shutil.rmtree(stale)
    info = site / f"otel_serverless-{otel_serverless.__version__}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {DISTRIBUTION}\nVersion: {otel_serverless.__version__}\n"
    )
    (info / "INSTALLER").write_text("otel-serverless layer build\n")
    (info / "entry_points.txt").write_text(
        "[opentelemetry_configurator]\n"
        "otel_serverless = otel_serverless.distro:OtelServerlessConfigurator\n\n"
        "[opentelemetry_distro]\n"
        "otel_serverless = otel_serverless.distro:OtelServerlessDistro\n"
    )


def _drop_runtime_provided(site: Path) -> None:
    for name in ("botocore", "boto3", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"):
        path = site / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.is_file():
            path.unlink()
    for info in site.glob("*.dist-info"):
        project = info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        if _normalise(project) in RUNTIME_PROVIDED:
            shutil.rmtree(info)
    bin_dir = site / "bin"
    if bin_dir.is_dir():
        shutil.rmtree(bin_dir)  # console scripts with the build machine's shebang are useless in a layer


# -- bytecode ------------------------------------------------------------------------------


def _drop_bytecode(site: Path) -> None:
    for cache in sorted(site.rglob("__pycache__"), reverse=True):
        if cache.is_dir():
            shutil.rmtree(cache)
    for stray in site.rglob("*.py[co]"):
        stray.unlink()


def _compile(site: Path) -> None:
    """Compile ``python/`` for this interpreter; a file that does not compile stays source-only."""
    compileall.compile_dir(
        site,
        quiet=2,
        workers=1,
        # The paths inside the .pyc (tracebacks) as the runtime sees them, not the build's scratch dir.
        stripdir=str(site),
        prependdir="/opt/python",
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


# -- zip -----------------------------------------------------------------------------------


def _zip(root: Path, output: Path) -> None:
    """A reproducible zip: sorted entries, fixed timestamps, executable bit kept for the wrapper."""
    files = sorted(path for path in root.rglob("*") if path.is_file())
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            name = path.relative_to(root).as_posix()
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(path, os.X_OK) or name == WRAPPER_NAME else 0o644
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, path.read_bytes())
    partial.replace(output)
