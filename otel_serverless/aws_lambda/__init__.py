"""Lambda handler instrumentation (consumer side).                            (interface)

* ``@traced`` — wrap a handler: one invocation span per invocation, parented to
  (or, for batches, linked to) whatever triggered it, with the serverless facts.
* ``handler`` — the exec-wrapper entry: ``AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-serverless-handler``
  (the script shipped in the layer and in this package) points ``_HANDLER`` here.
* ``traced_records(event)`` — iterate a batch's records, each inside a processing
  span that is the child of its own producer.

Names load lazily: importing this package costs next to nothing until used.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otel_serverless.aws_lambda._decorator import traced
    from otel_serverless.aws_lambda._exec import handler
    from otel_serverless.aws_lambda._records import traced_records

__all__ = ["handler", "traced", "traced_records"]


def __getattr__(name: str) -> Any:
    if name == "traced":
        from otel_serverless.aws_lambda._decorator import traced

        return traced
    if name == "handler":
        from otel_serverless.aws_lambda._exec import handler

        return handler
    if name == "traced_records":
        from otel_serverless.aws_lambda._records import traced_records

        return traced_records
    raise AttributeError(f"module 'otel_serverless.aws_lambda' has no attribute {name!r}")


if os.environ.get("_HANDLER") == "otel_serverless.aws_lambda.handler":
    # Imported by the Lambda runtime as the exec wrapper's handler: do the init work now.
    from otel_serverless.aws_lambda import _exec

    _exec.preload()
