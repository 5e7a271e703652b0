"""The example agents in the local stack: their server on loopback, each agent registered through the real
admin API of the gateway (``POST /api/admin/agents`` with an admin token), as an operator would.

The async example agent calls back to the gateway: registering the agents also makes the gateway's URL the
handlers' public base URL (``PUBLIC_API_URL``, the API's own URL in the cloud), so the execute step puts
``<gateway>/api/agent-callbacks/{jobId}/{attempt}`` in every request's ``callbackUrl``."""

from __future__ import annotations

import os
from typing import Any

import httpx

from examples.agents.definitions import AGENTS
from examples.agents.server import AgentServer, new_secrets
from local.config import agent_time_scale

PUBLIC_API_URL = "PUBLIC_API_URL"


class RegistrationError(RuntimeError):
    pass


def start_agents(port: int) -> AgentServer:
    return AgentServer(new_secrets(), port=port, time_scale=agent_time_scale()).start()


def point_callbacks_at(api_url: str) -> None:
    """The handlers' public base URL becomes the gateway's (they read it from the environment, as in the cloud);
    the settings are read again from now on."""
    from agent_jobs.services import reset

    os.environ[PUBLIC_API_URL] = api_url
    reset()


def register_agents(server: AgentServer, api_url: str, admin_token: str) -> list[dict[str, Any]]:
    """Registers every example agent; returns the registry's answers (no secrets in them)."""
    point_callbacks_at(api_url)
    registered = []
    headers = {"authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30.0, trust_env=False) as client:
        for agent in AGENTS:
            endpoint, secret = server.endpoint(agent.job_type), server.secret(agent.job_type)
            body = agent.registration(endpoint, secret, time_scale=server.time_scale)
            response = client.post("/api/admin/agents", json=body)
            if response.status_code != 201:
                raise RegistrationError(
                    f"registering {agent.name!r} failed: HTTP {response.status_code} {response.text[:500]}"
                )
            registered.append(response.json().get("agent", {}))
    return registered
