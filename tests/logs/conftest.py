"""The handler wrapper's fixtures: a fresh execution environment per test, and a pipeline."""

from tests.aws_lambda.conftest import _fresh_environment, pipeline

__all__ = ["_fresh_environment", "pipeline"]
