"""What a person reads after a rollout: each change (dry run), a summary table, what was not done."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from otel_serverless.rollout._plan import SECRET_NAME, Change
from otel_serverless.rollout._run import Report


def _shown(key: str, value: str | None) -> str:
    if value is None:
        return "(unset)"
    if SECRET_NAME.search(key):
        return f"*** ({len(value)} characters)"
    return repr(value) if value == "" or value != value.strip() else value


def describe_change(function: str, change: Change) -> list[str]:
    """The exact change to one function, line by line (secret-looking values masked)."""
    lines = [function]
    if change.layers_after != change.layers_before:
        lines.append("  layers:")
        before, after = set(change.layers_before), set(change.layers_after)
        for arn in change.layers_after:
            lines.append(f"    {'=' if arn in before else '+'} {arn}")
        lines.extend(f"    - {arn}" for arn in change.layers_before if arn not in after)
    env_before, env_after = change.env_before, change.env_after
    changed = [key for key in dict.fromkeys([*env_before, *env_after]) if env_before.get(key) != env_after.get(key)]
    if changed:
        lines.append("  environment:")
        for key in changed:
            old, new = env_before.get(key), env_after.get(key)
            if old is None:
                lines.append(f"    + {key}={_shown(key, new)}")
            elif new is None:
                lines.append(f"    - {key} (was {_shown(key, old)})")
            else:
                lines.append(f"    ~ {key}: {_shown(key, old)} -> {_shown(key, new)}")
        kept = len([key for key in env_before if key not in changed])
        if kept:
            lines.append(f"    ({kept} other variable{'s' if kept != 1 else ''} unchanged)")
    if change.record_tags:
        lines.append(f"  rollout record: {len(change.record_tags)} tag(s) otel-serverless:rollout…")
    if change.untag:
        lines.append(f"  rollout record removed: {len(change.untag)} tag(s)")
    lines.extend(f"  note: {note}" for note in change.notes)
    return lines


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], right: Iterable[int] = ()) -> list[str]:
    """A plain text table; columns listed in *right* are right-aligned (numbers)."""
    text = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(header)] + [len(row[index]) for row in text]) for index, header in enumerate(headers)]
    aligned = set(right)

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[index]) if index in aligned else cell.ljust(widths[index])
            for index, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    return [line(headers), line(["-" * width for width in widths]), *(line(row) for row in text)]


def summary(report: Report, region: str | None) -> list[str]:
    outcomes = report.outcomes
    title = f"rollout {report.action}{' (dry run)' if report.dry_run else ''}"
    where = f" in {region}" if region else ""
    if not outcomes:
        return [f"{title}: no function matched{where}"]
    lines = [f"{title}: {len(outcomes)} function{'s' if len(outcomes) != 1 else ''} matched{where}", ""]
    groups: Counter[tuple[str, str]] = Counter()
    for outcome in outcomes:
        # Group failures by their kind, not by each message (which may name the function).
        reason = outcome.reason.split(":", 1)[0] if outcome.status == "failed" else outcome.reason
        groups[outcome.status, reason] += 1
    order = ["instrumented", "restored", "would change", "unchanged", "skipped", "failed"]
    rows = sorted(groups.items(), key=lambda item: (order.index(item[0][0]), -item[1], item[0][1]))
    lines += table(["outcome", "reason", "functions"], [(s, r, n) for (s, r), n in rows], right=[2])
    missed = [outcome for outcome in outcomes if not outcome.done]
    if missed:
        lines += ["", f"not done ({len(missed)}):"]
        lines += table(["function", "outcome", "reason"], [(o.function, o.status, o.reason) for o in missed])
    calls = report.calls
    per = calls.total / len(outcomes)
    lines += [
        "",
        f"{calls.total} API calls ({per:.2f} per function), {calls.retries} retried after throttling or errors; "
        f"{report.seconds:.1f} s",
    ]
    done = len(outcomes) - len(missed)
    verdict = "all done" if not missed else f"{done} of {len(outcomes)} done"
    lines.append(f"{verdict}{': run again after fixing the reasons above' if missed else ''}")
    return lines
