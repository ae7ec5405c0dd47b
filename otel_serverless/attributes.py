"""Attribute names: the OpenTelemetry semantic conventions we use, and our own.

Standard keys come from the semantic conventions (FaaS, messaging, cloud, HTTP).
Where they have nothing, our own attributes live under the single prefix
``serverless.``, defined here and nowhere else, so that a query in Jaeger
(``serverless.retry=true``) finds them all the same way.
"""

from __future__ import annotations

from typing import Final

PREFIX: Final = "serverless."

# -- standard (semantic conventions) ------------------------------------------
CLOUD_PROVIDER: Final = "cloud.provider"
CLOUD_PLATFORM: Final = "cloud.platform"
CLOUD_REGION: Final = "cloud.region"
CLOUD_ACCOUNT_ID: Final = "cloud.account.id"
CLOUD_RESOURCE_ID: Final = "cloud.resource_id"
FAAS_NAME: Final = "faas.name"
FAAS_VERSION: Final = "faas.version"
FAAS_INSTANCE: Final = "faas.instance"
FAAS_MAX_MEMORY: Final = "faas.max_memory"
AWS_LOG_GROUP_NAMES: Final = "aws.log.group.names"
SERVICE_NAME: Final = "service.name"

# -- ours: pipeline health -----------------------------------------------------
#: Spans dropped because the export queue was full (on the next exported span).
EXPORT_DROPPED: Final = PREFIX + "export.dropped_spans"
