"""``rollout instrument`` / ``uninstrument`` over 225 functions in moto (server mode), through a paging proxy."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from otel_serverless.cli import main
from otel_serverless.rollout._plan import WRAPPER
from tests.rollout import fleet
from tests.rollout.lambda_proxy import LambdaProxy

ENDPOINT = "http://collector.internal:4318"
OURS = re.compile(r":layer:otel-serverless-python3\d+-(x86_64|arm64):\d+$")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _not_done(out: str) -> dict[str, tuple[str, str]]:
    """{function: (outcome, reason)} from the "not done" table."""
    rows: dict[str, tuple[str, str]] = {}
    lines = out.splitlines()
    if not any(line.startswith("not done") for line in lines):
        return rows
    start = next(i for i, line in enumerate(lines) if line.startswith("not done")) + 3
    for line in lines[start:]:
        if not line.strip():
            break
        name, outcome, reason = re.split(r"\s{2,}", line.strip(), maxsplit=2)
        rows[name] = (outcome, reason)
    return rows


def test_instrument_all_skips_the_unsafe_with_reasons_is_idempotent_and_uninstrument_restores_every_byte(
    deployed: dict[str, str], lam: Any, proxy: LambdaProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    names = sorted(deployed)
    assert len(names) >= 200
    before = fleet.snapshot(lam, names)

    code, out, err = _run(capsys, "rollout", "instrument", "--all", "--endpoint", ENDPOINT, "--env", "OTEL_X=1")

    assert code == 1, out  # some functions cannot be instrumented: not all done
    assert proxy.pages >= len(names) // 50  # every page of ListFunctions, 50 at a time as Lambda serves them
    assert "rollout instrument [" in err  # the progress bar went to stderr
    skipped = _not_done(out)
    after = {name: lam.get_function_configuration(FunctionName=name) for name in names}
    for config in after.values():
        config.pop("ResponseMetadata")
    for name in names:
        kind, was = fleet.kind_of(name), json.loads(before[name])["configuration"]
        config = after[name]
        if kind.skip is not None:
            assert skipped[name][0] == "skipped", name
            assert skipped[name][1].startswith(kind.skip), (name, skipped[name])
            assert json.dumps(config, default=str) == json.dumps(was, default=str), name
            continue
        assert name not in skipped
        layers = [layer["Arn"] for layer in config.get("Layers", [])]
        old_layers = [layer["Arn"] for layer in was.get("Layers", [])]
        assert layers[:-1] == old_layers, name  # the others kept, in order; ours last
        assert OURS.search(layers[-1]) and kind.runtime and kind.runtime.replace(".", "") in layers[-1], layers
        assert layers[-1].split(":layer:")[1].startswith(f"otel-serverless-{kind.runtime.replace('.', '')}-{kind.arch}")
        env = config["Environment"]["Variables"]
        old_env = was.get("Environment", {}).get("Variables", {})
        assert env["AWS_LAMBDA_EXEC_WRAPPER"] == WRAPPER
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == ENDPOINT
        assert env["OTEL_SERVICE_NAME"] == name
        assert env["OTEL_X"] == "1"
        ours = {"AWS_LAMBDA_EXEC_WRAPPER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME", "OTEL_X"}
        assert {k: v for k, v in env.items() if k not in ours} == {k: v for k, v in old_env.items() if k not in ours}
    done = [name for name in names if fleet.kind_of(name).skip is None]
    assert re.search(rf"instrumented\s+{len(done)}\b", out), out
    assert set(skipped) == {name for name in names if fleet.kind_of(name).skip is not None}

    # Idempotence: a second run writes nothing, and reads almost nothing beyond the listing.
    instrumented = fleet.snapshot(lam, names)
    proxy.clear()
    code, out, _ = _run(capsys, "rollout", "instrument", "--all", "--endpoint", ENDPOINT, "--env", "OTEL_X=1")
    assert code == 1
    assert proxy.count("PUT", r"/configuration$") == 0
    assert proxy.count("POST", r"/tags/") == 0
    # Only the functions skipped for their tags are read again (the skip needs their tags).
    assert proxy.count("GET", r"/tags/") == sum(1 for name in names if fleet.kind_of(name).name == "many-tags")
    assert re.search(rf"unchanged\s+already instrumented\s+{len(done)}\b", out), out
    assert fleet.snapshot(lam, names) == instrumented

    # Uninstrument: every function exactly as it was, configuration and tags.
    code, out, _ = _run(capsys, "rollout", "uninstrument", "--all")
    assert code == 0, out
    assert re.search(rf"restored\s+{len(done)}\b", out), out
    assert fleet.snapshot(lam, names) == before

    # And once more: nothing left to do.
    code, out, _ = _run(capsys, "rollout", "uninstrument", "--all")
    assert code == 0
    assert re.search(rf"unchanged\s+not instrumented\s+{len(names)}\b", out), out


def test_dry_run_prints_the_exact_change_per_function_and_changes_nothing(
    deployed: dict[str, str], lam: Any, proxy: LambdaProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    names = sorted(deployed)
    before = fleet.snapshot(lam, names)
    code, out, _ = _run(capsys, "rollout", "instrument", "--all", "--endpoint", ENDPOINT, "--dry-run")
    assert code == 1  # some would be skipped
    assert proxy.count("PUT", r"/configuration$") == 0 and proxy.count("POST", r"/tags/") == 0
    assert fleet.snapshot(lam, names) == before
    block = out.split("preset-otel-003\n", 1)[1].split("\n\n")[0]
    assert "  layers:\n    + arn:aws:lambda:us-east-1:123456789012:layer:otel-serverless-python312-x86_64:1" in block
    assert f"    + AWS_LAMBDA_EXEC_WRAPPER={WRAPPER}" in block
    assert f"    ~ OTEL_EXPORTER_OTLP_ENDPOINT: http://old:4318 -> {ENDPOINT}" in block
    assert "    ~ OTEL_SERVICE_NAME: legacy -> preset-otel-003" in block
    layered = out.split("layered313-000\n", 1)[1].split("\n\n")[0]
    assert layered.startswith(
        "  layers:\n    = arn:aws:lambda:us-east-1:123456789012:layer:shared-utils:1\n"
        "    = arn:aws:lambda:us-east-1:123456789012:layer:pandas-lite:1\n"
        "    + arn:aws:lambda:us-east-1:123456789012:layer:otel-serverless-python313-x86_64:1\n"
    ), layered
    assert "    (1 other variable unchanged)" in layered
    assert "node-000" not in out.split("rollout instrument (dry run)")[0]
    assert re.search(r"would change\s+\d+", out)
