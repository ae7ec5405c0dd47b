"""A fleet of Lambda functions in moto, of every kind ``rollout`` meets, and what it should do with each.

Each kind: how the function is created, and the outcome instrument must reach (a skip
reason's start, or None when the function is instrumentable). Used by the tests and
the benchmark.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ROLE = "rollout-test-role"
OTHER_LAYERS = ("shared-utils", "pandas-lite", "auth-helpers", "secrets-ext", "powertools")


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def fn(event, context):\n    return {'ok': True}\n")
    return buffer.getvalue()


def layer_zip() -> bytes:
    """A minimal zip shaped like ours (the wrapper and the package), without wheels."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("otel-serverless-handler", '#!/bin/sh\nexec "$@"\n')
        archive.writestr("python/otel_serverless/__init__.py", "")
    return buffer.getvalue()


@dataclass(frozen=True)
class Kind:
    name: str
    count: int
    runtime: str | None = "python3.12"
    arch: str = "x86_64"
    layers: int = 0
    env: Mapping[str, str] = field(default_factory=dict)
    image: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    #: None: instrumentable; otherwise the start of the reason it is skipped.
    skip: str | None = None


BIG = {f"CONFIG_{i:02d}": "x" * 183 for i in range(20)}  # 3,961 bytes: fine alone, over 4 KB with ours
MANY_TAGS = {f"cost-{i:02d}": "x" for i in range(50)}  # Lambda's limit: no room for the record

KINDS = (
    Kind("plain312", 60),
    Kind("arm311", 30, runtime="python3.11", arch="arm64", env={"LOG_LEVEL": "INFO", "TABLE": "orders"}),
    Kind("layered313", 20, runtime="python3.13", layers=2, env={"A": "1"}),
    Kind("four-layers", 10, layers=4),
    Kind("preset-otel", 10, env={"OTEL_SERVICE_NAME": "legacy", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://old:4318"}),
    Kind("team-a", 10, tags={"team": "a", "service": "checkout"}),
    Kind("five-layers", 10, layers=5, skip="5 layers already"),
    Kind("node", 25, runtime="nodejs20.x", skip="runtime nodejs20.x is not Python"),
    Kind("java", 10, runtime="java21", skip="runtime java21 is not Python"),
    Kind("old-python", 10, runtime="python3.9", skip="runtime python3.9: the layer needs Python 3.10"),
    Kind("image", 10, runtime=None, image=True, skip="container image"),
    Kind("other-wrapper", 10, env={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument"}, skip="another exec wrapper"),
    Kind("big-env", 10, env=BIG, skip="environment would be"),
    Kind("no-layer-310", 5, runtime="python3.10", skip="no layer otel-serverless-python310-x86_64"),
    Kind("many-tags", 5, tags=MANY_TAGS, skip="no room for the rollout record"),
)

#: Our layers published in the fleet's region (3.10 deliberately missing).
OUR_LAYERS = (("3.11", "arm64"), ("3.12", "x86_64"), ("3.13", "x86_64"))


def function_name(kind: Kind, index: int) -> str:
    return f"{kind.name}-{index:03d}"


def kind_of(name: str) -> Kind:
    return next(kind for kind in KINDS if name.rsplit("-", 1)[0] == kind.name)


def deploy(lambda_client: Any, iam_client: Any, kinds: tuple[Kind, ...] = KINDS, scale: int = 1) -> dict[str, str]:
    """Create the other layers and every function (``count * scale`` of each kind); return {name: arn}."""
    role = iam_client.create_role(RoleName=ACCOUNT_ROLE, AssumeRolePolicyDocument=json.dumps({}))["Role"]["Arn"]
    others = [
        lambda_client.publish_layer_version(LayerName=name, Content={"ZipFile": code_zip()})["LayerVersionArn"]
        for name in OTHER_LAYERS
    ]
    code = code_zip()
    made: dict[str, str] = {}
    for kind in kinds:
        for index in range(kind.count * scale):
            name = function_name(kind, index)
            spec: dict[str, Any] = {"FunctionName": name, "Role": role, "Architectures": [kind.arch]}
            if kind.image:
                spec.update(
                    PackageType="Image", Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"}
                )
            else:
                spec.update(Runtime=kind.runtime, Handler="handler.fn", Code={"ZipFile": code})
            if kind.layers:
                spec["Layers"] = others[: kind.layers]
            if kind.env:
                spec["Environment"] = {"Variables": dict(kind.env)}
            if kind.tags:
                spec["Tags"] = dict(kind.tags)
            made[name] = lambda_client.create_function(**spec)["FunctionArn"]
    return made


def snapshot(lambda_client: Any, names: list[str]) -> dict[str, str]:
    """Each function's GetFunctionConfiguration and tags, as canonical JSON (byte-for-byte comparison)."""
    found: dict[str, str] = {}
    for name in names:
        config = lambda_client.get_function_configuration(FunctionName=name)
        config.pop("ResponseMetadata", None)
        tags = lambda_client.list_tags(Resource=config["FunctionArn"]).get("Tags", {})
        found[name] = json.dumps({"configuration": config, "tags": tags}, default=str)
    return found
