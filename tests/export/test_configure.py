"""Zero code change: configured only through standard variables, in real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.otlp_receiver import Receiver, otlp_receiver

BIN = Path(sys.executable).parent

APP = textwrap.dedent(
    """
    from opentelemetry import trace
    import otel_serverless
    tracer = trace.get_tracer("app")
    with tracer.start_as_current_span("parent"):
        with tracer.start_as_current_span("child"):
            pass
    print("flushed", otel_serverless.flush())
    """
)

CODE_FIRST = "import otel_serverless\notel_serverless.configure()\n" + APP


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_LAMBDA_", "_HANDLER"))}
    env.update(extra)
    return env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def _span_names(receiver: Receiver) -> list[str]:
    return sorted(span.name for _, span in receiver.spans())


def test_opentelemetry_instrument_picks_up_the_distro_and_configurator(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP)
    with otlp_receiver() as receiver:
        env = _clean_env(
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            OTEL_SERVICE_NAME="blog-api",
            OTEL_RESOURCE_ATTRIBUTES="deployment.environment.name=test",
            OTEL_EXPORTER_OTLP_HEADERS="x-tenant=blue%20team",
            AWS_LAMBDA_FUNCTION_NAME="posts-upload",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
            AWS_REGION="eu-west-1",
        )
        result = _run([str(BIN / "opentelemetry-instrument"), sys.executable, str(app)], env)
        assert result.returncode == 0, result.stderr
        assert "flushed True" in result.stdout
        spans = receiver.spans()
        headers = receiver.headers[0]
    assert sorted(span.name for _, span in spans) == ["child", "parent"]
    resource = spans[0][0]
    assert resource["service.name"] == "blog-api"
    assert resource["deployment.environment.name"] == "test"
    assert resource["cloud.provider"] == "aws"
    assert resource["cloud.platform"] == "aws_lambda"
    assert resource["cloud.region"] == "eu-west-1"
    assert resource["faas.name"] == "posts-upload"
    assert resource["faas.max_memory"] == 128 * 1024 * 1024
    assert {k.lower(): v for k, v in headers.items()}["x-tenant"] == "blue team"
    by_name = {span.name: span for _, span in spans}
    assert by_name["child"].parent_span_id == by_name["parent"].span_id


def test_code_first_configure_uses_the_same_variables() -> None:
    with otlp_receiver() as receiver:
        result = _run([sys.executable, "-c", CODE_FIRST], _clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint))
        assert result.returncode == 0, result.stderr
        assert _span_names(receiver) == ["child", "parent"]


def test_the_standard_sampler_variable_is_honoured() -> None:
    with otlp_receiver() as receiver:
        env = _clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, OTEL_TRACES_SAMPLER="always_off")
        result = _run([sys.executable, "-c", CODE_FIRST], env)
        assert result.returncode == 0, result.stderr
        assert receiver.spans() == []


def test_console_exporter_and_none() -> None:
    console = _run([sys.executable, "-c", CODE_FIRST], _clean_env(OTEL_TRACES_EXPORTER="console"))
    assert console.returncode == 0, console.stderr
    assert '"name": "child"' in console.stdout
    none = _run([sys.executable, "-c", CODE_FIRST], _clean_env(OTEL_TRACES_EXPORTER="none"))
    assert none.returncode == 0, none.stderr
    assert '"name"' not in none.stdout


def test_an_unknown_exporter_name_warns_and_names_the_missing_plugin() -> None:
    result = _run([sys.executable, "-c", CODE_FIRST], _clean_env(OTEL_TRACES_EXPORTER="zipkin_json"))
    assert result.returncode == 0, result.stderr
    assert "zipkin_json" in result.stderr
    assert "opentelemetry_traces_exporter" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OTEL_SERVERLESS_FLUSH_TIMEOUT_MS", "soon"),
        ("OTEL_SERVERLESS_LOG_LEVEL", "loud"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"),
        ("OTEL_SERVERLESS_DISABLED", "perhaps"),
    ],
)
def test_a_bad_value_warns_once_and_tracing_still_works(variable: str, value: str) -> None:
    with otlp_receiver() as receiver:
        env = _clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, **{variable: value})
        result = _run([sys.executable, "-c", CODE_FIRST + CODE_FIRST.split("\n", 2)[2]], env)
        assert result.returncode == 0, result.stderr
        assert result.stderr.count(variable) == 1, result.stderr
        assert "child" in _span_names(receiver)


def test_grpc_is_selected_by_the_standard_protocol_variable() -> None:
    code = (
        "from otel_serverless.export._exporters import exporters_from_env\n"
        "print([type(e).__module__ for e in exporters_from_env()])"
    )
    result = _run([sys.executable, "-c", code], _clean_env(OTEL_EXPORTER_OTLP_PROTOCOL="grpc"))
    assert result.returncode == 0, result.stderr
    assert "grpc" in result.stdout


def test_disabled_means_untouched() -> None:
    result = _run([sys.executable, "-c", CODE_FIRST], _clean_env(OTEL_SERVERLESS_DISABLED="true"))
    assert result.returncode == 0, result.stderr
    code = "import otel_serverless; print(otel_serverless.configure())"
    assert _run([sys.executable, "-c", code], _clean_env(OTEL_SDK_DISABLED="true")).stdout.strip() == "None"


def test_the_standard_propagators_variable_is_honoured() -> None:
    code = (
        "import otel_serverless\notel_serverless.configure()\n"
        "from opentelemetry import trace, propagate\n"
        "with trace.get_tracer('t').start_as_current_span('s'):\n"
        "    carrier = {}\n    propagate.inject(carrier)\n    print(sorted(carrier))"
    )
    default = _run([sys.executable, "-c", code], _clean_env(OTEL_TRACES_EXPORTER="none"))
    assert "traceparent" in default.stdout, default.stderr
    xray = _run([sys.executable, "-c", code], _clean_env(OTEL_TRACES_EXPORTER="none", OTEL_PROPAGATORS="xray"))
    assert "X-Amzn-Trace-Id" in xray.stdout, xray.stderr
    assert "traceparent" not in xray.stdout


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_a_malformed_header_is_warned_about_without_its_value(protocol: str) -> None:
    # The SDK's header parser logs a malformed entry in full; header values hold credentials.
    headers = "x-tenant=acme,Authorization Bearer s3cr3t-t0ken-1,x-api-key=k3y\\u0000,bad name=s3cr3t-2"
    with otlp_receiver() as receiver:
        env = _clean_env(
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
            OTEL_EXPORTER_OTLP_HEADERS=headers,
        )
        result = _run([sys.executable, "-c", CODE_FIRST], env)
        assert result.returncode == 0, result.stderr
        assert "Header format invalid" in result.stderr  # still said
        assert "s3cr3t" not in result.stderr and "k3y" not in result.stderr, result.stderr
        assert "not logged" in result.stderr
        if protocol == "http/protobuf":
            assert "child" in _span_names(receiver)  # the well-formed headers still go out


def test_only_a_plain_header_name_is_shown() -> None:
    from otel_serverless.export._header_warnings import hidden

    assert hidden("x-api-key=s3cr3t") == "x-api-key=<value not logged>"
    assert hidden("Authorization Bearer s3cr3t") == "<an entry of 27 characters, not logged>"
    assert "s3cr3t" not in hidden("bad name=s3cr3t")
