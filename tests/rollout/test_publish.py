"""``otel-serverless layer publish`` with a layer really built, then ``rollout`` as a user runs it (subprocess)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from otel_serverless.rollout.publish import inspect
from tests.rollout import fleet

CLI = [sys.executable, "-m", "otel_serverless.cli"]
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
ARCH = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("layer") / "otel-serverless-layer.zip"
    done = subprocess.run(
        [*CLI, "layer", "build", "--python", PYTHON, "--arch", ARCH, "--output", str(output), "--from-environment"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return output


def _cli(aws: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": aws}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, check=False, env=env)


def test_the_zip_says_which_python_and_architecture_it_was_built_for(built: Path, tmp_path: Path) -> None:
    assert inspect(built) == (PYTHON, ARCH)
    bare = tmp_path / "bare.zip"
    bare.write_bytes(fleet.layer_zip())
    assert inspect(bare) == (None, None)
    compiled = tmp_path / "compiled.zip"
    with zipfile.ZipFile(compiled, "w") as archive:
        for name in ("otel-serverless-handler", "python/otel_serverless/__init__.py"):
            archive.writestr(name, "")
        archive.writestr("python/otel_serverless/__pycache__/__init__.cpython-312.pyc", b"")
    assert inspect(compiled) == ("3.12", None)
    with zipfile.ZipFile(compiled, "a") as archive:
        archive.writestr("python/x-1.dist-info/WHEEL", "Tag: cp311-cp311-manylinux_2_17_x86_64\n")
    with pytest.raises(ValueError, match="mixes targets"):
        inspect(compiled)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("handler.py", "")
    with pytest.raises(ValueError, match="not an otel-serverless layer"):
        inspect(other)


def test_publish_prints_the_arn_does_not_publish_the_same_zip_twice_and_refuses_a_wrong_target(
    built: Path, aws: str, tmp_path: Path
) -> None:
    first = _cli(aws, "layer", "publish", "--zip", str(built))
    assert first.returncode == 0, first.stderr
    name = f"otel-serverless-python{PYTHON.replace('.', '')}-{ARCH}"
    assert first.stdout.strip() == f"arn:aws:lambda:us-east-1:123456789012:layer:{name}:1"
    version = boto3.client("lambda", endpoint_url=aws).get_layer_version(LayerName=name, VersionNumber=1)
    assert version["CompatibleRuntimes"] == [f"python{PYTHON}"] and version["CompatibleArchitectures"] == [ARCH]

    again = _cli(aws, "layer", "publish", "--zip", str(built))
    assert again.returncode == 0 and again.stdout == first.stdout
    assert "unchanged since version 1" in again.stderr

    wrong = _cli(aws, "layer", "publish", "--zip", str(built), "--python", "3.9")
    assert wrong.returncode == 2
    assert f"was built for Python {PYTHON}, not 3.9" in wrong.stderr and "Traceback" not in wrong.stderr

    bare = tmp_path / "bare.zip"
    bare.write_bytes(fleet.layer_zip())
    unknown = _cli(aws, "layer", "publish", "--zip", str(bare))
    assert unknown.returncode == 2 and "give --python and --arch" in unknown.stderr


def test_the_commands_as_a_user_runs_them(built: Path, aws: str) -> None:
    lam: Any = boto3.client("lambda", endpoint_url=aws)
    iam = boto3.client("iam", endpoint_url=aws)
    kinds = (fleet.Kind("app", 3, runtime=f"python{PYTHON}", arch=ARCH, env={"TABLE": "posts"}),)
    fleet.deploy(lam, iam, kinds)
    arn = _cli(aws, "layer", "publish", "--zip", str(built)).stdout.strip()
    before = fleet.snapshot(lam, ["app-000", "app-001", "app-002"])

    done = _cli(aws, "rollout", "instrument", "--name-glob", "app-*", "--endpoint", "https://collector:4318")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rollout instrument: 3 functions matched in us-east-1" in done.stdout
    assert "all done" in done.stdout and "rollout instrument [" in done.stderr
    config = lam.get_function_configuration(FunctionName="app-001")
    assert [layer["Arn"] for layer in config["Layers"]] == [arn]
    assert config["Environment"]["Variables"] == {
        "TABLE": "posts",
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-serverless-handler",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4318",
        "OTEL_SERVICE_NAME": "app-001",
    }
    tags = lam.list_tags(Resource=config["FunctionArn"])["Tags"]
    assert list(tags) == ["otel-serverless:rollout"]

    undone = _cli(aws, "rollout", "uninstrument", "--all")
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert fleet.snapshot(lam, ["app-000", "app-001", "app-002"]) == before
    # The snapshot is real JSON of the real answers, not an empty comparison.
    assert json.loads(before["app-001"])["configuration"]["Environment"] == {"Variables": {"TABLE": "posts"}}


def test_publish_through_an_s3_bucket(built: Path, aws: str) -> None:
    boto3.client("s3", endpoint_url=aws).create_bucket(Bucket="layers")
    done = _cli(aws, "layer", "publish", "--zip", str(built), "--s3-bucket", "layers", "--region", "us-east-1")
    assert done.returncode == 0, done.stderr
    name = f"otel-serverless-python{PYTHON.replace('.', '')}-{ARCH}"
    assert done.stdout.strip().endswith(f":layer:{name}:1")
    keys = [item["Key"] for item in boto3.client("s3", endpoint_url=aws).list_objects_v2(Bucket="layers")["Contents"]]
    assert len(keys) == 1 and keys[0].startswith(f"{name}/")
    version = boto3.client("lambda", endpoint_url=aws).get_layer_version(LayerName=name, VersionNumber=1)
    assert version["Content"]["CodeSize"] == built.stat().st_size
