"""The example async agent on the local stack (DESIGN.md §14): a ``long-task`` job is accepted with 202, moves
with progress reported by signed callbacks through the gateway, and completes through its final callback.

The stack runs with the agent's time scaled down (``AGENT_JOBS_AGENT_TIME_SCALE``): its half-minute of steps
takes a second or two, and its registered 10-minute lease shrinks alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import FLOW_TIMEOUT, RunningStack, stack_env, start_stack, stop_stack

TIME_SCALE = 0.05


@pytest.fixture(scope="module")
def scaled_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    env = {**stack_env(), "AGENT_JOBS_AGENT_TIME_SCALE": str(TIME_SCALE)}
    running = start_stack(Path(tmp_path_factory.mktemp("async-stack")), "--ports-auto", "--quiet", env=env)
    yield running
    assert stop_stack(running) == 0, running.log()[-4000:]


def _long_task_agent(client: httpx.Client) -> dict[str, Any]:
    agents = client.get("/api/agents").json()["agents"]
    (agent,) = [a for a in agents if a["jobTypes"] == ["long-task"]]
    return dict(agent)


def test_a_long_job_moves_with_progress_and_completes(scaled_stack: RunningStack) -> None:
    with scaled_stack.client("user") as user, scaled_stack.client("admin") as admin:
        agent = _long_task_agent(user)
        registered = admin.get(f"/api/agents/{agent['id']}").json()["agent"]
        assert registered["mode"] == "async" and registered["maxRunSeconds"] == round(600 * TIME_SCALE)
        created = user.post(
            "/api/jobs",
            json={
                "jobType": "long-task",
                "taskDescription": "Research serverless queues",
                "acceptanceCriteria": "The summary says the topic was researched",
                "inputData": {"topic": "serverless queues"},
                "agentId": agent["id"],
            },
        )
        assert created.status_code == 201, created.text
        job_id = created.json()["job"]["id"]

        seen: list[tuple[str | None, float | None]] = []
        deadline = time.monotonic() + FLOW_TIMEOUT
        while time.monotonic() < deadline:
            job = user.get(f"/api/jobs/{job_id}").json()["job"]
            seen.append((job["waitingFor"], job["progress"]))
            if job["status"] in ("COMPLETED", "FAILED", "RESUBMISSION_REQUIRED"):
                break
            time.sleep(0.1)
        assert job["status"] == "COMPLETED", (job, seen)
        assert job["result"]["report"]["topic"] == "serverless queues"
        assert any(waiting == "agent" for waiting, _ in seen), seen  # it waited for its agent
        assert any(p is not None and 0 < p < 1 for _, p in seen), seen  # and showed its progress while it did

        logs = user.get(f"/api/jobs/{job_id}/logs").json()["logs"]
        kinds = [log["status"] for log in logs]
        assert kinds.count("AGENT_ACCEPTED") == 1 and kinds.count("AGENT_CALLBACK") == 5
        assert kinds.index("AGENT_ACCEPTED") < kinds.index("AGENT_RESPONSE") < kinds.index("COMPLETED")

    callbacks = httpx.get(f"{scaled_stack.state['agentsUrl']}/callbacks", timeout=10, trust_env=False).json()
    mine = [c for c in callbacks["callbacks"] if c["jobId"] == job_id]
    assert [c["status"] for c in mine] == ["working"] * 5 + ["completed"]
    assert {c["httpStatus"] for c in mine} == {200}  # every callback signed with the agent's secret and taken
