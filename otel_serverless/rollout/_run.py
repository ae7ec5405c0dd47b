"""Apply instrument / uninstrument plans to many functions, a few at a time, with progress.

Per function: read what the plan needs (tags only when a filter, the service name or
a write needs them), plan, then write in the order that never loses the record: the
record tags before ``UpdateFunctionConfiguration`` on instrument, and dropped after it
on uninstrument. A function already as wanted costs no call beyond the listing.
Errors are per function: one that fails is reported with its reason, the rest go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Final, TextIO

from otel_serverless.rollout import _aws
from otel_serverless.rollout._layers import Resolver
from otel_serverless.rollout._plan import (
    Change,
    Desired,
    Skip,
    architecture,
    instrumented,
    plan_instrument,
    plan_uninstrument,
    unsafe,
)
from otel_serverless.rollout._progress import Progress
from otel_serverless.rollout._record import Record, RecordError, decode
from otel_serverless.rollout._select import Selector

INSTRUMENTED: Final = "instrumented"
RESTORED: Final = "restored"
UNCHANGED: Final = "unchanged"
WOULD_CHANGE: Final = "would change"
SKIPPED: Final = "skipped"
FAILED: Final = "failed"
#: Outcomes that leave the function as asked (a dry run's "would change" included).
DONE: Final = frozenset({INSTRUMENTED, RESTORED, UNCHANGED, WOULD_CHANGE})


@dataclass(frozen=True)
class Outcome:
    function: str
    status: str
    reason: str = ""
    change: Change | None = None

    @property
    def done(self) -> bool:
        return self.status in DONE


@dataclass
class Report:
    action: str
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    calls: _aws.Calls = field(default_factory=_aws.Calls)

    @property
    def all_done(self) -> bool:
        return all(outcome.done for outcome in self.outcomes)


class Rollout:
    def __init__(
        self,
        client: Any,
        calls: _aws.Calls,
        selector: Selector,
        resolver: Resolver,
        *,
        dry_run: bool = False,
        concurrency: int = 4,
        progress: TextIO | None = None,
    ) -> None:
        self._client = client
        self._calls = calls
        self._selector = selector
        self._resolver = resolver
        self._dry_run = dry_run
        self._concurrency = max(1, concurrency)
        self._progress = progress

    # -- the two commands ------------------------------------------------------------------

    def instrument(self, desired: Desired) -> Report:
        return self._run("instrument", lambda config, tags: self._instrument(config, tags, desired), desired)

    def uninstrument(self) -> Report:
        return self._run("uninstrument", self._uninstrument, None)

    # -- the loop --------------------------------------------------------------------------

    def _run(
        self,
        action: str,
        one: Callable[[Mapping[str, Any], Mapping[str, str] | None], Outcome],
        desired: Desired | None,
    ) -> Report:
        started = time.monotonic()
        candidates = list(self._selector.candidates(self._client))
        needs_tags = self._selector.needs_tags or (desired is not None and desired.service_name_from == "tag")
        progress = Progress(len(candidates), self._progress, f"rollout {action}") if self._progress else None
        outcomes: list[Outcome] = []
        pool = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="rollout")
        try:
            futures = [pool.submit(self._guarded, candidate, needs_tags, one) for candidate in candidates]
            for future in as_completed(futures):
                outcome = future.result()
                if progress is not None:
                    progress.advance(outcome.status if outcome is not None else "not matched")
                if outcome is not None:
                    outcomes.append(outcome)
        finally:
            # On Ctrl-C, functions not started yet stay as they are; those in flight finish
            # (each is one consistent step), and a rerun picks up the rest.
            pool.shutdown(wait=True, cancel_futures=True)
        outcomes.sort(key=lambda outcome: outcome.function)
        return Report(action, self._dry_run, outcomes, time.monotonic() - started, self._calls)

    def _guarded(
        self,
        candidate: Mapping[str, Any] | str,
        needs_tags: bool,
        one: Callable[[Mapping[str, Any], Mapping[str, str] | None], Outcome],
    ) -> Outcome | None:
        """One function, start to end; any error becomes that function's failed outcome."""
        name = candidate if isinstance(candidate, str) else str(candidate.get("FunctionName"))
        try:
            if isinstance(candidate, str):
                config: Mapping[str, Any] = self._client.get_function_configuration(FunctionName=candidate)
                name = str(config.get("FunctionName", candidate))
                if not self._selector.matches(config):
                    return None
            else:
                config = candidate
            tags = None
            if needs_tags:
                tags = self._tags(config)
                if not self._selector.matches_tags(tags):
                    return None
            return self._once_more_if_changed(config, tags, one)
        except Exception as error:  # one function's failure is reported, and the rollout goes on
            if _aws.error_code(error) == "ResourceNotFoundException" and isinstance(candidate, str):
                return Outcome(name, FAILED, "not found")
            return Outcome(name, FAILED, _aws.describe(error))

    def _once_more_if_changed(
        self,
        config: Mapping[str, Any],
        tags: Mapping[str, str] | None,
        one: Callable[[Mapping[str, Any], Mapping[str, str] | None], Outcome],
    ) -> Outcome:
        """*one*, and if the function changed between our read and our write, *one* again from a fresh read.

        The update carries the ``RevisionId`` read, so Lambda refuses it rather than let us
        write over a change made meanwhile; the plan is then made again from the function as
        it is now (once: a function that keeps changing is reported, not chased).
        """
        try:
            return one(config, tags)
        except Exception as error:
            if _aws.error_code(error) != "PreconditionFailedException":
                raise
        fresh: Mapping[str, Any] = self._client.get_function_configuration(FunctionName=config["FunctionArn"])
        return one(fresh, self._tags(fresh) if tags is not None else None)

    def _tags(self, config: Mapping[str, Any]) -> dict[str, str]:
        found: dict[str, str] = self._client.list_tags(Resource=config["FunctionArn"]).get("Tags") or {}
        return found

    # -- one function ----------------------------------------------------------------------

    def _instrument(self, config: Mapping[str, Any], tags: Mapping[str, str] | None, desired: Desired) -> Outcome:
        name = str(config["FunctionName"])
        skip = unsafe(config)
        if skip is not None:
            return Outcome(name, SKIPPED, skip.reason)
        try:
            layer = self._resolver.resolve(str(config["Runtime"]), architecture(config))
        except LookupError as error:
            return Outcome(name, SKIPPED, str(error.args[0]))
        variables, notes = desired.variables(name, tags)

        def plan(tags: Mapping[str, str] | None) -> Change | Skip:
            record: Record | None = None
            if tags is not None:
                try:
                    record = decode(tags)
                except RecordError as error:
                    if instrumented(config, self._resolver.owns):
                        return Skip(str(error))
            return plan_instrument(
                config, tags=tags, record=record, layer=layer, desired=variables, owns=self._resolver.owns, notes=notes
            )

        change = plan(tags)
        if isinstance(change, Change) and tags is None:
            if not change.changes_function:
                # Already as wanted: no call to read the record (idempotent reruns cost nothing).
                return Outcome(name, UNCHANGED, "already instrumented", change)
            change = plan(self._tags(config))
        return self._apply_instrument(config, change)

    def _apply_instrument(self, config: Mapping[str, Any], change: Change | Skip) -> Outcome:
        name = str(config["FunctionName"])
        if isinstance(change, Skip):
            return Outcome(name, SKIPPED, change.reason)
        if change.empty:
            return Outcome(name, UNCHANGED, "already instrumented", change)
        if self._dry_run:
            return Outcome(name, WOULD_CHANGE, "", change)
        arn = config["FunctionArn"]
        if change.record_tags:
            self._client.tag_resource(Resource=arn, Tags=dict(change.record_tags))
        self._update(config, change)
        if change.untag:
            self._client.untag_resource(Resource=arn, TagKeys=list(change.untag))
        return Outcome(name, INSTRUMENTED if change.changes_function else UNCHANGED, "", change)

    def _uninstrument(self, config: Mapping[str, Any], tags: Mapping[str, str] | None) -> Outcome:
        name = str(config["FunctionName"])
        if not instrumented(config, self._resolver.owns):
            return Outcome(name, UNCHANGED, "not instrumented")
        if tags is None:
            tags = self._tags(config)
        try:
            record = decode(tags)
        except RecordError as error:
            return Outcome(name, SKIPPED, str(error))
        if record is None:
            return Outcome(name, SKIPPED, "instrumented without a rollout record (by hand?): left as it is")
        change = plan_uninstrument(config, tags, record)
        if isinstance(change, Skip):
            return Outcome(name, SKIPPED, change.reason)
        if self._dry_run:
            return Outcome(name, WOULD_CHANGE, "", change)
        self._update(config, change)
        if change.untag:
            self._client.untag_resource(Resource=config["FunctionArn"], TagKeys=list(change.untag))
        return Outcome(name, RESTORED, "", change)

    def _update(self, config: Mapping[str, Any], change: Change) -> None:
        if not change.changes_function:
            return
        params: dict[str, Any] = {"FunctionName": config["FunctionArn"]}
        if change.layers_after != change.layers_before:
            params["Layers"] = list(change.layers_after)
        if dict(change.env_after) != dict(change.env_before):
            params["Environment"] = {"Variables": dict(change.env_after)}
        if config.get("RevisionId"):
            # Lambda refuses the update if the function changed since it was read (no lost update).
            params["RevisionId"] = config["RevisionId"]
        self._client.update_function_configuration(**params)


def done_count(outcomes: Iterable[Outcome]) -> int:
    return sum(1 for outcome in outcomes if outcome.done)
