"""Roll the layer out to many functions: ``otel-serverless layer publish`` and ``rollout instrument|uninstrument``.

Modules, one concern each: ``publish`` (the layer into a region), ``_select`` (which
functions), ``_layers`` (which layer version fits a function), ``_plan`` (what to change,
or why not: pure), ``_record`` (what instrument replaced, kept in the function's tags),
``_run`` (apply plans to many functions, a few at a time), ``_aws`` (the client, its
retries and call counts), ``_report`` and ``_progress`` (what a person reads), ``_cli``.
None of it is on the Lambda path.
"""

from __future__ import annotations

from otel_serverless.rollout._plan import WRAPPER, Change, Desired, Skip
from otel_serverless.rollout._record import Record
from otel_serverless.rollout._run import Outcome, Report, Rollout

__all__ = ["WRAPPER", "Change", "Desired", "Outcome", "Record", "Report", "Rollout", "Skip"]
