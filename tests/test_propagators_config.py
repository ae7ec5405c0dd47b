"""OTEL_PROPAGATORS naming a propagator that is not installed: one warning, propagation goes on."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

PROGRAM = textwrap.dedent(
    """
    import os
    {imports}
    from opentelemetry import propagate, trace
    from opentelemetry.sdk.trace import TracerProvider

    with TracerProvider().get_tracer("t").start_as_current_span("s"):
        carrier = {{}}
        propagate.inject(carrier)
    print(sorted(propagate.get_global_textmap().fields), sorted(carrier), os.environ["OTEL_PROPAGATORS"])
    """
)


def run(propagators: str, imports: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env["OTEL_PROPAGATORS"] = propagators
    return subprocess.run(
        [sys.executable, "-c", PROGRAM.format(imports=imports)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_the_sdk_alone_fails_on_a_propagator_that_is_not_installed() -> None:
    # What otel-serverless guards against: if the SDK stops raising, this test says so.
    result = run("b3,tracecontext", "")
    assert result.returncode != 0 and "Propagator b3 not found" in result.stderr


@pytest.mark.parametrize(
    "imports",
    ["import otel_serverless; otel_serverless.configure()", "from otel_serverless.aws_lambda import traced"],
)
def test_a_missing_propagator_is_one_warning_and_the_others_still_propagate(imports: str) -> None:
    result = run("b3,tracecontext", imports)
    assert result.returncode == 0, result.stderr
    # The propagator has the installed one's fields, it injected, and the environment is as it was.
    assert result.stdout.split("\n")[0] == "['traceparent', 'tracestate'] ['traceparent'] b3,tracecontext"
    warnings = [line for line in result.stderr.splitlines() if "OTEL_PROPAGATORS" in line]
    assert len(warnings) == 1
    assert "opentelemetry-propagator-b3" in warnings[0] and "propagating with tracecontext" in warnings[0]
    assert "Traceback" not in result.stderr


def test_nothing_installed_of_what_was_named_falls_back_to_the_w3c_default() -> None:
    result = run("jaeger", "import otel_serverless")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("['baggage', 'traceparent', 'tracestate']")
    assert "opentelemetry-propagator-jaeger" in result.stderr


def test_installed_and_built_in_names_are_left_alone() -> None:
    result = run("xray,tracecontext,baggage", "import otel_serverless")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("['X-Amzn-Trace-Id', 'baggage', 'traceparent', 'tracestate']")
