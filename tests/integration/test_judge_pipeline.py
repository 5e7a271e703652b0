"""Checked verdicts, whole-output judging, pre-checks and usage totals through the whole pipeline on moto
(create → execute → validate), with the real agent and OpenAI-compatible judge servers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from agent_jobs.integrations import judge as judge_module
from agent_jobs.integrations.judge import OUTPUT_PART, data_json, read_block
from agent_jobs.services import reset, services
from tests.fixtures.agent_server import AgentServer
from tests.fixtures.openai_server import (
    OpenAICompatServer,
    Script,
    inconsistent_reply,
    messages_of,
    offline_judge_responder,
    pass_reply,
    verdict_json,
)
from tests.fixtures.openai_server import Reply as JudgeReply
from tests.integration.conftest import Api, run_queues
from tests.integration.test_pipeline import SECRET, create_job, job_state, register_agent

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")  # issue 12 item 17, not ours


@pytest.fixture
def agent_server() -> Iterator[AgentServer]:
    with AgentServer(secret=SECRET) as server:
        yield server


@pytest.fixture
def judge_script(request: pytest.FixtureRequest) -> Script:
    return getattr(request, "param", None) or Script([], fallback=pass_reply())


@pytest.fixture
def judge_server(judge_script: Script) -> Iterator[OpenAICompatServer]:
    with OpenAICompatServer(judge_script) as server:
        yield server


@pytest.fixture
def pipeline(aws: dict[str, str], judge_server: OpenAICompatServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    settings = {
        "ALLOW_LOOPBACK_HTTP_AGENTS": "true",
        "AGENT_RETRY_BASE_SECONDS": "0.01",
        "OPENAI_BASE_URL": judge_server.base_url,
        "OPENAI_API_KEY": "test-key",
        "OPENAI_MODEL": "gpt-4o-mini",
        "OPENAI_MAX_RETRIES": "0",
        "OPENAI_TIMEOUT_SECONDS": "2",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    reset()
    return aws


def test_a_contradicted_pass_is_not_completed(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: AgentServer, judge_script: Script
) -> None:
    """Issue 12 item 5: ``isValid: true, score: 0, criteria: [{met: false}]`` completed the job."""
    judge_script._fallback = inconsistent_reply(["The summary mentions the user id"])
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id, autoResubmit=False)
    run_queues(pipeline)
    final, logs = job_state(api, job["id"])
    assert final["status"] == "RESUBMISSION_REQUIRED" and final["result"] is None
    assert logs[-1]["message"].startswith("validation failed: inconsistent verdict")
    assert logs[-1]["responsePayload"]["judgeCalls"] == 2  # asked once more
    assert final["usage"]["promptTokens"] > 0 and final["usage"]["costUsd"] > 0


def test_usage_is_totalled_on_the_job_and_the_agent(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: AgentServer, judge_script: Script
) -> None:
    judge_script._replies.extend([inconsistent_reply(["The summary mentions the user id"])])  # then a pass
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    run_queues(pipeline)
    final, logs = job_state(api, job["id"])
    assert final["status"] == "COMPLETED"
    usage = final["usage"]
    assert usage == logs[-1]["responsePayload"]["usage"] and usage["promptTokens"] > 0
    expected_cost = (usage["promptTokens"] * 0.15 + usage["completionTokens"] * 0.60) / 1_000_000
    assert usage["costUsd"] == pytest.approx(expected_cost)
    counters = services().agents.judge_usage(agent_id)
    assert counters["judged_outputs"] == 1
    assert counters["judge_prompt_tokens"] == usage["promptTokens"]
    assert counters["judge_cost_usd"] == pytest.approx(usage["costUsd"])
    # the counters leave the agent's version alone: an admin's edit does not conflict with them
    assert admin.put(f"/api/admin/agents/{agent_id}", {"description": "still editable"}).status == 200


def test_pass_score_is_the_jobs(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: AgentServer, judge_script: Script
) -> None:
    criteria = [{"criterion": "The summary mentions the user id", "met": True, "evidence": "user-123"}]
    judge_script._fallback = JudgeReply(content=verdict_json(is_valid=True, score=0.8, reason="ok", criteria=criteria))
    agent_id = register_agent(admin, agent_server.url("/fast"))
    strict = create_job(api, agent_id, passScore=0.9, autoResubmit=False)
    lenient = create_job(api, agent_id)
    assert strict["passScore"] == 0.9 and lenient["passScore"] == 0.7
    run_queues(pipeline)
    strict_final, strict_logs = job_state(api, strict["id"])
    assert strict_final["status"] == "RESUBMISSION_REQUIRED"
    assert "below the pass score 0.90" in strict_logs[-1]["message"]
    assert job_state(api, lenient["id"])[0]["status"] == "COMPLETED"
    assert api.post("/api/jobs", {"description": "d", "passScore": 1.5}).status == 400


def test_a_failed_precheck_spends_no_token(
    pipeline: dict[str, str],
    api: Api,
    admin: Api,
    agent_server: AgentServer,
    judge_server: OpenAICompatServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = {"simple-task": {"requiredKeys": ["result", "sources"], "mustMatch": ["user-\\d+"]}}
    monkeypatch.setenv("JOB_TYPE_OUTPUT_CHECKS", json.dumps(rules))
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id, autoResubmit=False)
    run_queues(pipeline)
    final, logs = job_state(api, job["id"])
    assert final["status"] == "RESUBMISSION_REQUIRED" and final["usage"] is None
    assert "lacks required keys: 'sources'" in logs[-1]["message"]
    assert judge_server.requests == []


def test_an_output_too_large_to_judge_is_never_a_pass(
    pipeline: dict[str, str],
    api: Api,
    admin: Api,
    agent_server: AgentServer,
    judge_server: OpenAICompatServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12 item 6: the judge saw the first 100,000 characters and the whole output became the result."""
    monkeypatch.setattr(judge_module, "MAX_PARTS", 1)  # the deployed limit, lowered so a test output exceeds it
    agent_id = register_agent(admin, agent_server.url("/huge?bytes=150000"))
    job = create_job(api, agent_id)
    run_queues(pipeline)
    final, logs = job_state(api, job["id"])
    assert final["status"] == "RESUBMISSION_REQUIRED" and final["result"] is None
    assert logs[-1]["message"].startswith("validation failed: output too large to judge")
    assert final["attempt"] == 1  # no automatic retry of an answer that cannot be judged
    assert judge_server.requests == []


@pytest.mark.parametrize("judge_script", [Script([], fallback=offline_judge_responder)], indirect=True)
def test_a_long_output_is_judged_whole(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: AgentServer, judge_server: OpenAICompatServer
) -> None:
    """Issue 12 item 6: the tail past 100,000 characters was stored as validated without being judged."""
    agent_id = register_agent(admin, agent_server.url("/huge?bytes=150000"))
    job = create_job(api, agent_id, acceptanceCriteria='The summary says "huge"')
    run_queues(pipeline)
    final, _logs = job_state(api, job["id"])
    assert final["status"] == "COMPLETED" and len(final["result"]["result"]["blob"]) == 150000
    parts = [messages_of(r)["user"] for r in judge_server.requests]
    assert len(parts) == 3 and all("AGENT_OUTPUT_PART" in p for p in parts)
    shown = "".join(read_block(p, OUTPUT_PART, p.splitlines()[0].removeprefix("Boundary: ")) or "" for p in parts)
    assert shown == data_json(final["result"])  # every character of the stored result reached the judge
