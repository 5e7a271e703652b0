"""The example agents in the local stack: their server on loopback, each agent registered through the real
admin API of the gateway (``POST /api/admin/agents`` with an admin token), as an operator would."""

from __future__ import annotations

from typing import Any

import httpx

from examples.agents.definitions import AGENTS
from examples.agents.server import AgentServer, new_secrets


class RegistrationError(RuntimeError):
    pass


def start_agents(port: int) -> AgentServer:
    return AgentServer(new_secrets(), port=port).start()


def register_agents(server: AgentServer, api_url: str, admin_token: str) -> list[dict[str, Any]]:
    """Registers every example agent; returns the registry's answers (no secrets in them)."""
    registered = []
    headers = {"authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30.0, trust_env=False) as client:
        for agent in AGENTS:
            body = agent.registration(server.endpoint(agent.job_type), server.secret(agent.job_type))
            response = client.post("/api/admin/agents", json=body)
            if response.status_code != 201:
                raise RegistrationError(
                    f"registering {agent.name!r} failed: HTTP {response.status_code} {response.text[:500]}"
                )
            registered.append(response.json().get("agent", {}))
    return registered
