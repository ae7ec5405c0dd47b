"""Configuration garbage (#23 item 9): every setting set to garbage, one at a time, in a fresh process.

For every ``OTEL_SERVERLESS_*`` variable of ``otel_serverless.environment_variables`` and the
standard ``OTEL_*`` variables we read, a new process configures otel-serverless as the
exec wrapper does (``configure()``), runs a traced handler on a real SQS event twice, and
reads the producer-side and shutdown settings. Asserted: the handler's result comes back
unchanged, and exactly one warning names the variable (the default applied).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from otel_serverless import environment_variables as env
from tests.conftest import EVENTS
from tests.otlp_receiver import otlp_receiver

GARBAGE = "([garbage\u2603"

#: Values that are garbage for a variable that takes any text (a path, a handler name).
GARBAGE_FOR: dict[str, str] = {
    env.OTEL_SERVERLESS_STATE_DIR: "/proc/garbage\u2603/state",
}
#: Other variables a setting is read under (it matters only when that feature is on).
ENABLERS: dict[str, dict[str, str]] = {
    env.OTEL_SERVERLESS_CAPTURE_PAYLOAD_MAX_CHARS: {env.OTEL_SERVERLESS_CAPTURE_PAYLOAD: "true"},
    "OTEL_TRACES_SAMPLER_ARG": {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio"},
}
#: Standard variables the OpenTelemetry SDK reads: its one warning does not name the variable,
#: but says this.
SDK_WARNINGS: dict[str, str] = {
    "OTEL_TRACES_SAMPLER": "recognize sampler",
    "OTEL_TRACES_SAMPLER_ARG": "SAMPLER_ARG",
    "OTEL_RESOURCE_ATTRIBUTES": "resource attribute",
    "OTEL_EXPORTER_OTLP_HEADERS": "Header format invalid",
}
#: Settings no garbage can reach at run time, and why.
NOT_APPLICABLE: dict[str, str] = {
    env.OTEL_SERVERLESS_ORIGINAL_HANDLER: "set by the exec wrapper script; a wrong one is the runtime's import error",
}
#: Standard variables we read ourselves (the SDK's own readers log their own way).
STANDARD = (
    "OTEL_PROPAGATORS",
    "OTEL_SDK_DISABLED",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)

SCRIPT = f"EVENTS = {str(EVENTS)!r}\n" + textwrap.dedent(
    """
    import json, logging, sys
    warnings = []

    class Collect(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    for name in ("otel_serverless", "opentelemetry"):
        logging.getLogger(name).addHandler(Collect())
    import otel_serverless
    from otel_serverless.aws_lambda import traced, _shutdown
    from otel_serverless.botocore import _config
    from pathlib import Path

    class LambdaContext:  # what the runtime passes (tests.conftest is not imported: it sets a provider)
        function_name, memory_limit_in_mb = "orders", "128"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders"
        log_stream_name = "2024/01/01/[$LATEST]abc"

        def __init__(self, request_id):
            self.aws_request_id = request_id

        def get_remaining_time_in_millis(self):
            return 3000

    def event(name):
        found = json.loads((Path(EVENTS) / f"{name}.json").read_text())
        if name == "sqsEvent":  # what a producer without X-Ray tracing sends (read by XRAY_UNSAMPLED)
            found["Records"][0]["attributes"]["AWSTraceHeader"] = (
                "Root=1-64cc2edd-112fbf1701d1355973a11d57;Parent=7d5a9776024b2d42;Sampled=0"
            )
        else:  # a caller's context on a public endpoint (read by TRUST_INBOUND)
            found["headers"]["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        return found

    otel_serverless.configure()

    @traced
    def handler(incoming, context):
        logging.getLogger("app").warning("working on %s records", len(incoming.get("Records", ())))
        return {"batchItemFailures": [], "seen": len(incoming.get("Records", ()))}

    results = [handler(event("sqsEvent"), LambdaContext(f"req-{i}")) for i in range(2)]
    results.append(handler(event("apiGatewayProxyV2Event"), LambdaContext("req-http")))
    _config.read()
    _shutdown._budget_ms()
    otel_serverless.flush()
    print(json.dumps({"results": results, "warnings": warnings}))
    """
)

NAMES = [name for name in env.documented() if name not in NOT_APPLICABLE] + list(STANDARD)


def _environment(name: str, endpoint: str, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_LAMBDA_", "_HANDLER", "_X_AMZN"))}
    base.update(
        AWS_LAMBDA_FUNCTION_NAME="orders",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
        AWS_REGION="us-east-1",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_SERVERLESS_STATE_DIR=str(tmp_path),
        PYTHONPATH=str(Path(__file__).parent.parent),
    )
    base.update(ENABLERS.get(name, {}))
    base[name] = GARBAGE_FOR.get(name, GARBAGE)
    return base


@pytest.mark.parametrize("name", NAMES)
def test_garbage_in_a_setting_is_one_warning_and_the_default(name: str, tmp_path: Path) -> None:
    with otlp_receiver() as receiver:
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            env=_environment(name, receiver.endpoint, tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    expected = {"batchItemFailures": [], "seen": 2}
    http = {"batchItemFailures": [], "seen": 0}
    assert report["results"] == [expected, expected, http]  # the handler ran, its answer unchanged
    naming = [warning for warning in report["warnings"] if name in warning or SDK_WARNINGS.get(name, name) in warning]
    assert len(naming) == 1, report["warnings"]
    assert GARBAGE not in naming[0] or len(naming[0]) < 512  # bounded, a preview at most


def test_every_setting_is_covered() -> None:
    assert set(env.documented()) == set(NAMES) - set(STANDARD) | set(NOT_APPLICABLE)
