"""Fixtures: moto (server mode) behind the paging/throttling proxy, and a fleet of functions in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from otel_serverless.rollout.publish import publish
from tests.rollout import fleet
from tests.rollout.lambda_proxy import LambdaProxy, running


@pytest.fixture
def proxy(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaProxy]:
    """The proxy in front of a clean moto; the rollout commands reach AWS through it."""
    with running(aws) as found:
        monkeypatch.setenv("AWS_ENDPOINT_URL", found.endpoint)
        yield found


@pytest.fixture
def lam(aws: str) -> Any:
    """A boto3 Lambda client straight to moto (for setting up and checking, not through the proxy)."""
    return boto3.client("lambda", endpoint_url=aws)


def publish_ours(lam: Any, tmp_path: Path) -> dict[tuple[str, str], str]:
    """Our layer for each (python, arch) of the fleet, published with the command's own code."""
    zip_path = tmp_path / "layer.zip"
    zip_path.write_bytes(fleet.layer_zip())
    return {(python, arch): publish(lam, zip_path, python, arch).arn for python, arch in fleet.OUR_LAYERS}


@pytest.fixture
def deployed(aws: str, lam: Any, proxy: LambdaProxy, tmp_path: Path) -> dict[str, str]:
    """The whole fleet (225 functions of every kind) and our layers; {function name: arn}."""
    made = fleet.deploy(lam, boto3.client("iam", endpoint_url=aws))
    publish_ours(lam, tmp_path)
    proxy.clear()
    return made
