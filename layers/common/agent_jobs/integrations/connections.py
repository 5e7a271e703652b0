"""Sending a frame to one WebSocket connection through API Gateway's management API (``post_to_connection``).

In the cloud the endpoint is the WebSocket stage's callback URL; locally it is the gateway, which serves the same
``/@connections/{id}`` API for the connections it holds. Both answer 410 (GoneException) for a closed one.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from agent_jobs.settings import get_settings

_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})


@cache
def _client(endpoint_url: str) -> Any:
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=endpoint_url, region_name=get_settings().aws_region, config=_CONFIG
    )


def enabled() -> bool:
    return bool(get_settings().realtime_callback_url)


def post(connection_id: str, data: bytes) -> bool:
    """Sends ``data`` as one text frame; False when the connection is gone (the caller forgets it)."""
    endpoint = get_settings().realtime_callback_url
    if not endpoint:
        return False
    client = _client(endpoint)
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data)
    except client.exceptions.GoneException:
        return False
    return True
