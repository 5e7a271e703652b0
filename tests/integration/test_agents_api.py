"""The agent registry API through the real handler on moto: admins write, users read ACTIVE agents, and the
signing secret never comes back out (DESIGN.md §2, §4, §5, §7)."""

from __future__ import annotations

import importlib.util
import json
import uuid
from typing import Any

import pytest

from agent_jobs.services import services
from tests.integration.conftest import Api, Reply
from tests.integration.test_jobs_api import PUBLIC_ENDPOINT, error_of

SCHEMA = {"type": "object", "properties": {"topic": {"type": "string"}}, "required": ["topic"]}
requires_ssrf_guard = pytest.mark.skipif(
    importlib.util.find_spec("agent_jobs.integrations.ssrf") is None,
    reason="the SSRF guard (agent_jobs/integrations/ssrf.py) is not written yet",
)


class Watched(Api):
    """An Api whose every reply is searched for the agents' secrets: none may appear, in any field."""

    def __init__(self, of: Api, secrets: list[str]) -> None:
        super().__init__(of.user, of.groups)
        self.secrets = secrets

    def new_secret(self) -> str:
        secret = f"s3cr3t-{uuid.uuid4().hex}"
        self.secrets.append(secret)
        return secret

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
        reply = super().call(method, path, body, **kwargs)
        text = json.dumps(reply.body) + json.dumps(reply.headers)
        assert not [secret for secret in self.secrets if secret in text], "a signing secret leaked"
        return reply


@pytest.fixture
def secrets() -> list[str]:
    return []


@pytest.fixture
def user(api: Api, secrets: list[str]) -> Watched:
    return Watched(api, secrets)


@pytest.fixture
def root(admin: Api, secrets: list[str]) -> Watched:
    return Watched(admin, secrets)


def agent_body(root: Watched, **overrides: Any) -> dict[str, Any]:
    return {
        "name": f"agent-{uuid.uuid4().hex[:8]}",
        "description": "Summarises documents",
        "endpointUrl": PUBLIC_ENDPOINT,
        "secret": root.new_secret(),
        "jobTypes": ["simple-task"],
        "skills": ["summarise"],
        "inputSchema": SCHEMA,
        **overrides,
    }


def make_agent(root: Watched, **overrides: Any) -> dict[str, Any]:
    reply = root.post("/api/admin/agents", agent_body(root, **overrides))
    assert reply.status == 201, reply.body
    agent: dict[str, Any] = reply.body["agent"]
    return agent


def names(reply: Reply) -> set[str]:
    assert reply.status == 200, reply.body
    return {agent["name"] for agent in reply.body["agents"]}


def test_admin_registers_an_agent(root: Watched) -> None:
    body = agent_body(root, timeoutSeconds=12, outputSchema={"type": "object"})
    reply = root.post("/api/admin/agents", body)
    assert reply.status == 201, reply.body
    assert reply.body["success"] is True
    agent = reply.body["agent"]
    assert "secret" not in agent
    for field in ("name", "description", "endpointUrl", "jobTypes", "skills", "inputSchema", "outputSchema"):
        assert agent[field] == body[field], field
    assert (agent["status"], agent["timeoutSeconds"]) == ("ACTIVE", 12)
    got = root.get(f"/api/agents/{agent['id']}")
    assert got.status == 200 and got.body["agent"] == agent
    # stored: the secret is kept (to sign calls), only never shown
    stored = services().agents.get(agent["id"])
    assert stored is not None and stored.secret == body["secret"]


def test_default_timeout_comes_from_the_settings(root: Watched) -> None:
    agent = make_agent(root)
    assert agent["timeoutSeconds"] == services().settings.agent_default_timeout_seconds


def test_users_see_active_agents_and_admins_see_all(user: Watched, root: Watched) -> None:
    active, retired = make_agent(root), make_agent(root)
    gone = root.delete(f"/api/admin/agents/{retired['id']}")
    assert gone.status == 200 and gone.body["agent"]["status"] == "INACTIVE"

    assert names(user.get("/api/agents")) == {active["name"]}
    assert names(root.get("/api/agents")) == {active["name"]}
    everything = root.get("/api/admin/agents")
    assert names(everything) == {active["name"], retired["name"]}
    assert {a["name"]: a["status"] for a in everything.body["agents"]} == {
        active["name"]: "ACTIVE",
        retired["name"]: "INACTIVE",
    }
    assert error_of(user.get(f"/api/agents/{retired['id']}"), 404)
    assert root.get(f"/api/agents/{retired['id']}").status == 200
    assert user.get(f"/api/agents/{active['id']}").status == 200


def test_put_updates_only_what_it_names(user: Watched, root: Watched) -> None:
    agent = make_agent(root)
    reply = root.put(f"/api/admin/agents/{agent['id']}", {"description": "Now in French"})
    assert reply.status == 200, reply.body
    updated = reply.body["agent"]
    assert updated["description"] == "Now in French"
    unchanged = {k: v for k, v in agent.items() if k not in ("description", "updatedAt")}
    assert {k: updated[k] for k in unchanged} == unchanged
    assert updated["updatedAt"] >= agent["updatedAt"]
    assert root.get(f"/api/agents/{agent['id']}").body["agent"] == updated  # stored, not only echoed

    again = {"jobTypes": ["code-generation"], "timeoutSeconds": 5, "inputSchema": {"type": "object"}}
    reply = root.put(f"/api/admin/agents/{agent['id']}", again)
    assert reply.status == 200, reply.body
    stored = root.get(f"/api/agents/{agent['id']}").body["agent"]
    assert (stored["jobTypes"], stored["timeoutSeconds"], stored["inputSchema"]) == (
        ["code-generation"],
        5,
        {"type": "object"},
    )
    assert stored["description"] == "Now in French"


def test_rotating_the_secret_never_echoes_it(root: Watched) -> None:
    agent = make_agent(root)
    new_secret = root.new_secret()
    reply = root.put(f"/api/admin/agents/{agent['id']}", {"secret": new_secret})
    assert reply.status == 200 and "secret" not in reply.body["agent"]
    stored = services().agents.get(agent["id"])
    assert stored is not None and stored.secret == new_secret
    for path in ("/api/admin/agents", f"/api/agents/{agent['id']}"):  # read back: the watch checks each reply
        assert root.get(path).status == 200


def test_delete_deactivates_and_keeps_the_record(root: Watched) -> None:
    agent = make_agent(root)
    reply = root.delete(f"/api/admin/agents/{agent['id']}")
    assert reply.status == 200, reply.body
    assert reply.body["agent"]["status"] == "INACTIVE"
    stored = root.get(f"/api/agents/{agent['id']}").body["agent"]
    assert stored["status"] == "INACTIVE" and stored["name"] == agent["name"]
    back = root.put(f"/api/admin/agents/{agent['id']}", {"status": "ACTIVE"})
    assert back.status == 200 and back.body["agent"]["status"] == "ACTIVE"


def test_unknown_agents_are_404(root: Watched) -> None:
    assert error_of(root.put("/api/admin/agents/nope", {"description": "x"}), 404)
    assert error_of(root.delete("/api/admin/agents/nope"), 404)
    assert error_of(root.get("/api/agents/nope"), 404)


def test_users_cannot_write(user: Watched, root: Watched) -> None:
    agent = make_agent(root)
    attempts = [
        user.post("/api/admin/agents", agent_body(root)),
        user.put(f"/api/admin/agents/{agent['id']}", {"endpointUrl": "https://93.184.215.15/evil"}),
        user.delete(f"/api/admin/agents/{agent['id']}"),
        user.get("/api/admin/agents"),
    ]
    for reply in attempts:
        assert error_of(reply, 403)["code"] == "FORBIDDEN"
    assert root.get(f"/api/agents/{agent['id']}").body["agent"] == agent
    assert len(root.get("/api/admin/agents").body["agents"]) == 1


CARD = {"id", "name", "description", "skills", "jobTypes", "inputSchema", "outputSchema"}


def test_users_see_an_agents_card_and_admins_see_all_but_the_secret(user: Watched, root: Watched) -> None:
    """Issue 12 item 13: an endpoint URL (its query string may carry a token), timeout and status are the
    admins' business; a user sees what picking an agent needs."""
    agent = make_agent(root, endpointUrl=f"{PUBLIC_ENDPOINT}?token=do-not-show", outputSchema={"type": "object"})
    for reply in (user.get("/api/agents"), user.get(f"/api/agents/{agent['id']}")):
        assert reply.status == 200, reply.body
        seen = reply.body["agents"][0] if "agents" in reply.body else reply.body["agent"]
        assert set(seen) == CARD, reply.body
        assert {k: seen[k] for k in CARD} == {k: agent[k] for k in CARD}
        assert "do-not-show" not in json.dumps(reply.body)
    for reply in (root.get("/api/agents"), root.get(f"/api/agents/{agent['id']}"), root.get("/api/admin/agents")):
        seen = reply.body["agents"][0] if "agents" in reply.body else reply.body["agent"]
        assert seen == agent and seen["endpointUrl"].endswith("?token=do-not-show")
        assert "secret" not in seen


def test_bad_agent_bodies_are_400_naming_the_field(root: Watched) -> None:
    cases = [
        ({"secret": "too-short"}, "secret"),
        ({"jobTypes": ["Not A Type"]}, "jobTypes"),
        ({"timeoutSeconds": 0}, "timeoutSeconds"),
        ({"timeoutSeconds": 1000}, "timeoutSeconds"),
        ({"inputSchema": {"type": "no-such-type"}}, "inputSchema"),
        ({"name": ""}, "name"),
        ({"status": "RETIRED"}, "status"),
        ({"owner": "me"}, "owner"),
    ]
    for change, field in cases:
        error = error_of(root.post("/api/admin/agents", agent_body(root, **change)), 400)
        assert error["field"] == field, (change, error)
    agent = make_agent(root)
    assert error_of(root.put(f"/api/admin/agents/{agent['id']}", {"timeoutSeconds": -1}), 400)["field"] == (
        "timeoutSeconds"
    )
    assert error_of(root.put(f"/api/admin/agents/{agent['id']}", raw="{nope"), 400)["field"] == "body"
    assert len(root.get("/api/admin/agents").body["agents"]) == 1  # nothing half-written


INSIDE_URLS = [
    "https://10.0.0.1/x",
    "http://169.254.169.254/",
    "https://169.254.169.254/latest/meta-data/",
    "https://127.0.0.1/agent",
    "https://[::1]/agent",
    "https://[::ffff:192.168.0.1]/agent",
    "http://93.184.215.14/agent",  # public, but not https
    "file:///etc/passwd",
]


@requires_ssrf_guard
def test_endpoints_must_be_public_https(root: Watched) -> None:
    for url in INSIDE_URLS:
        error = error_of(root.post("/api/admin/agents", agent_body(root, endpointUrl=url)), 400)
        assert error["field"] == "endpointUrl", (url, error)
    assert root.get("/api/admin/agents").body["agents"] == []


@requires_ssrf_guard
def test_an_update_cannot_point_an_agent_inside(root: Watched) -> None:
    agent = make_agent(root)
    for url in ("https://10.0.0.1/x", "http://169.254.169.254/"):
        reply = root.put(f"/api/admin/agents/{agent['id']}", {"endpointUrl": url})
        assert error_of(reply, 400)["field"] == "endpointUrl"
    assert root.get(f"/api/agents/{agent['id']}").body["agent"]["endpointUrl"] == PUBLIC_ENDPOINT
