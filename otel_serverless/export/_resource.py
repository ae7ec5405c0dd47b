"""Resource attributes of the Lambda execution environment, read from its variables.

Lambda sets these for every function (see the Lambda docs, "Defined runtime
environment variables"); outside Lambda the detector adds nothing. The account
id is not in the environment: it is known only from the invoked function ARN,
so the handler wrapper records it on the invocation span.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry.sdk.resources import Resource, ResourceDetector
from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr

_MIB = 1024 * 1024


def lambda_attributes(environ: Mapping[str, str] | None = None) -> dict[str, AttributeValue]:
    env = os.environ if environ is None else environ
    name = env.get("AWS_LAMBDA_FUNCTION_NAME")
    if not name:
        return {}
    found: dict[str, AttributeValue] = {
        attr.CLOUD_PROVIDER: "aws",
        attr.CLOUD_PLATFORM: "aws_lambda",
        attr.FAAS_NAME: name,
    }
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        found[attr.CLOUD_REGION] = region
    if version := env.get("AWS_LAMBDA_FUNCTION_VERSION"):
        found[attr.FAAS_VERSION] = version
    if instance := env.get("AWS_LAMBDA_LOG_STREAM_NAME"):
        found[attr.FAAS_INSTANCE] = instance
    if log_group := env.get("AWS_LAMBDA_LOG_GROUP_NAME"):
        found[attr.AWS_LOG_GROUP_NAMES] = (log_group,)
    memory = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    if memory.isdigit():
        # The convention wants bytes; Lambda gives MiB.
        found[attr.FAAS_MAX_MEMORY] = int(memory) * _MIB
    return found


_RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")


def sampling_attributes(environ: Mapping[str, str] | None = None) -> dict[str, AttributeValue]:
    """The configured head-sampling ratio, when the standard variables choose a ratio sampler.

    Read the way the SDK reads them: an argument that is not a number in [0, 1] means 1.0
    (everything kept, nothing to weigh).
    """
    env = os.environ if environ is None else environ
    if env.get("OTEL_TRACES_SAMPLER", "").strip().lower() not in _RATIO_SAMPLERS:
        return {}
    try:
        ratio = float(env.get("OTEL_TRACES_SAMPLER_ARG", "1.0"))
    except ValueError:
        return {}
    return {attr.SAMPLING_RATIO: ratio} if 0 < ratio < 1 else {}


class LambdaResourceDetector(ResourceDetector):
    """An OpenTelemetry resource detector for the Lambda execution environment."""

    def detect(self) -> Resource:
        return Resource(lambda_attributes())


def build_resource(service_name: str | None = None, environ: Mapping[str, str] | None = None) -> Resource:
    """Lambda attributes, then OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME over them.

    Without an explicit or standard service name, the function name is used, which
    is what a user looking for their function in Jaeger expects.
    """
    env = os.environ if environ is None else environ
    detected = lambda_attributes(env)
    base = Resource({**detected, **sampling_attributes(env)})
    standard = Resource.create({attr.SERVICE_NAME: service_name} if service_name else {})
    resource = base.merge(standard)
    has_standard_name = bool(service_name or env.get("OTEL_SERVICE_NAME")) or "service.name=" in env.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    if not has_standard_name and attr.FAAS_NAME in detected:
        resource = resource.merge(Resource({attr.SERVICE_NAME: detected[attr.FAAS_NAME]}))
    return resource
