"""The registry on the local stack (issue 18): an A2A card imported by URL through the gateway becomes an agent
whose onboarding check — a real signed call — passes; an agent whose check fails is never auto-assigned."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import job, wait_for
from tests.fixtures.agent_server import AgentServer
from tests.fixtures.card_server import CardServer
from tests.integration.test_registry import SECRET, a2a_card

pytestmark = pytest.mark.e2e


def test_a_card_imported_by_url_is_checked_with_a_signed_call(admin: httpx.Client) -> None:
    with AgentServer(secret=SECRET) as agent, CardServer(a2a_card(agent.url("/fast"))) as cards:
        reply = admin.post(
            "/api/admin/agents/import",
            json={"cardUrl": cards.url("/card"), "secret": SECRET, "jobTypes": ["e2e-imported"]},
        )
        assert reply.status_code == 201, reply.text
        imported = reply.json()["agent"]
        assert imported["name"] == "Weather Reporter" and imported["endpointUrl"] == agent.url("/fast")
        assert imported["check"]["passed"] is True, imported["check"]
        assert len(agent.checks) == 1  # the probe reached the agent, signed with its secret (the server verifies)
        assert cards.hits == ["/card"]
        audit = admin.get("/api/admin/audit").json()["entries"]
        assert any(entry["target"] == f"agent:{imported['id']}" for entry in audit)


def test_an_agent_whose_check_failed_is_not_auto_assigned(admin: httpx.Client, user: httpx.Client) -> None:
    with AgentServer(secret=SECRET) as agent:
        body = {
            "name": "wrong secret",
            "endpointUrl": agent.url("/fast"),
            "secret": "not-this-agents-secret-0000",
            "jobTypes": ["e2e-onboarding"],
        }
        registered = admin.post("/api/admin/agents", json=body)
        assert registered.status_code == 201, registered.text
        check = registered.json()["agent"]["check"]
        assert check["passed"] is False and "401" in check["reason"]

        created = user.post("/api/jobs", json={"jobType": "e2e-onboarding", "taskDescription": "Nobody may take it"})
        assert created.status_code == 201, created.text
        job_id = created.json()["job"]["id"]
        logs = wait_for(
            lambda: [log for log in job(user, job_id)["logs"] if log["status"] == "MATCHING_FAILED"] or None,
            "auto-assign to give up",
        )
        assert logs and job(user, job_id)["job"]["status"] == "PENDING"
        assert agent.requests == []  # no job call ever reached the agent that failed its check
