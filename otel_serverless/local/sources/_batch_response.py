"""Lambda's partial batch response (``batchItemFailures``), read with AWS's exact rules.

AWS treats the batch as a complete success for a null or empty response and for a
null or empty ``batchItemFailures``; as a complete failure for anything
malformed: not a JSON object, ``batchItemFailures`` not a list, an entry without
a non-empty string ``itemIdentifier``, or an identifier that is not in the batch.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any


def failed_identifiers(response: Any, batch: Collection[str]) -> list[str] | None:
    """The identifiers to retry (empty: all succeeded); None when the whole batch failed."""
    if response is None or response in ("", {}):
        return []
    failures = response.get("batchItemFailures") if isinstance(response, Mapping) else ()
    if failures is None or failures == []:
        return []
    if not isinstance(failures, list):
        return None
    identifiers = [failure.get("itemIdentifier") if isinstance(failure, Mapping) else None for failure in failures]
    if not all(isinstance(identifier, str) and identifier in batch for identifier in identifiers):
        return None
    return [str(identifier) for identifier in identifiers]
