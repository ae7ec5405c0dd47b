"""Every ``OTEL_SERVERLESS_*`` setting, defined and documented once.

Standard OpenTelemetry variables (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_PROPAGATORS``, ``OTEL_TRACES_EXPORTER``, ``OTEL_EXPORTER_OTLP_*``,
``OTEL_TRACES_SAMPLER``, ``OTEL_BSP_*`` …) keep their standard meaning and are not
repeated here. A setting given to :func:`otel_serverless.configure` as an argument
wins over its variable; a variable with a bad value logs one warning and the
default applies. The README's settings table is generated from this module
(``python -m otel_serverless.environment_variables``).
"""

from __future__ import annotations

# --- Foundation: configuration and export -------------------------------------------

OTEL_SERVERLESS_DISABLED = "OTEL_SERVERLESS_DISABLED"
"""
.. envvar:: OTEL_SERVERLESS_DISABLED

``true`` turns otel-serverless off entirely: no provider is configured, handlers and
AWS calls run untouched. Also honoured: the standard ``OTEL_SDK_DISABLED``.
Default: ``false``.
"""

OTEL_SERVERLESS_FLUSH_TIMEOUT_MS = "OTEL_SERVERLESS_FLUSH_TIMEOUT_MS"
"""
.. envvar:: OTEL_SERVERLESS_FLUSH_TIMEOUT_MS

Hard deadline, in milliseconds, for one flush (``force_flush``) of the span
pipeline. The caller is never held longer: a collector that is down, refuses the
connection or accepts it and never answers costs at most this. In Lambda the
flush deadline is further capped by the invocation's remaining time. Spans not
sent by the deadline stay queued and go with the next flush. Default: ``2000``
(range 1–60000).
"""

OTEL_SERVERLESS_LOG_LEVEL = "OTEL_SERVERLESS_LOG_LEVEL"
"""
.. envvar:: OTEL_SERVERLESS_LOG_LEVEL

Level of otel-serverless's own logger ``otel_serverless`` (``debug``, ``info``,
``warning``, ``error``). Default: ``warning``.
"""

OTEL_SERVERLESS_EXPORTER = "OTEL_SERVERLESS_EXPORTER"
"""
.. envvar:: OTEL_SERVERLESS_EXPORTER

Which OTLP/HTTP span exporter sends ``http/protobuf``: ``fast`` (ours: standard
library HTTP with a kept-alive connection, a direct protobuf encoder, one hard
deadline per export; no ``requests`` or protobuf runtime on the cold start) or
``sdk`` (the OpenTelemetry SDK's ``OTLPSpanExporter``). Both read the standard
``OTEL_EXPORTER_OTLP_*`` variables the same way (the timeout in seconds, as the
Python SDK reads it). ``grpc`` always uses the SDK's exporter.
Default: ``fast``.
"""

# --- Propagation (producer side) -----------------------------------------------------

OTEL_SERVERLESS_PROPAGATION_EXCLUDE = "OTEL_SERVERLESS_PROPAGATION_EXCLUDE"
"""
.. envvar:: OTEL_SERVERLESS_PROPAGATION_EXCLUDE

Comma-separated AWS services (botocore names: ``sqs``, ``sns``, ``events``,
``kinesis``, ``stepfunctions``, ``lambda``, ``s3``, ``dynamodb``) whose requests
must not be changed to carry trace context. Their calls are still traced.
Default: empty (every service carries context).
"""

OTEL_SERVERLESS_BOTOCORE_UPSTREAM = "OTEL_SERVERLESS_BOTOCORE_UPSTREAM"
"""
.. envvar:: OTEL_SERVERLESS_BOTOCORE_UPSTREAM

Who opens the span of each AWS call. ``false``: otel-serverless does, one span per
call (``Service.Operation``, CLIENT; a send that carries context is a PRODUCER
span named for its destination), with the service, operation, region, endpoint,
request id, HTTP status, retries and the resource the call names; about 0.5 ms
less per warm invocation than upstream's (README, Benchmarks). ``true``: upstream
``opentelemetry-instrumentation-botocore`` opens it (its per-service attributes,
e.g. Bedrock's ``gen_ai.*``, DynamoDB's consumed capacity) and otel-serverless adds
its attributes and propagation to that span. Upstream is also used when our own
botocore instrumentation is disabled (``otel_serverless_botocore`` in
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``), and when the application instruments
botocore with upstream itself. Default: ``false``.
"""

OTEL_SERVERLESS_SQS_MAX_MESSAGE_BYTES = "OTEL_SERVERLESS_SQS_MAX_MESSAGE_BYTES"
"""
.. envvar:: OTEL_SERVERLESS_SQS_MAX_MESSAGE_BYTES

Largest SQS message (body plus attributes) our attribute may grow a message to;
also the cap for a whole SendMessageBatch. Set it to your queues'
``MaximumMessageSize`` when that is lower, or higher (up to 1 MiB) when your
queues accept more. A message that would cross it is sent without context.
Default: ``262144`` (range 1024–1048576).
"""

OTEL_SERVERLESS_KINESIS_MAX_RECORD_BYTES = "OTEL_SERVERLESS_KINESIS_MAX_RECORD_BYTES"
"""
.. envvar:: OTEL_SERVERLESS_KINESIS_MAX_RECORD_BYTES

Largest Kinesis record (data plus partition key) the context may grow a record
to; a record that would cross it is sent untouched. Default: ``1048576``
(range 1024–10485760).
"""

OTEL_SERVERLESS_DYNAMODB_ITEM_CONTEXT = "OTEL_SERVERLESS_DYNAMODB_ITEM_CONTEXT"
"""
.. envvar:: OTEL_SERVERLESS_DYNAMODB_ITEM_CONTEXT

``true`` stores the trace context in items written by PutItem, UpdateItem (one
more ``SET`` action; the user's actions are kept), BatchWriteItem (put requests)
and TransactWriteItems (puts and updates), as a String attribute ``_otel``, so
that stream consumers get a parent, not only a link. Off by default: items are
the user's data. DeleteItem is never changed. Default: ``false``.
"""

OTEL_SERVERLESS_DYNAMODB_KEYS = "OTEL_SERVERLESS_DYNAMODB_KEYS"
"""
.. envvar:: OTEL_SERVERLESS_DYNAMODB_KEYS

Primary-key attributes per table, ``Table=partition[,sort];Other=id``, so that a
PutItem span can record the correlation id a stream consumer recomputes.
Without it, key attributes are learnt from UpdateItem/DeleteItem ``Key``
parameters seen in the process. Default: empty.
"""

# --- Lambda handler (consumer side) --------------------------------------------------

OTEL_SERVERLESS_ORIGINAL_HANDLER = "OTEL_SERVERLESS_ORIGINAL_HANDLER"
"""
.. envvar:: OTEL_SERVERLESS_ORIGINAL_HANDLER

The user's handler (``module.function``, as in ``_HANDLER``). Set by the exec
wrapper script (``AWS_LAMBDA_EXEC_WRAPPER``), which points ``_HANDLER`` at
``otel_serverless.aws_lambda.handler``; the upstream layer's ``ORIG_HANDLER`` is
honoured too. Not normally set by hand. Default: unset.
"""

OTEL_SERVERLESS_TRUST_INBOUND = "OTEL_SERVERLESS_TRUST_INBOUND"
"""
.. envvar:: OTEL_SERVERLESS_TRUST_INBOUND

``false`` for public HTTP triggers (API Gateway, ALB, Function URL): the invocation
starts a new trace, an inbound ``traceparent`` is kept only as a link (marked
``serverless.link.untrusted``), and inbound baggage is dropped. Messaging triggers
are unaffected (their context comes from producers in your account). Default: ``true``.
"""

OTEL_SERVERLESS_BATCH_PARENT = "OTEL_SERVERLESS_BATCH_PARENT"
"""
.. envvar:: OTEL_SERVERLESS_BATCH_PARENT

How a batch invocation (SQS, Kinesis, DynamoDB Streams) joins its producers. It
always links to every producer (FOLLOWS_FROM in Jaeger). ``same-trace``: when every
record with a context comes from one trace — a batch of one, or one request fanned
out — the invocation is also a child of the first record's producer, so the whole
flow is one trace in Jaeger. ``never``: a batch invocation always starts a new trace.
Default: ``same-trace``.
"""

OTEL_SERVERLESS_XRAY_UNSAMPLED = "OTEL_SERVERLESS_XRAY_UNSAMPLED"
"""
.. envvar:: OTEL_SERVERLESS_XRAY_UNSAMPLED

What an X-Ray header with ``Sampled=0`` does when it is an invocation's (or a record's)
only context: an SQS ``AWSTraceHeader``, or ``_X_AMZN_TRACE_ID`` after an asynchronous
invoke. ``link``: it becomes a link (``serverless.link.xray_unsampled``) and the invocation
is sampled by your sampler as a new trace. ``obey``: it is the parent, and a parent-based
sampler drops the invocation. The default is ``link`` because AWS writes that header
whether or not anyone traces (botocore adds the function's ``_X_AMZN_TRACE_ID`` to every
request; without active X-Ray tracing it says ``Sampled=0``): as a parent it would
silently drop invocations no sampler of yours decided against. Default: ``link``.
"""

OTEL_SERVERLESS_TIMEOUT_WATCHDOG = "OTEL_SERVERLESS_TIMEOUT_WATCHDOG"
"""
.. envvar:: OTEL_SERVERLESS_TIMEOUT_WATCHDOG

``true`` runs the timeout watchdog (one thread; never a signal): shortly before the
invocation's deadline it marks the invocation span and its open children as timed
out, ends and flushes them. Default: ``true``.
"""

OTEL_SERVERLESS_TIMEOUT_MARGIN_MS = "OTEL_SERVERLESS_TIMEOUT_MARGIN_MS"
"""
.. envvar:: OTEL_SERVERLESS_TIMEOUT_MARGIN_MS

How long before the deadline the watchdog fires, in milliseconds. Default: adapts to
the function's timeout, 10% of it, at least 100 and at most 2000 (range 10–60000).
"""

OTEL_SERVERLESS_MEMORY_WARN_RATIO = "OTEL_SERVERLESS_MEMORY_WARN_RATIO"
"""
.. envvar:: OTEL_SERVERLESS_MEMORY_WARN_RATIO

The invocation's own peak memory (its high-water mark, not the process's) / configured
memory above which the invocation span gets a ``serverless.memory.near_limit`` event.
Default: ``0.9`` (range 0–10).
"""

OTEL_SERVERLESS_MEMORY_GUARD_RATIO = "OTEL_SERVERLESS_MEMORY_GUARD_RATIO"
"""
.. envvar:: OTEL_SERVERLESS_MEMORY_GUARD_RATIO

Resident memory / configured memory at which the memory guard ends and flushes the
invocation span (``error.type`` ``out_of_memory``) before the platform's out-of-memory
kill, sampling every 50 ms on the watchdog thread while an invocation runs; ``0`` turns it
off. Runs with the timeout watchdog (``OTEL_SERVERLESS_TIMEOUT_WATCHDOG``), in a Lambda
sandbox only (``AWS_LAMBDA_RUNTIME_API`` set): elsewhere the process is not the function's.
Default: ``0.95`` (range 0–1).
"""

OTEL_SERVERLESS_KILL_DETECTION = "OTEL_SERVERLESS_KILL_DETECTION"
"""
.. envvar:: OTEL_SERVERLESS_KILL_DETECTION

``true`` keeps a small in-flight marker file for the running invocation (in
``OTEL_SERVERLESS_STATE_DIR``), so that the first invocation of a new process can
report that the previous one in this environment was killed (timeout, out of
memory, crash), linked to it, with a span in the killed invocation's trace. Lambda keeps
``/tmp`` across such a reset. Default: ``true``.
"""

OTEL_SERVERLESS_STATE_DIR = "OTEL_SERVERLESS_STATE_DIR"
"""
.. envvar:: OTEL_SERVERLESS_STATE_DIR

Directory of the in-flight marker file. Default: the system temporary directory
(``/tmp`` in Lambda).
"""

OTEL_SERVERLESS_INIT_SPAN = "OTEL_SERVERLESS_INIT_SPAN"
"""
.. envvar:: OTEL_SERVERLESS_INIT_SPAN

``true`` adds an ``init`` child span (process start → first invocation) to the first
invocation of an on-demand environment. Default: ``true``.
"""

OTEL_SERVERLESS_PRICE_X86_64 = "OTEL_SERVERLESS_PRICE_X86_64"
"""
.. envvar:: OTEL_SERVERLESS_PRICE_X86_64

Price in USD per GB-second of duration on x86_64. Default: ``0.0000166667``
(us-east-1, first pricing tier).
"""

OTEL_SERVERLESS_PRICE_ARM64 = "OTEL_SERVERLESS_PRICE_ARM64"
"""
.. envvar:: OTEL_SERVERLESS_PRICE_ARM64

Price in USD per GB-second of duration on arm64. Default: ``0.0000133334``
(us-east-1, first pricing tier).
"""

OTEL_SERVERLESS_PRICE_REQUEST = "OTEL_SERVERLESS_PRICE_REQUEST"
"""
.. envvar:: OTEL_SERVERLESS_PRICE_REQUEST

Price in USD of one request. Default: ``0.0000002`` (0.20 USD per million).
"""

OTEL_SERVERLESS_CAPTURE_PAYLOAD = "OTEL_SERVERLESS_CAPTURE_PAYLOAD"
"""
.. envvar:: OTEL_SERVERLESS_CAPTURE_PAYLOAD

``true`` records the event and the response on the invocation span
(``serverless.payload.event`` / ``.response``), scrubbed and truncated. Default: ``false``.
"""

OTEL_SERVERLESS_CAPTURE_PAYLOAD_MAX_CHARS = "OTEL_SERVERLESS_CAPTURE_PAYLOAD_MAX_CHARS"
"""
.. envvar:: OTEL_SERVERLESS_CAPTURE_PAYLOAD_MAX_CHARS

Longest captured payload, in characters (JSON, after scrubbing). Default: ``4096``
(range 16–262144).
"""

OTEL_SERVERLESS_SCRUB = "OTEL_SERVERLESS_SCRUB"
"""
.. envvar:: OTEL_SERVERLESS_SCRUB

``true`` replaces secrets, whole, with ``[REDACTED]`` in every exported span (attributes,
events, links and status descriptions, whichever instrumentation set them): values under
names that look like secrets (password, passphrase, secret, token, key, credential,
authorization and other auth headers, session, cookie, pin, cvv, ssn, otp, card number,
signed-URL signatures …), as keys, ``name=value`` / ``"name": "value"`` pairs in text or
``{"name": …, "value": …}`` pairs, and values shaped like credentials (URLs with a
password, AWS keys, JWTs, PEM blocks, bearer tokens, card numbers), also inside JSON text,
base64 JSON and percent-encoded text. Default: ``true``.
"""

OTEL_SERVERLESS_SCRUB_PATTERNS = "OTEL_SERVERLESS_SCRUB_PATTERNS"
"""
.. envvar:: OTEL_SERVERLESS_SCRUB_PATTERNS

More secret key names, as comma-separated regular expressions (case-insensitive),
added to the built-in ones. Default: none.
"""

OTEL_SERVERLESS_PROCESSORS = "OTEL_SERVERLESS_PROCESSORS"
"""
.. envvar:: OTEL_SERVERLESS_PROCESSORS

The serverless span processors that ``configure()`` (and so the distro and the exec
wrapper) installs, comma-separated: ``coldstart``, ``retries``, ``memory``, ``cost``,
``scrub``; ``none`` for none. Default: all of them.
"""

OTEL_SERVERLESS_LOG_CORRELATION = "OTEL_SERVERLESS_LOG_CORRELATION"
"""
.. envvar:: OTEL_SERVERLESS_LOG_CORRELATION

Trace and span ids in Python log records (``otelTraceID``, ``otelSpanID``,
``otelTraceSampled``): ``auto`` adds them to every record (Lambda's JSON log format
prints them) and, with Lambda's text format, appends them to each line; ``text`` or
``json`` also set that format on the root logger's handlers; ``off`` leaves logging
alone. Default: ``auto``.
"""

OTEL_SERVERLESS_LOG_EVENTS_LEVEL = "OTEL_SERVERLESS_LOG_EVENTS_LEVEL"
"""
.. envvar:: OTEL_SERVERLESS_LOG_EVENTS_LEVEL

Log records written while a span is active, at this level or above, become events of
that span (``log`` with ``log.level``, ``log.logger``, ``log.message`` and the
exception, scrubbed like every attribute): ``debug``, ``info``, ``warning``, ``error``,
``critical``, or ``off``. Default: ``info``.
"""

OTEL_SERVERLESS_LOG_EVENTS_MAX_PER_SPAN = "OTEL_SERVERLESS_LOG_EVENTS_MAX_PER_SPAN"
"""
.. envvar:: OTEL_SERVERLESS_LOG_EVENTS_MAX_PER_SPAN

Most log records one span gets as events (0 to 10000); the rest are counted on the span
as ``serverless.log_events.dropped``. Default: 100.
"""

OTEL_SERVERLESS_LOG_EVENTS_MAX_CHARS = "OTEL_SERVERLESS_LOG_EVENTS_MAX_CHARS"
"""
.. envvar:: OTEL_SERVERLESS_LOG_EVENTS_MAX_CHARS

Longest log message, exception message or stack text put on a span event (64 to 65536
characters; longer ones are cut and say by how much). Default: 2048.
"""

OTEL_SERVERLESS_SHUTDOWN_FLUSH_MS = "OTEL_SERVERLESS_SHUTDOWN_FLUSH_MS"
"""
.. envvar:: OTEL_SERVERLESS_SHUTDOWN_FLUSH_MS

On ``SIGTERM`` (the runtime's shutdown), the deadline for flushing the spans still queued,
in milliseconds (0 to 10000), before the signal goes on to the handler installed before
(or ends the process). Lambda's shutdown budget is 500 ms with internal extensions and
2,000 ms with external ones. Default: 400.
"""

# --- Local runtime and demo ----------------------------------------------------------


def documented() -> dict[str, str]:
    """Name → documentation of every setting in this module, in definition order."""
    import ast
    import inspect
    import itertools
    import sys

    source = inspect.getsource(sys.modules[__name__])
    tree = ast.parse(source)
    docs: dict[str, str] = {}
    body = tree.body
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id.startswith("OTEL_SERVERLESS_")
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            text = inspect.cleandoc(following.value.value)
            lines = [line for line in text.splitlines() if not line.startswith(".. envvar::")]
            docs[node.targets[0].id] = " ".join(" ".join(lines).split())
    return docs


if __name__ == "__main__":
    print("| variable | meaning |\n|---|---|")
    for _name, _doc in documented().items():
        print(f"| `{_name}` | {_doc} |")
