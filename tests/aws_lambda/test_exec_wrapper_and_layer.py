"""Zero code change: the exec wrapper runs a plain handler, from the package and from a built layer."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

import otel_serverless
from otel_serverless.layer import WRAPPER_NAME, build_layer

WRAPPER = Path(otel_serverless.__file__).parent / "aws_lambda" / WRAPPER_NAME

#: A stand-in for the Lambda Python runtime's bootstrap: import ``_HANDLER`` as it does, call it once.
BOOTSTRAP = textwrap.dedent(
    """
    import importlib, json, os, sys, time

    class Context:
        aws_request_id = "exec-1"
        function_name = "orders"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders"
        memory_limit_in_mb = "128"
        log_group_name = "/aws/lambda/orders"
        log_stream_name = "stream"
        client_context = None
        identity = None
        _deadline = time.monotonic() + 3
        def get_remaining_time_in_millis(self):
            return int((self._deadline - time.monotonic()) * 1000)

    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    function = getattr(importlib.import_module(module_name.replace("/", ".")), function_name)
    result = function(json.loads(sys.argv[1]), Context())
    print("RESULT " + json.dumps(result), flush=True)
    """
)

APP = textwrap.dedent(
    """
    def handler(event, context):
        return {"statusCode": 200, "body": event["order"]}
    """
)


def task(tmp_path: Path) -> Path:
    root = tmp_path / "task"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(APP)
    (root / "bootstrap.py").write_text(BOOTSTRAP)
    return root


def run_wrapped(
    wrapper: Path, python_args: list[str], env: dict[str, str], root: Path
) -> subprocess.CompletedProcess[str]:
    event = json.dumps({"order": "o-1", "headers": {}})
    base = {
        "PATH": "/usr/bin:/bin",
        "_HANDLER": "src/app.handler",  # Lambda's spelling for a handler in a sub-directory
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_SERVERLESS_STATE_DIR": str(root),
        "AWS_LAMBDA_FUNCTION_NAME": "orders",
        "AWS_REGION": "us-east-1",
    }
    return subprocess.run(
        [str(wrapper), *python_args, str(root / "bootstrap.py"), event],
        env={**base, **env},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert json.loads(line.removeprefix("RESULT ")) == {"statusCode": 200, "body": "o-1"}
    # The console exporter printed the invocation span during the end-of-invocation flush.
    printed = done.stdout.split("\nRESULT ")[0]
    decoder = json.JSONDecoder()
    spans, position = [], printed.find("{")
    while position != -1:
        span, end = decoder.raw_decode(printed, position)
        spans.append(span)
        position = printed.find("{", end)
    (invocation,) = [span for span in spans if span["name"] == "orders"]
    return dict(invocation["attributes"])


def test_exec_wrapper_script_runs_a_plain_handler(tmp_path: Path) -> None:
    root = task(tmp_path)
    attributes = check(run_wrapped(WRAPPER, [sys.executable], {"PYTHONPATH": str(root)}, root))
    assert attributes["faas.invocation_id"] == "exec-1"
    assert attributes["faas.coldstart"] is True
    assert "serverless.cost.usd" in attributes  # the full processor chain, through configure()


def test_console_script_does_the_same(tmp_path: Path) -> None:
    root = task(tmp_path)
    script = Path(sys.executable).parent / "otel-serverless-handler"
    if not script.exists():
        pytest.skip("console scripts are not installed in this environment")
    check(run_wrapped(script, [sys.executable], {"PYTHONPATH": str(root)}, root))


def runtime_provided(target: Path) -> Path:
    """What the Lambda Python runtime ships next to the layer (/var/runtime): boto3 and botocore."""
    for name in ("botocore", "boto3", "s3transfer", "jmespath", "dateutil", "urllib3", "six"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, target / origin.name)
    return target


@pytest.mark.instrumentations
def test_layer_layout_and_a_handler_run_from_it(tmp_path: Path) -> None:
    local = f"{sys.version_info.major}.{sys.version_info.minor}"
    arch = "arm64" if os.uname().machine in ("aarch64", "arm64") else "x86_64"
    zip_path = build_layer(local, arch, tmp_path / "layer.zip", from_environment=True)
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        wrapper_info = archive.getinfo(WRAPPER_NAME)
        archive.extractall(tmp_path / "opt")
    # What Lambda expects: python/ on the path, the wrapper at the root, executable.
    assert {name.split("/", 1)[0] for name in names} == {"python", WRAPPER_NAME}
    assert stat.S_IMODE(wrapper_info.external_attr >> 16) == 0o755
    assert "python/otel_serverless/aws_lambda/_wrapper.py" in names
    assert "python/opentelemetry/sdk/trace/__init__.py" in names
    assert any(name.startswith("python/otel_serverless-") and name.endswith("entry_points.txt") for name in names)
    assert not any(name.startswith(("python/botocore/", "python/boto3/")) for name in names)
    # Bytecode for the target version only (the runtime cannot write it under /opt), none of another interpreter.
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
    compiled = [name for name in names if name.endswith((".pyc", ".pyo"))]
    assert "python/otel_serverless/aws_lambda/__pycache__/_wrapper." + tag + ".pyc" in compiled
    assert all(name.endswith(f".{tag}.pyc") and "/__pycache__/" in name for name in compiled)

    opt = tmp_path / "opt"
    (opt / WRAPPER_NAME).chmod(0o755)  # zipfile does not restore modes; Lambda does
    runtime = runtime_provided(tmp_path / "var-runtime")
    root = task(tmp_path)
    # -S: no site-packages at all; only the layer, the runtime's own libraries and the task.
    env = {"PYTHONPATH": os.pathsep.join([str(opt / "python"), str(runtime), str(root)])}
    attributes = check(run_wrapped(opt / WRAPPER_NAME, [sys.executable, "-S"], env, root))
    assert attributes["faas.coldstart"] is True


def test_layer_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="arch"):
        build_layer("3.12", "sparc", tmp_path / "x.zip")
    with pytest.raises(ValueError, match="python"):
        build_layer("3", "x86_64", tmp_path / "x.zip")
    other = "arm64" if os.uname().machine not in ("aarch64", "arm64") else "x86_64"
    with pytest.raises(ValueError, match="this machine"):
        build_layer("3.12", other, tmp_path / "x.zip", from_environment=True)


def test_runtime_provided_distributions_are_dropped(tmp_path: Path) -> None:
    from otel_serverless.layer import _drop_runtime_provided

    site = tmp_path / "python"
    for name in (
        "urllib3",
        "urllib3-2.8.0.dist-info",
        "botocore",
        "botocore-1.34.0.dist-info",
        "grpc",
        "grpcio-1.0.dist-info",
    ):
        (site / name).mkdir(parents=True)
    _drop_runtime_provided(site)
    assert sorted(path.name for path in site.iterdir()) == ["grpc", "grpcio-1.0.dist-info"]


def test_stray_bytecode_is_dropped_before_compiling(tmp_path: Path) -> None:
    from otel_serverless.layer import _drop_bytecode

    site = tmp_path / "python"
    (site / "pkg" / "__pycache__").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("")
    (site / "pkg" / "__pycache__" / "__init__.cpython-39.pyc").write_bytes(b"old")
    (site / "legacy.pyc").write_bytes(b"py2")
    _drop_bytecode(site)
    assert sorted(path.relative_to(site).as_posix() for path in site.rglob("*")) == ["pkg", "pkg/__init__.py"]
