"""Test-wide environment: fake credentials, no X-Ray, Powertools quiet, caches reset between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "AgentJobs",
        "POWERTOOLS_SERVICE_NAME": "agent-jobs",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("OPENAI_API_KEY", None)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    from agent_jobs.services import reset

    reset()
    yield
    reset()
