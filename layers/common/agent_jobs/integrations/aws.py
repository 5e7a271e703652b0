"""boto3 clients made lazily, once per process, after moto (or the real endpoint) is in place."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3

from agent_jobs.settings import get_settings


@cache
def client(service: str) -> Any:
    settings = get_settings()
    return boto3.client(service, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)  # type: ignore[call-overload]
