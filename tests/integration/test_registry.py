# ruff: noqa: F811 - the workers fixture is imported from test_operations and requested by name
"""Issue 18: the registry's trust routes through the real handlers on moto, with real local agent, judge and
A2A card servers — onboarding checks (and the auto-assign rule they feed), scorecards kept as jobs settle,
A2A card import through the SSRF guard, the ``maxConcurrency`` field, and the audit trail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from agent_jobs.repositories.tables import AgentScoreRecord
from agent_jobs.services import reset
from tests.fixtures.agent_server import AgentServer
from tests.fixtures.card_server import CardServer
from tests.fixtures.openai_server import OpenAICompatServer, Script, fail_reply, pass_reply
from tests.integration.conftest import Api, deliver, drain, run_queues
from tests.integration.test_operations import workers  # noqa: F401 - a pytest fixture used by name

SECRET = "whsec-registry-secret-0123456789"
INPUT_SCHEMA = {
    "type": "object",
    "required": ["topic", "count", "contact"],
    "properties": {
        "topic": {"type": "string", "minLength": 3},
        "count": {"type": "integer", "minimum": 2},
        "contact": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
OUTPUT_SCHEMA = {"type": "object", "required": ["result"], "properties": {"result": {"type": "object"}}}


@pytest.fixture
def agent_server() -> Iterator[AgentServer]:
    with AgentServer(secret=SECRET) as server:
        yield server


@pytest.fixture
def judge_script(request: pytest.FixtureRequest) -> Script:
    """Passes everything, unless a test gives its own replies (``indirect`` parametrization)."""
    return Script(getattr(request, "param", []), fallback=pass_reply())


@pytest.fixture
def judge_server(judge_script: Script) -> Iterator[OpenAICompatServer]:
    server = OpenAICompatServer(judge_script)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def local(aws: dict[str, str], judge_server: OpenAICompatServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in {
        "ALLOW_LOOPBACK_HTTP_AGENTS": "true",
        "AGENT_RETRY_BASE_SECONDS": "0.01",
        "OPENAI_BASE_URL": judge_server.base_url,
        "OPENAI_API_KEY": "test-key",
        "OPENAI_MAX_RETRIES": "0",
        "OPENAI_TIMEOUT_SECONDS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    reset()
    return aws


def register(admin: Api, url: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": overrides.pop("name", "echo"),
        "endpointUrl": url,
        "secret": SECRET,
        "jobTypes": ["simple-task"],
        "inputSchema": INPUT_SCHEMA,
        "outputSchema": OUTPUT_SCHEMA,
        "timeoutSeconds": 5,  # a loaded CI machine may take seconds to accept a loopback connection
        **overrides,
    }
    reply = admin.post("/api/admin/agents", body)
    assert reply.status == 201, reply.body
    return dict(reply.body["agent"])


def audit_entries(admin: Api, **query: str) -> list[dict[str, Any]]:
    reply = admin.get("/api/admin/audit", query=query or None)
    assert reply.status == 200, reply.body
    return list(reply.body["entries"])


# --- onboarding check ---------------------------------------------------------------------------------------
def test_registering_runs_a_signed_check_with_a_sample_input_and_stores_the_result(
    local: dict[str, str], admin: Api, agent_server: AgentServer
) -> None:
    agent = register(admin, agent_server.url("/fast"))

    check = agent["check"]
    assert check["passed"] is True and check["latencyMs"] > 0 and check["checkedAt"]
    assert "matches its outputSchema" in check["reason"]
    (probe,) = agent_server.checks
    assert probe.signature_ok is True  # signed with the agent's secret
    assert probe.body["check"] is True and probe.body["jobId"].startswith("check-")
    sample = probe.body["input"]  # made from the inputSchema: every required member, within its limits
    assert len(sample["topic"]) >= 3 and sample["count"] >= 2 and "@" in sample["contact"]
    assert agent_server.requests == []  # a check is not a job call
    stored = admin.get(f"/api/agents/{agent['id']}").body["agent"]
    assert stored["check"] == check  # stored on the agent, shown to admins
    assert "check" not in Api("bob").get(f"/api/agents/{agent['id']}").body["agent"]  # users see the card only


def test_a_failed_check_says_why_and_a_fixed_endpoint_passes_on_change(
    local: dict[str, str], admin: Api, agent_server: AgentServer
) -> None:
    agent = register(admin, agent_server.url("/offschema"))
    assert agent["check"]["passed"] is False
    assert "outputSchema" in agent["check"]["reason"] and agent["check"]["latencyMs"] is None

    changed = admin.put(f"/api/admin/agents/{agent['id']}", {"endpointUrl": agent_server.url("/fast")})
    assert changed.status == 200 and changed.body["agent"]["check"]["passed"] is True  # changing the endpoint re-checks
    assert len(agent_server.checks) == 2
    renamed = admin.put(f"/api/admin/agents/{agent['id']}", {"name": "renamed"})
    assert renamed.body["agent"]["check"]["passed"] is True and len(agent_server.checks) == 2  # a name is no reason

    on_demand = admin.post(f"/api/admin/agents/{agent['id']}/check")
    assert on_demand.status == 200 and on_demand.body["check"]["passed"] is True
    assert on_demand.body["agent"]["check"] == on_demand.body["check"]
    assert Api("bob").post(f"/api/admin/agents/{agent['id']}/check").status == 403
    assert admin.post("/api/admin/agents/nope/check").status == 404


@pytest.mark.parametrize(
    ("path", "why"),
    [("/garbage", "not JSON"), ("/hang", "timed out"), ("/status?code=500&times=9", "HTTP 500")],
)
def test_a_check_fails_for_an_agent_that_cannot_answer(
    local: dict[str, str], admin: Api, agent_server: AgentServer, path: str, why: str
) -> None:
    short = {"timeoutSeconds": 1} if path == "/hang" else {}  # only the hang needs to time out quickly
    agent = register(admin, agent_server.url(path), **short)
    assert agent["check"]["passed"] is False and why in agent["check"]["reason"], agent["check"]
    assert len(agent_server.checks) == 1  # one try: no retries for a probe


def test_a_wrong_secret_fails_the_check(local: dict[str, str], admin: Api, agent_server: AgentServer) -> None:
    agent = register(admin, agent_server.url("/fast"), secret="not-the-agents-secret-000")
    assert agent["check"]["passed"] is False and "HTTP 401" in agent["check"]["reason"]


def test_an_agent_whose_last_check_failed_is_not_auto_assigned(
    local: dict[str, str], api: Api, admin: Api, agent_server: AgentServer
) -> None:
    agent = register(admin, agent_server.url("/offschema"))
    job_input = {"topic": "weather", "count": 3, "contact": "a@b.example"}
    job = api.post("/api/jobs", {"description": "Summarise", "inputData": job_input}).body["job"]
    assert deliver(local["VALIDATE_QUEUE_URL"], "validate") == 1
    logs = api.get(f"/api/jobs/{job['id']}/logs").body["logs"]
    assert api.get(f"/api/jobs/{job['id']}").body["job"]["status"] == "PENDING"
    assert logs[-1]["status"] == "MATCHING_FAILED"

    assert admin.put(f"/api/admin/agents/{agent['id']}", {"endpointUrl": agent_server.url("/fast")}).status == 200
    assert api.post(f"/api/jobs/{job['id']}/auto-assign").status == 202
    assert deliver(local["VALIDATE_QUEUE_URL"], "validate") == 1
    assigned = api.get(f"/api/jobs/{job['id']}").body["job"]
    assert assigned["assignedAgentId"] == agent["id"]  # the check passed: it is assignable again


# --- maxConcurrency ----------------------------------------------------------------------------------------
def test_max_concurrency_is_an_agent_field(local: dict[str, str], admin: Api, agent_server: AgentServer) -> None:
    agent = register(admin, agent_server.url("/fast"), maxConcurrency=3)
    assert agent["maxConcurrency"] == 3
    assert admin.get(f"/api/agents/{agent['id']}").body["agent"]["maxConcurrency"] == 3  # stored
    changed = admin.put(f"/api/admin/agents/{agent['id']}", {"maxConcurrency": 7})
    assert changed.body["agent"]["maxConcurrency"] == 7
    for bad in (0, 1001, "3", 2.5):
        reply = admin.put(f"/api/admin/agents/{agent['id']}", {"maxConcurrency": bad})
        assert reply.status == 400 and reply.body["error"]["field"] == "maxConcurrency", bad
    assert register(admin, agent_server.url("/fast"))["maxConcurrency"] is None  # default: no per-agent limit


# --- scorecards --------------------------------------------------------------------------------------------
def _run_job(local: dict[str, str], api: Api, agent_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "description": "Summarise the input",
        "acceptanceCriteria": "The summary mentions the topic",
        "inputData": {"topic": "weather", "count": 2, "contact": "a@b.example"},
        "agentId": agent_id,
        **overrides,
    }
    created = api.post("/api/jobs", body)
    assert created.status == 201, created.body
    run_queues(local)
    return dict(api.get(f"/api/jobs/{created.body['job']['id']}").body["job"])


@pytest.mark.parametrize("judge_script", [[pass_reply(), fail_reply()]], indirect=True)
def test_the_scorecard_counts_settled_jobs_acceptance_latency_failures_and_usage(
    local: dict[str, str], api: Api, admin: Api, agent_server: AgentServer
) -> None:
    good = register(admin, agent_server.url("/fast"), name="good")
    bad = register(admin, agent_server.url("/garbage"), name="bad")
    assert _run_job(local, api, good["id"])["status"] == "COMPLETED"
    # the judge fails the next job's attempt 1 and passes its attempt 2
    assert _run_job(local, api, good["id"], maxAttempts=2)["status"] == "COMPLETED"
    assert _run_job(local, api, bad["id"])["status"] == "FAILED"

    card = admin.get(f"/api/admin/agents/{good['id']}/scorecard", query={"window": "24h"})
    assert card.status == 200, card.body
    figures = card.body["scorecard"]
    assert figures["agentId"] == good["id"] and figures["window"]["hours"] == 24
    assert (figures["jobs"], figures["attempts"], figures["accepted"]) == (2, 3, 2)
    assert figures["acceptanceRate"] == round(2 / 3, 3)
    assert figures["failures"] == {"judge_failed": 1}
    latency = figures["latencyMs"]
    assert latency["samples"] == 3 and latency["p50"] is not None and latency["p95"] >= latency["p50"]
    assert figures["usage"]["promptTokens"] > 0 and figures["usage"]["completionTokens"] > 0
    assert figures["allTime"]["judgedOutputs"] == 3

    failed = admin.get(f"/api/admin/agents/{bad['id']}/scorecard").body["scorecard"]
    assert (failed["jobs"], failed["attempts"], failed["accepted"]) == (1, 1, 0)
    assert failed["acceptanceRate"] == 0 and failed["failures"] == {"bad_output": 1}

    # bounded reads: one counter item per agent and hour, however many jobs settled
    assert AgentScoreRecord.count(good["id"]) == 1


def test_the_scorecard_checks_its_window_and_its_agent(
    local: dict[str, str], admin: Api, agent_server: AgentServer
) -> None:
    agent = register(admin, agent_server.url("/fast"))
    empty = admin.get(f"/api/admin/agents/{agent['id']}/scorecard", query={"window": "7d"}).body["scorecard"]
    assert empty["window"]["hours"] == 168 and empty["attempts"] == 0 and empty["acceptanceRate"] is None
    for window in ("0h", "31d", "abc", "5m"):
        reply = admin.get(f"/api/admin/agents/{agent['id']}/scorecard", query={"window": window})
        assert reply.status == 400 and reply.body["error"]["field"] == "window", window
    assert admin.get("/api/admin/agents/nope/scorecard").status == 404
    assert Api("bob").get(f"/api/admin/agents/{agent['id']}/scorecard").status == 403


# --- A2A import --------------------------------------------------------------------------------------------
def a2a_card(url: str) -> dict[str, Any]:
    return {
        "protocolVersion": "0.3.0",
        "name": "Weather Reporter",
        "description": "Reports the weather for a topic",
        "url": url,
        "version": "1.0.0",
        "capabilities": {"streaming": False},
        "defaultInputModes": ["application/json"],
        "defaultOutputModes": ["application/json"],
        "skills": [
            {"id": "forecast", "name": "Forecast", "description": "A forecast", "tags": ["weather"]},
            {"id": "alerts", "description": "Alerts", "inputSchema": INPUT_SCHEMA, "outputSchema": OUTPUT_SCHEMA},
        ],
    }


def test_an_inline_card_becomes_a_checked_agent(local: dict[str, str], admin: Api, agent_server: AgentServer) -> None:
    reply = admin.post(
        "/api/admin/agents/import",
        {
            "card": a2a_card(agent_server.url("/fast")),
            "secret": SECRET,
            "jobTypes": ["simple-task"],
            "maxConcurrency": 4,
        },
    )
    assert reply.status == 201, reply.body
    agent = reply.body["agent"]
    assert agent["name"] == "Weather Reporter" and agent["description"] == "Reports the weather for a topic"
    assert agent["skills"] == ["Forecast", "alerts"] and agent["endpointUrl"] == agent_server.url("/fast")
    assert agent["inputSchema"] == INPUT_SCHEMA and agent["outputSchema"] == OUTPUT_SCHEMA
    assert agent["jobTypes"] == ["simple-task"] and agent["maxConcurrency"] == 4
    assert agent["check"]["passed"] is True and "secret" not in json.dumps(reply.body)


def test_a_card_url_is_fetched_through_the_guard(local: dict[str, str], admin: Api, agent_server: AgentServer) -> None:
    card = a2a_card(agent_server.url("/fast"))
    del card["url"]
    card["supportedInterfaces"] = [{"url": agent_server.url("/fast"), "protocolBinding": "JSONRPC"}]  # A2A 1.0
    with CardServer(card) as cards:
        reply = admin.post("/api/admin/agents/import", {"cardUrl": cards.url("/card"), "secret": SECRET})
        assert reply.status == 201, reply.body
        assert reply.body["agent"]["endpointUrl"] == agent_server.url("/fast")

        for path, why in [
            (f"/redirect?to={cards.url('/card')}", "redirect refused"),
            ("/huge", "larger than 64 KB"),
            ("/deep", "nested deeper"),
            ("/gzip", "identity only"),
            ("/text", "not JSON"),
            ("/missing", "HTTP 404"),
        ]:
            refused = admin.post("/api/admin/agents/import", {"cardUrl": cards.url(path), "secret": SECRET})
            assert refused.status == 400 and refused.body["error"]["field"] == "cardUrl", (path, refused.body)
            assert why in refused.body["error"]["message"], (path, refused.body)
        assert cards.hits.count("/card") == 1  # the redirect was not followed


@pytest.mark.parametrize("url", ["http://10.0.0.7/card", "https://169.254.169.254/latest", "file:///etc/passwd"])
def test_a_card_url_to_a_private_address_is_refused(local: dict[str, str], admin: Api, url: str) -> None:
    reply = admin.post("/api/admin/agents/import", {"cardUrl": url, "secret": SECRET})
    assert reply.status == 400 and reply.body["error"]["field"] == "cardUrl", reply.body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"secret": SECRET}, None),  # neither card nor cardUrl
        (
            {
                "card": {"name": "x", "url": "https://93.184.215.14/a"},
                "cardUrl": "https://93.184.215.14/c",
                "secret": SECRET,
            },
            None,
        ),
        ({"card": {"url": "https://93.184.215.14/a"}, "secret": SECRET}, "card"),  # no name
        ({"card": {"name": "no url"}, "secret": SECRET}, "card"),
        (
            {"card": {"name": "x", "url": "http://10.1.2.3/a"}, "secret": SECRET},
            "endpointUrl",
        ),  # the card's own URL is vetted
        ({"card": {"name": "x", "url": "https://93.184.215.14/a"}, "secret": "short"}, "secret"),
        (
            {
                "card": {"name": "x" * 300, "url": "https://93.184.215.14/a", "inputSchema": {"type": 5}},
                "secret": SECRET,
            },
            "card",
        ),
    ],
)
def test_a_bad_import_is_a_400(local: dict[str, str], admin: Api, body: dict[str, Any], field: str | None) -> None:
    reply = admin.post("/api/admin/agents/import", body)
    assert reply.status == 400, reply.body
    if field:
        assert reply.body["error"]["field"] == field, reply.body


# --- audit -------------------------------------------------------------------------------------------------
def test_every_registry_and_worker_change_is_audited(
    local: dict[str, str], workers: dict[str, str], admin: Api, agent_server: AgentServer
) -> None:
    agent = register(admin, agent_server.url("/fast"))
    admin.put(
        f"/api/admin/agents/{agent['id']}", {"description": "now described", "secret": "another-secret-0123456789"}
    )
    admin.delete(f"/api/admin/agents/{agent['id']}")
    assert admin.post("/api/admin/agent-worker").status == 200
    assert admin.put("/api/admin/agent-worker", {"maxConcurrentJobs": 4}).status == 200
    assert admin.delete("/api/admin/agent-worker").status == 200

    entries = audit_entries(admin)
    actions = [entry["action"] for entry in entries]
    assert actions == [
        "worker.stopped",
        "worker.configured",
        "worker.started",
        "agent.deactivated",
        "agent.checked",
        "agent.updated",
        "agent.checked",
        "agent.created",
    ]
    assert all(entry["actor"] == "root-admin" and entry["at"] for entry in entries)
    by_action = {entry["action"]: entry for entry in entries}
    assert by_action["agent.created"]["target"] == f"agent:{agent['id']}"
    assert by_action["agent.created"]["changes"]["endpointUrl"]["to"] == agent_server.url("/fast")
    updated = by_action["agent.updated"]["changes"]
    assert updated["description"] == {"from": "", "to": "now described"}
    assert updated["secret"] == {"from": "(changed)", "to": "(changed)"}
    assert by_action["agent.deactivated"]["changes"]["status"] == {"from": "ACTIVE", "to": "INACTIVE"}
    assert by_action["worker.configured"]["changes"] == {"maxConcurrentJobs": {"to": 4}}
    text = json.dumps(entries)
    assert SECRET not in text and "another-secret-0123456789" not in text

    first = admin.get("/api/admin/audit", query={"limit": "3"}).body
    assert [e["action"] for e in first["entries"]] == actions[:3] and first["nextToken"]
    rest = admin.get("/api/admin/audit", query={"limit": "10", "nextToken": first["nextToken"]}).body
    assert [e["action"] for e in rest["entries"]] == actions[3:] and rest["nextToken"] is None
    assert admin.get("/api/admin/audit", query={"nextToken": "garbage"}).status == 400
    assert Api("bob").get("/api/admin/audit").status == 403


# --- dead letters ------------------------------------------------------------------------------------------
def _dead_letter(local: dict[str, str], body: dict[str, Any]) -> str:
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = local["EXECUTE_QUEUE_DLQ_URL"]
    return str(sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(body))["MessageId"])


def test_dead_letters_are_listed_with_their_job_and_why_without_being_consumed(
    local: dict[str, str], api: Api, admin: Api, agent_server: AgentServer
) -> None:
    agent = register(admin, agent_server.url("/garbage"))
    job = _run_job(local, api, agent["id"])
    assert job["status"] == "FAILED"
    first = _dead_letter(local, {"kind": "execute", "jobId": job["id"], "attempt": 1, "taskToken": "tok-secret"})
    second = _dead_letter(local, {"kind": "execute", "jobId": "no-such-job", "attempt": 1})

    for _ in range(2):  # peeking twice shows the same messages: nothing was consumed
        reply = admin.get("/api/admin/dead-letters", query={"queue": "execute"})
        assert reply.status == 200, reply.body
        letters = {letter["messageId"]: letter for letter in reply.body["deadLetters"]}
        assert set(letters) == {first, second} and "visibility" in reply.body["peek"]
    letter = letters[first]
    assert (letter["jobId"], letter["kind"], letter["attempt"], letter["jobStatus"]) == (
        job["id"],
        "execute",
        1,
        "FAILED",
    )
    assert "not JSON" in letter["reason"]  # the job's last history entry: why it stopped
    assert letter["body"]["taskToken"] == "(hidden)" and "tok-secret" not in json.dumps(reply.body)
    assert letters[second]["reason"] == "no such job"
    assert admin.get("/api/admin/dead-letters", query={"queue": "nope"}).status == 400
    assert Api("bob").get("/api/admin/dead-letters", query={"queue": "execute"}).status == 403


def test_replay_sends_dead_letters_back_and_is_audited(local: dict[str, str], admin: Api) -> None:
    first = _dead_letter(local, {"kind": "execute", "jobId": "job-a", "attempt": 1})
    second = _dead_letter(local, {"kind": "execute", "jobId": "job-b", "attempt": 2})

    reply = admin.post("/api/admin/dead-letters/replay", {"queue": "execute", "ids": [first, "gone"]})
    assert reply.status == 200, reply.body
    assert [x["messageId"] for x in reply.body["replayed"]] == [first] and reply.body["notFound"] == ["gone"]
    assert drain(local["EXECUTE_QUEUE_URL"]) == [{"kind": "execute", "jobId": "job-a", "attempt": 1}]
    left = admin.get("/api/admin/dead-letters", query={"queue": "execute"}).body["deadLetters"]
    assert [x["messageId"] for x in left] == [second]  # the other one stays, visible

    everything = admin.post("/api/admin/dead-letters/replay", {"queue": "execute"})
    assert [x["jobId"] for x in everything.body["replayed"]] == ["job-b"]
    assert drain(local["EXECUTE_QUEUE_DLQ_URL"]) == []

    replays = [e for e in audit_entries(admin) if e["action"] == "dead_letters.replayed"]
    assert [e["changes"]["replayed"][0]["jobId"] for e in replays] == ["job-b", "job-a"]
    assert replays[1]["target"] == "queue:execute" and replays[1]["changes"]["notFound"] == ["gone"]
    bad = admin.post("/api/admin/dead-letters/replay", {"queue": "execute", "ids": ["x" * 200]})
    assert bad.status == 400
