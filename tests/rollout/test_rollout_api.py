"""Throttling, filters, re-instrumenting and drift: the rollout commands against moto through the proxy."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from otel_serverless.cli import main
from tests.rollout import fleet
from tests.rollout.conftest import publish_ours
from tests.rollout.lambda_proxy import LIST_FUNCTIONS, LambdaProxy

SMALL = (
    fleet.Kind("plain312", 12),
    fleet.Kind("team-a", 4, tags={"team": "a", "service": "checkout"}),
    fleet.Kind("arm311", 3, runtime="python3.11", arch="arm64", env={"LOG_LEVEL": "INFO"}),
    fleet.Kind("node", 3, runtime="nodejs20.x", skip="runtime nodejs20.x is not Python"),
    fleet.Kind("preset-otel", 2, env={"OTEL_SERVICE_NAME": "legacy", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://old:4318"}),
)


@pytest.fixture
def small(aws: str, lam: Any, proxy: LambdaProxy, tmp_path: Path) -> dict[str, str]:
    made = fleet.deploy(lam, boto3.client("iam", endpoint_url=aws), SMALL)
    publish_ours(lam, tmp_path)
    proxy.clear()
    return made


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _env(lam: Any, name: str) -> dict[str, str]:
    found: dict[str, str] = (
        lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
    )
    return found


def _update(method: str, path: str, body: bytes) -> bool:
    return method == "PUT" and path.endswith("/configuration")


def test_throttled_calls_are_retried_with_backoff_and_counted(
    small: dict[str, str], lam: Any, proxy: LambdaProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    updates = proxy.throttle(_update, times=3)
    listing = proxy.throttle(lambda method, path, body: method == "GET" and bool(LIST_FUNCTIONS.match(path)), times=2)
    code, out, _ = _run(capsys, "rollout", "instrument", "--runtime", "python3.12", "--runtime", "python3.11")
    assert code == 0, out
    assert updates.answered == 3 and listing.answered == 2
    assert re.search(r"instrumented\s+21\b", out), out
    assert "5 retried after throttling" in out
    assert all(_env(lam, name).get("AWS_LAMBDA_EXEC_WRAPPER") for name in small if not name.startswith("node"))


def test_a_function_still_throttled_after_every_attempt_is_reported_failed_and_a_rerun_finishes_it(
    small: dict[str, str], lam: Any, proxy: LambdaProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    stuck = proxy.throttle(lambda method, path, body: _update(method, path, body) and "plain312-003" in path, None)
    code, out, _ = _run(capsys, "rollout", "instrument", "--name-glob", "plain312-*", "--max-attempts", "3")
    assert code == 1
    assert stuck.answered == 3
    assert re.search(
        r"plain312-003\s+failed\s+throttled: TooManyRequestsException after 3 attempts; run again to finish", out
    ), out
    assert re.search(r"instrumented\s+11\b", out)
    assert "AWS_LAMBDA_EXEC_WRAPPER" not in _env(lam, "plain312-003")

    proxy.clear()
    code, out, _ = _run(capsys, "rollout", "instrument", "--name-glob", "plain312-*")
    assert code == 0, out
    assert re.search(r"instrumented\s+1\b", out) and re.search(r"unchanged\s+already instrumented\s+11\b", out)
    assert _env(lam, "plain312-003")["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/otel-serverless-handler"


def test_filters_select_by_tag_glob_runtime_and_name(
    small: dict[str, str], lam: Any, proxy: LambdaProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "rollout", "instrument", "--tag", "team=a", "--service-name-from", "tag")
    assert code == 0, out
    assert "4 functions matched" in out
    assert {name for name in small if "AWS_LAMBDA_EXEC_WRAPPER" in _env(lam, name)} == {
        f"team-a-{i:03d}" for i in range(4)
    }
    assert _env(lam, "team-a-000")["OTEL_SERVICE_NAME"] == "checkout"

    code, out, _ = _run(capsys, "rollout", "instrument", "--name-glob", "arm311-*", "--runtime", "python3.11")
    assert code == 0 and "3 functions matched" in out

    code, out, _ = _run(capsys, "rollout", "instrument", "--function", "plain312-000", "--function", "nowhere")
    assert code == 1
    assert re.search(r"nowhere\s+failed\s+not found", out), out
    assert _env(lam, "plain312-000")["OTEL_SERVICE_NAME"] == "plain312-000"

    code, out, _ = _run(capsys, "rollout", "instrument", "--service-name-from", "tag", "--function", "plain312-001")
    assert code == 0
    assert _env(lam, "plain312-001")["OTEL_SERVICE_NAME"] == "plain312-001"  # no 'service' tag: the name


def test_bad_usage_exits_2_with_a_clear_message(proxy: LambdaProxy, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "rollout", "instrument", "--endpoint", "http://x:4318")
    assert code == 2 and "choose the functions" in err
    code, _, err = _run(capsys, "rollout", "instrument", "--all", "--env", "AWS_REGION=eu-west-1")
    assert code == 2 and "--env AWS_REGION: not a variable a function may set" in err
    code, _, err = _run(capsys, "rollout", "instrument", "--all", "--tag", "novalue")
    assert code == 2 and "--tag takes KEY=VALUE" in err
    code, _, err = _run(capsys, "rollout", "uninstrument", "--all", "--function", "f")
    assert code == 2 and "--function and --all exclude each other" in err
    code, out, _ = _run(capsys, "rollout", "instrument", "--all")
    assert code == 0 and "no function matched in us-east-1" in out


def test_instrumenting_again_with_new_settings_keeps_the_first_record_and_uninstrument_restores_the_original(
    small: dict[str, str], lam: Any, proxy: LambdaProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    names = sorted(small)
    before = fleet.snapshot(lam, names)
    assert _run(capsys, "rollout", "instrument", "--all", "--endpoint", "http://a:4318")[0] == 1
    code, out, _ = _run(capsys, "rollout", "instrument", "--all", "--endpoint", "http://b:4318", "--env", "OTEL_Y=2")
    assert code == 1 and re.search(r"instrumented\s+21\b", out), out
    assert _env(lam, "preset-otel-000")["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://b:4318"
    assert _run(capsys, "rollout", "uninstrument", "--all")[0] == 0
    assert fleet.snapshot(lam, names) == before
    assert _env(lam, "preset-otel-000") == {
        "OTEL_SERVICE_NAME": "legacy",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://old:4318",
    }


def test_uninstrument_keeps_a_layer_added_since_and_leaves_hand_made_instrumentation_alone(
    small: dict[str, str], lam: Any, proxy: LambdaProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(capsys, "rollout", "instrument", "--function", "plain312-000", "--function", "plain312-001")[0] == 0
    extra = lam.publish_layer_version(LayerName="added-later", Content={"ZipFile": fleet.code_zip()})["LayerVersionArn"]
    layers = [layer["Arn"] for layer in lam.get_function_configuration(FunctionName="plain312-000")["Layers"]]
    lam.update_function_configuration(FunctionName="plain312-000", Layers=[extra, *layers])
    # plain312-002: instrumented by hand, no record.
    ours = layers[-1]
    lam.update_function_configuration(
        FunctionName="plain312-002",
        Layers=[ours],
        Environment={"Variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-serverless-handler"}},
    )
    code, out, _ = _run(capsys, "rollout", "uninstrument", "--name-glob", "plain312-00[0-2]", "--dry-run")
    assert code == 1
    assert "  note: layers changed since instrument: removed ours, kept the others" in out
    code, out, _ = _run(capsys, "rollout", "uninstrument", "--name-glob", "plain312-00[0-2]")
    assert code == 1
    assert re.search(r"plain312-002\s+skipped\s+instrumented without a rollout record", out), out
    assert [layer["Arn"] for layer in lam.get_function_configuration(FunctionName="plain312-000")["Layers"]] == [extra]
    assert _env(lam, "plain312-000") == {}
    assert "Layers" not in json.dumps(lam.get_function_configuration(FunctionName="plain312-001").get("Layers") or "")
    tags = lam.list_tags(Resource=small["plain312-000"])["Tags"]
    assert not [key for key in tags if key.startswith("otel-serverless")]


def test_a_function_changed_between_read_and_write_is_read_again_not_overwritten(
    small: dict[str, str], lam: Any, proxy: LambdaProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    # Someone changes the function after the listing, just before our update: the update
    # carries the revision listed, the proxy refuses it as Lambda does, and the rollout
    # plans again from the function as it is now.
    def edited_meanwhile(method: str, path: str, body: bytes) -> bool:
        if _update(method, path, body) and "plain312-005" in path:
            lam.update_function_configuration(FunctionName="plain312-005", Environment={"Variables": {"EDIT": "1"}})
        return False

    edits = proxy.fail(edited_meanwhile, 1, 500, "unused", "")
    # plain312-006 is changed every time: reported, not chased.
    proxy.fail(
        lambda method, path, body: _update(method, path, body) and "plain312-006" in path,
        None,
        412,
        "PreconditionFailedException",
        "The Revision Id provided does not match",
    )
    code, out, _ = _run(capsys, "rollout", "instrument", "--name-glob", "plain312-00[4-6]")
    assert code == 1
    assert edits.answered == 0
    assert proxy.count("PUT", r"plain312-005/configuration$") == 2
    assert _env(lam, "plain312-005") == {
        "EDIT": "1",
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-serverless-handler",
        "OTEL_SERVICE_NAME": "plain312-005",
    }
    assert re.search(r"plain312-006\s+failed\s+the function changed while this ran", out), out
    assert re.search(r"instrumented\s+2\b", out)
    proxy.clear()
    assert _run(capsys, "rollout", "uninstrument", "--function", "plain312-005")[0] == 0
    assert _env(lam, "plain312-005") == {"EDIT": "1"}


def test_layer_arn_gives_each_function_the_version_that_fits_it(
    small: dict[str, str], lam: Any, proxy: LambdaProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    custom = lam.publish_layer_version(
        LayerName="team-otel",
        Content={"ZipFile": fleet.layer_zip()},
        CompatibleRuntimes=["python3.12"],
        CompatibleArchitectures=["x86_64"],
    )["LayerVersionArn"]
    names = sorted(small)
    before = fleet.snapshot(lam, names)
    code, out, _ = _run(
        capsys, "rollout", "instrument", "--runtime", "python3.12", "--runtime", "python3.11", "--layer-arn", custom
    )
    assert code == 1
    assert re.search(r"arm311-000\s+skipped\s+no --layer-arn fits python3.11 on arm64", out), out
    assert [layer["Arn"] for layer in lam.get_function_configuration(FunctionName="plain312-000")["Layers"]] == [custom]
    # uninstrument finds them by our exec wrapper and the record, whatever the layer's name.
    assert _run(capsys, "rollout", "uninstrument", "--all")[0] == 0
    assert fleet.snapshot(lam, names) == before

    missing = custom.rsplit(":", 1)[0] + ":99"
    code, _, err = _run(capsys, "rollout", "instrument", "--all", "--layer-arn", missing)
    assert code == 2 and "otel-serverless rollout instrument: " in err and "Traceback" not in err


def test_ctrl_c_stops_starting_functions_and_a_rerun_finishes_the_rest(
    small: dict[str, str], lam: Any, proxy: LambdaProxy
) -> None:
    proxy.delay = 0.1  # slow enough to interrupt midway
    command = [sys.executable, "-m", "otel_serverless.cli", "rollout", "instrument", "--name-glob", "plain312-*"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while proxy.count("PUT", r"/configuration$") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "interrupted; functions already done stay done, run again" in err
    done = {name for name in small if name.startswith("plain312") and "AWS_LAMBDA_EXEC_WRAPPER" in _env(lam, name)}
    assert 2 <= len(done) < 12

    proxy.delay = 0.0
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert re.search(rf"instrumented\s+{12 - len(done)}\b", rerun.stdout), rerun.stdout
