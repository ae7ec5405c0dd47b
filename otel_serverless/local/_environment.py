"""The process environment the handlers' boto3 sees while the runtime runs, restored afterwards.

Handlers run in this process, so the variables are process-wide: every plain
``boto3.client(...)`` talks real HTTP to the local servers and to nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def aws_variables(moto_endpoint: str, local_endpoint: str, region: str) -> dict[str, str | None]:
    """The variables to set (a value) or remove (None)."""
    return {
        "AWS_ENDPOINT_URL": moto_endpoint,
        # Services moto cannot run locally without Docker are served by the runtime itself.
        "AWS_ENDPOINT_URL_LAMBDA": local_endpoint,
        "AWS_ENDPOINT_URL_SFN": local_endpoint,
        # StartSyncExecution would otherwise go to "sync-127.0.0.1", which does not resolve.
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        # Nothing from the developer's machine or an instance metadata service.
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class EnvironmentPatch:
    """Set variables now; put back exactly what was there on :meth:`restore`."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def apply(self, variables: Mapping[str, str | None]) -> None:
        for name, value in variables.items():
            if name not in self._saved:
                self._saved[name] = os.environ.get(name)
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()
