"""Names of the demo's AWS resources, shared by the handlers and the topology."""

from __future__ import annotations

import os
from typing import Final

POSTS_BUCKET: Final = "blog-posts"
POSTS_TABLE: Final = "blog-posts"
STATS_TABLE: Final = "blog-post-stats"
FEED_TABLE: Final = "blog-feed"
UPLOADED_TOPIC: Final = "post-uploaded"
WORDS_QUEUE: Final = "analysis-words"
SENTIMENT_QUEUE: Final = "analysis-sentiment"
REANALYSIS_QUEUE: Final = "reanalysis"
STATS_STREAM: Final = "post-stats"
EVENT_BUS: Final = "blog"
REPORT_STATE_MACHINE: Final = "post-report"

FAULTS_VARIABLE: Final = "BLOG_DEMO_FAULTS"
#: Every fault the demo can inject, by the name its flag uses.
FAULTS: Final = ("contract", "intermittent", "timeout", "memory")


def fault_on(name: str) -> bool:
    """Whether a fault is switched on for this run (plain app configuration, no tracing)."""
    return name in os.environ.get(FAULTS_VARIABLE, "").split(",")
