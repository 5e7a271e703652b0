"""Issue 12 item 7: a long history (many resubmissions, many entries) never hides the current attempt's
answer from validation, and the log views page from the newest entries back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agent_jobs.domain.lifecycle import make_log
from agent_jobs.models.jobs import Job, LogKind
from agent_jobs.services import reset, services
from tests.fixtures.agent_server import AgentServer
from tests.fixtures.openai_server import OpenAICompatServer, pass_reply
from tests.integration.conftest import Api, deliver, run_queues

SECRET = "whsec-test-secret-0123456789"
FILLER = 600  # more than the 500 entries the old logs() read, oldest first


@pytest.fixture
def pipeline(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    judge = OpenAICompatServer(lambda request: pass_reply())
    judge.start()
    with AgentServer(secret=SECRET) as agents:
        for name, value in {
            "ALLOW_LOOPBACK_HTTP_AGENTS": "true",
            "AGENT_RETRY_BASE_SECONDS": "0.01",
            "OPENAI_BASE_URL": judge.base_url,
            "OPENAI_API_KEY": "test-key",
            "OPENAI_MAX_RETRIES": "1",
        }.items():
            monkeypatch.setenv(name, value)
        reset()
        yield {"env": aws, "agents": agents}
    judge.stop()


def _job(api: Api, admin: Api, agents: AgentServer) -> str:
    agent = admin.post(
        "/api/admin/agents",
        {"name": "echo", "endpointUrl": agents.url("/fast"), "secret": SECRET, "jobTypes": ["simple-task"]},
    )
    assert agent.status == 201, agent.body
    body = {"description": "Echo", "acceptanceCriteria": "It echoes", "agentId": agent.body["agent"]["id"]}
    created = api.post("/api/jobs", body)
    assert created.status == 201, created.body
    return str(created.body["job"]["id"])


def _fill(job: Job, count: int, attempt: int) -> None:
    jobs = services().jobs
    for n in range(count):
        jobs.add_log(make_log(job, LogKind.ADMIN_ACTION, f"note {attempt}-{n}", attempt=attempt))


def test_the_answer_is_found_however_long_the_history(pipeline: dict[str, Any], api: Api, admin: Api) -> None:
    """600 entries of earlier attempts before the answer and 600 after it, before the judge runs: the
    validate step still finds the answer of the current attempt and the job completes."""
    env = pipeline["env"]
    job_id = _job(api, admin, pipeline["agents"])
    job = services().jobs.get(job_id)
    assert job is not None and job.attempt == 1
    _fill(job, FILLER, attempt=0)  # history of earlier attempts (written with their attempt number)
    assert deliver(env["EXECUTE_QUEUE_URL"], "execute_job") == 1  # the agent answers; validate is queued
    _fill(job, FILLER, attempt=1)  # a busy current attempt: many entries after its answer
    run_queues(env)
    detail = api.get(f"/api/jobs/{job_id}").body
    assert detail["job"]["status"] == "COMPLETED", detail["logs"][-1]
    assert detail["job"]["result"] == {"result": {}, "summary": "done"}


def test_the_log_views_page_from_the_newest_entries(pipeline: dict[str, Any], api: Api, admin: Api) -> None:
    env = pipeline["env"]
    job_id = _job(api, admin, pipeline["agents"])
    job = services().jobs.get(job_id)
    assert job is not None
    _fill(job, 250, attempt=1)  # entries of the running attempt, before its answer
    run_queues(env)

    detail = api.get(f"/api/jobs/{job_id}").body
    newest = detail["logs"]
    assert len(newest) == 100 and newest[-1]["status"] == "COMPLETED"  # the latest entries, in time order
    assert [log["createdAt"] for log in newest] == sorted(log["createdAt"] for log in newest)
    assert detail["logsNextToken"]

    pages, token = [newest], detail["logsNextToken"]
    while token:  # GET …/logs?nextToken= pages back to the oldest entries
        page = api.get(f"/api/jobs/{job_id}/logs", query={"limit": "100", "nextToken": token})
        assert page.status == 200, page.body
        pages.append(page.body["logs"])
        token = page.body["nextToken"]
    everything = [log for page in reversed(pages) for log in page]
    assert len(everything) == len({log["id"] for log in everything}) == 250 + 5
    assert [log["status"] for log in everything[:2]] == ["PENDING", "ASSIGNED"]
    assert everything[-1]["status"] == "COMPLETED"

    other = _job(api, admin, pipeline["agents"])  # a token of another job's history is refused
    refused = api.get(f"/api/jobs/{other}/logs", query={"nextToken": detail["logsNextToken"]})
    assert refused.status == 400, refused.body
    assert api.as_user("mallory").get(f"/api/jobs/{job_id}").status == 404
