"""CodePipeline actions and CodeDeploy lifecycle hooks: a deployment step runs the function.

A CodePipeline job carries temporary artifact credentials: only its id is read.
"""

from __future__ import annotations

from typing import Any

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base


def detect(event: Any, context: Any) -> base.Trigger | None:
    job = base.text(base.mapping(event, "CodePipeline.job"), "id", 128)
    if job is not None:
        return base.Trigger(name="codepipeline", faas_trigger=base.OTHER, attributes={attr.CODEPIPELINE_JOB_ID: job})
    deployment = base.text(event, "DeploymentId", 128)
    hook = base.text(event, "LifecycleEventHookExecutionId", 1024)
    if deployment is None or hook is None:
        return None
    return base.Trigger(
        name="codedeploy", faas_trigger=base.OTHER, attributes={attr.CODEDEPLOY_DEPLOYMENT_ID: deployment}
    )
