"""The execute step when things go wrong around the agent call: a throttle after the claim, a failure after
the agent answered, a function about to time out; and the log context of a concurrent batch."""
# ruff: noqa: F811 - the pipeline fixtures are imported from test_pipeline and requested by name

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from agent_jobs.observability import logger
from agent_jobs.repositories.tables import AgentRecord, JobLogRecord
from agent_jobs.services import services
from local.lambda_runtime import LocalContext
from tests.fixtures.agent_server import AgentServer
from tests.fixtures.faults import DYNAMODB_THROTTLED, failing
from tests.integration.conftest import Api, deliver, run_queues
from tests.integration.test_pipeline import (  # noqa: F401 - pytest fixtures used by name
    agent_server,
    create_job,
    job_state,
    judge_script,
    judge_server,
    pipeline,
    register_agent,
)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What the package's Powertools logger writes (its handler holds the stream it was made with)."""
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    stream.seek(0)
    stream.truncate()
    return lines


def dynamodb_client(model: Any) -> Any:
    """The botocore client behind one table model (each model has its own connection)."""
    return model._get_connection().connection.client


def test_a_throttle_reading_the_agent_is_retried_not_failed(
    pipeline: dict[str, str],
    api: Api,
    admin: Api,
    agent_server: AgentServer,
    logs: io.StringIO,
) -> None:
    """Issue 12 items 22 and 11: the throttle costs one redelivery (the attempt is not claimed before the agent
    is read, so the redelivery runs it), the agent is called once, and the failed record is logged at ERROR
    with its job id."""
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    log_lines(logs)
    with failing(dynamodb_client(AgentRecord), "GetItem", code=DYNAMODB_THROTTLED, times=1) as fault:
        deliver(pipeline["EXECUTE_QUEUE_URL"], "execute_job")
    assert fault.failed == 1
    assert job_state(api, job["id"])[0]["status"] == "IN_PROGRESS"
    errors = [line for line in log_lines(logs) if line["level"] == "ERROR"]
    assert [(line["message"], line.get("job_id")) for line in errors] == [("queue message failed", job["id"])]
    assert DYNAMODB_THROTTLED in errors[0]["exception"]

    run_queues(pipeline)  # the redelivery
    assert job_state(api, job["id"])[0]["status"] == "COMPLETED"
    assert len(agent_server.requests_to("/fast")) == 1


def test_a_failure_after_the_agent_answered_settles_the_job_with_the_real_reason(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: AgentServer
) -> None:
    """Issue 12 item 11: storing the answer fails. The attempt was claimed, so a redelivery would be dropped
    as a duplicate: the job is FAILED now with what went wrong, instead of vanishing until the sweeper."""
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    with failing(dynamodb_client(JobLogRecord), "PutItem", code="ValidationException", times=1):
        deliver(pipeline["EXECUTE_QUEUE_URL"], "execute_job")
    final, history = job_state(api, job["id"])
    assert final["status"] == "FAILED"
    assert history[-1]["message"].startswith("execute step failed: PutError")
    assert "ValidationException" in history[-1]["message"]
    assert len(agent_server.requests_to("/fast")) == 1


def test_the_agent_call_ends_before_the_function_does(
    pipeline: dict[str, str],
    api: Api,
    admin: Api,
    agent_server: AgentServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12 item 4: with 12 s left in the invocation (10 s kept to record the outcome), a 10 s agent
    timeout is cut to the ~2 s that fit, and the job FAILs saying so while the function can still write."""
    monkeypatch.setattr(LocalContext, "get_remaining_time_in_millis", lambda self: 12_000)
    agent_id = register_agent(admin, agent_server.url("/hang"), timeoutSeconds=10)
    job = create_job(api, agent_id)
    started = time.monotonic()
    deliver(pipeline["EXECUTE_QUEUE_URL"], "execute_job")
    assert time.monotonic() - started < 6
    final, history = job_state(api, job["id"])
    assert final["status"] == "FAILED"
    assert "deadline" in history[-1]["message"]


def test_concurrent_records_log_their_own_job_id_and_none_leaks(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: AgentServer, logs: io.StringIO
) -> None:
    """Issue 12 item 16: two records of one AsyncBatchProcessor batch call their agents at the same time;
    each log line carries its own record's job id, and a line written after the batch carries none."""
    first_agent = register_agent(admin, agent_server.url("/slow?seconds=0.3"), name="first")
    second_agent = register_agent(admin, agent_server.url("/slow?seconds=0.3"), name="second")
    job_by_agent = {
        first_agent: create_job(api, first_agent)["id"],
        second_agent: create_job(api, second_agent)["id"],
    }
    log_lines(logs)
    level = logger.log_level
    logger.setLevel("INFO")
    try:
        assert deliver(pipeline["EXECUTE_QUEUE_URL"], "execute_job") == 2  # one batch
        logger.info("after the batch")
    finally:
        logger.setLevel(level)
    lines = log_lines(logs)
    calls = [line for line in lines if line["message"] == "agent call succeeded"]
    assert len(calls) == 2
    for line in calls:
        assert line["job_id"] == job_by_agent[line["agent_id"]]
    (later,) = [line for line in lines if line["message"] == "after the batch"]
    assert "job_id" not in later
    stored = [services().jobs.get(job_id) for job_id in job_by_agent.values()]
    assert all(job is not None and job.dispatched_attempt == 1 for job in stored)


def test_when_even_settling_fails_the_claim_is_given_back_and_the_redelivery_runs_the_attempt(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: AgentServer
) -> None:
    """Storing the answer fails and so does FAILing the job (the logs table is throttled: the FAIL entry's detail,
    written before the job's update, fails too): the claim is released and the record fails, so the message's
    redelivery runs the attempt again instead of being dropped."""
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    with failing(dynamodb_client(JobLogRecord), "PutItem", code=DYNAMODB_THROTTLED, times=None):
        deliver(pipeline["EXECUTE_QUEUE_URL"], "execute_job")
    stored = services().jobs.get(job["id"])
    assert stored is not None and stored.status == "IN_PROGRESS" and stored.dispatched_attempt == 0
    run_queues(pipeline)
    assert job_state(api, job["id"])[0]["status"] == "COMPLETED"
    assert len(agent_server.requests_to("/fast")) == 2  # the first answer could not be kept
