"""Read Blog Posts: HTTP API → reader → DynamoDB and a slow "external API".

Plain handler, no tracing code.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

from otel_serverless.demo import resources as r
from otel_serverless.demo.posts_upload import _client

RECOMMENDATIONS_URL = "BLOG_DEMO_RECOMMENDATIONS_URL"


def read(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """GET /posts/{id}: the post's statistics plus recommendations from a slow partner API."""
    post_id = (event.get("pathParameters") or {}).get("id", "")
    item = _client("dynamodb").get_item(TableName=r.STATS_TABLE, Key={"post_id": {"S": post_id}}).get("Item")
    if item is None:
        return {"statusCode": 404, "body": json.dumps({"error": "no such post"})}
    slow = "1" if r.fault_on("timeout") else "0"
    url = f"{os.environ[RECOMMENDATIONS_URL]}?post={post_id}&slow={slow}"
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - a local demo URL
        recommendations = json.loads(response.read())
    stats = {k: v.get("N") for k, v in item.items() if k != "post_id"}
    return {"statusCode": 200, "body": json.dumps({"post_id": post_id, "stats": stats, **recommendations})}
