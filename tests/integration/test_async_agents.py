"""Async agents (DESIGN.md §14) on moto: a real agent server that answers 202 Accepted, callbacks signed with the
agent's real secret through the real checkpoints handler, the real judge client against a local judge server,
Step Functions really executing the checkpoint workflow, and the sweeper judging leases and deadlines."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3
import pytest

from agent_jobs.catalog import match_route
from agent_jobs.domain.sweeper import sweep
from agent_jobs.integrations.signing import sign_headers
from agent_jobs.models.base import parse_time
from agent_jobs.models.jobs import LogKind
from agent_jobs.services import reset, services
from local.http_server import BackgroundServer, LoopbackServer
from local.lambda_runtime import http_event, invoke
from tests.fixtures.checkpoint_waits import wait_arn
from tests.fixtures.openai_server import OpenAICompatServer, pass_reply
from tests.integration.conftest import Api, Reply, deliver, run_queues, run_until

SECRET = "whsec-async-agent-secret-0123456789"
OTHER_SECRET = "another-agents-secret-0123456789"
PUBLIC_URL = "https://api.agent-jobs.example"
OUTPUT_SCHEMA = {"type": "object", "required": ["summary"], "properties": {"summary": {"type": "string"}}}
OUTPUT = {"summary": "researched user-123"}


# --- a real async agent: 202 to a job call, a direct answer to the onboarding check ------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _AsyncAgentServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log."""

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.loads(raw)
        if body.get("check"):
            status, answer = 200, OUTPUT
        else:
            self.server.requests.append(body)
            time.sleep(self.server.accept_delay_seconds)  # a slow 202: the lease starts after the claim
            status, answer = 202, {"status": "accepted"}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _AsyncAgentServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.accept_delay_seconds = 0.0


class AsyncAgent(BackgroundServer):
    def __init__(self) -> None:
        self._server: _AsyncAgentServer = _AsyncAgentServer()
        super().__init__(self._server, name="async-agent")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/work"

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self._server.requests

    def accept_after(self, seconds: float) -> None:
        self._server.accept_delay_seconds = seconds


# --- fixtures and helpers -----------------------------------------------------------------------------------


@pytest.fixture
def judge() -> Iterator[OpenAICompatServer]:
    server = OpenAICompatServer(lambda request: pass_reply())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(aws: dict[str, str], judge: OpenAICompatServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    for name, value in {
        "ALLOW_LOOPBACK_HTTP_AGENTS": "true",
        "AGENT_RETRY_BASE_SECONDS": "0.01",
        "OPENAI_BASE_URL": judge.base_url,
        "OPENAI_API_KEY": "test-key",
        "PUBLIC_API_URL": PUBLIC_URL + "/",
        "STUCK_JOB_MARGIN_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    reset()
    yield aws


@pytest.fixture
def agent() -> Iterator[AsyncAgent]:
    server = AsyncAgent().start()
    yield server
    server.stop()


def register(admin: Api, url: str, *, job_type: str = "long-task", secret: str = SECRET, **extra: Any) -> str:
    body = {
        "name": f"async-{job_type}",
        "endpointUrl": url,
        "secret": secret,
        "jobTypes": [job_type],
        "outputSchema": OUTPUT_SCHEMA,
        "mode": "async",
        **extra,
    }
    reply = admin.post("/api/admin/agents", body)
    assert reply.status == 201, reply.body
    return str(reply.body["agent"]["id"])


def create(api: Api, agent_id: str, *, job_type: str = "long-task", **extra: Any) -> dict[str, Any]:
    body = {
        "jobType": job_type,
        "taskDescription": "Research the user",
        "acceptanceCriteria": "The summary names the user",
        "inputData": {"userId": "user-123"},
        "agentId": agent_id,
        **extra,
    }
    reply = api.post("/api/jobs", body)
    assert reply.status == 201, reply.body
    return dict(reply.body["job"])


def execute(env: dict[str, str]) -> None:
    """One poll of the execute queues: the agent is called (and answers 202)."""
    deliver(env["EXECUTE_QUEUE_URL"], "execute_job")
    deliver(env["EXECUTE_HIGH_QUEUE_URL"], "execute_job")


def callback(
    job_id: str,
    attempt: int,
    body: Any,
    *,
    secret: str | None = SECRET,
    msg_id: str = "msg-1",
    timestamp: int | None = None,
    raw: bytes | None = None,
) -> Reply:
    """POSTs a callback as the agent does: the body signed with ``secret`` (None: unsigned)."""
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers.update(sign_headers(secret, data, msg_id=msg_id, timestamp=timestamp or int(time.time())))
    return post_raw(f"/api/agent-callbacks/{job_id}/{attempt}", data, headers)


def post_raw(path: str, data: bytes, headers: dict[str, str]) -> Reply:
    """The route's function called as API Gateway would, with no JWT and these headers."""
    found = match_route("POST", path)
    assert found, path
    route, params = found
    event = http_event(route, path, params, body=data, headers=headers)
    result = invoke(route.function, event)
    return Reply(result["statusCode"], json.loads(result.get("body") or "{}"), result.get("headers", {}))


def job_of(api: Api, job_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    reply = api.get(f"/api/jobs/{job_id}")
    assert reply.status == 200, reply.body
    return reply.body["job"], reply.body["logs"]


def stored(job_id: str) -> Any:
    job = services().jobs.get(job_id)
    assert job is not None
    return job


def parked_job(stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent, **agent_extra: Any) -> dict[str, Any]:
    agent_id = register(admin, agent.url, **agent_extra)
    job = create(api, agent_id)
    execute(stack)
    parked, _ = job_of(api, job["id"])
    assert parked["status"] == "IN_PROGRESS" and parked["waitingFor"] == "agent", parked
    return parked


# --- transitions ----------------------------------------------------------------------------------------------


def test_a_202_parks_the_job_with_a_callback_url_and_the_async_lease(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    job = parked_job(stack, api, admin, agent, maxRunSeconds=7200)
    (request,) = agent.requests
    assert request["callbackUrl"] == f"{PUBLIC_URL}/api/agent-callbacks/{job['id']}/1"
    _, logs = job_of(api, job["id"])
    assert [log["status"] for log in logs][-1] == "AGENT_ACCEPTED"
    lease = parse_time(job["deadline"]) - parse_time(job["claimedAt"])
    assert lease == timedelta(seconds=7200)  # maxRunSeconds from the claim, not the sync call's lease
    assert job["progress"] is None and job["result"] is None
    # nothing more to do for the execute step: no message left in flight, the job holds no Lambda
    assert deliver(stack["EXECUTE_QUEUE_URL"], "execute_job") == 0
    assert deliver(stack["VALIDATE_QUEUE_URL"], "validate") == 0


def test_progress_moves_the_heartbeat_lease_then_the_completion_is_judged(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent, judge: OpenAICompatServer
) -> None:
    job = parked_job(stack, api, admin, agent, maxRunSeconds=3600, heartbeatSeconds=60)
    first_deadline = parse_time(job["deadline"])
    assert first_deadline - parse_time(job["claimedAt"]) <= timedelta(seconds=61)  # the heartbeat, not the run

    time.sleep(0.05)
    reply = callback(job["id"], 1, {"status": "working", "progress": 0.4, "message": "reading sources"})
    assert reply.status == 200 and reply.body == {"success": True, "applied": True, "message": "progress recorded"}
    working, logs = job_of(api, job["id"])
    assert working["progress"] == 0.4 and working["progressMessage"] == "reading sources"
    assert working["waitingFor"] == "agent" and working["status"] == "IN_PROGRESS"
    assert parse_time(working["deadline"]) > first_deadline  # the heartbeat moved the lease
    assert logs[-1]["status"] == "AGENT_CALLBACK" and "40 %" in logs[-1]["message"]

    reply = callback(job["id"], 1, {"status": "completed", "output": OUTPUT}, msg_id="msg-2")
    assert reply.status == 200 and reply.body["applied"] is True
    answered, _ = job_of(api, job["id"])
    assert answered["waitingFor"] is None and answered["progress"] == 1.0
    run_queues(stack)
    final, logs = job_of(api, job["id"])
    assert final["status"] == "COMPLETED" and final["result"] == OUTPUT
    statuses = [log["status"] for log in logs]
    assert statuses[-4:] == ["AGENT_ACCEPTED", "AGENT_CALLBACK", "AGENT_RESPONSE", "COMPLETED"]
    assert len(judge.requests) == 1


def test_a_failed_callback_fails_the_job_with_the_agents_reason(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    job = parked_job(stack, api, admin, agent)
    reply = callback(job["id"], 1, {"status": "failed", "error": "the source site is down"})
    assert reply.status == 200 and reply.body["applied"] is True
    final, logs = job_of(api, job["id"])
    assert final["status"] == "FAILED" and final["waitingFor"] is None
    assert logs[-1]["message"] == "agent reported failure: the source site is down"


def test_an_agent_that_never_calls_back_times_out_at_its_lease(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    """The reason names the agent's heartbeat, 120 s, even when its 202 came a while after the claim (it once
    read "121 s" on a loaded machine: the lease starts at the 202, the old figure counted from the claim)."""
    agent.accept_after(1.2)
    job = parked_job(stack, api, admin, agent, maxRunSeconds=600, heartbeatSeconds=120)
    claimed = parse_time(job["claimedAt"])
    early = sweep(services(), claimed + timedelta(seconds=100), {})  # inside the heartbeat: left alone
    assert job["id"] not in early.failed and stored(job["id"]).status == "IN_PROGRESS"
    report = sweep(services(), claimed + timedelta(seconds=125), {})
    assert report.failed == [job["id"]]
    final, logs = job_of(api, job["id"])
    assert final["status"] == "FAILED"
    assert logs[-1]["message"] == "no callback within 120 s: the agent accepted attempt 1 (sweeper)"
    late = callback(job["id"], 1, {"status": "completed", "output": OUTPUT})  # a second too late
    assert late.status == 409 and job_of(api, job["id"])[0]["status"] == "FAILED"


def test_a_sync_agent_that_answers_202_fails_the_job(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    agent_id = register(admin, agent.url, mode="sync")
    job = create(api, agent_id)
    execute(stack)
    final, logs = job_of(api, job["id"])
    assert final["status"] == "FAILED" and final["waitingFor"] is None
    assert "registered with mode sync" in logs[-1]["message"]


def test_a_completion_that_arrives_before_the_job_is_parked_is_taken(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    """A fast agent can call back before the execute step has written that it answered 202."""
    from agent_jobs.domain.async_attempts import park

    job = parked_job(stack, api, admin, agent)
    assert callback(job["id"], 1, {"status": "completed", "output": OUTPUT}).status == 200
    answered = stored(job["id"])
    agent_entity = services().agents.get(answered.assigned_agent_id)
    assert agent_entity is not None
    park(services(), answered, agent_entity, datetime.now(UTC))  # the late write: nothing to park any more
    assert stored(job["id"]).waiting_for is None
    run_queues(stack)
    assert job_of(api, job["id"])[0]["status"] == "COMPLETED"


def test_an_async_agent_on_a_checkpoint_job_type_reaches_its_checkpoint(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    """The completion callback hands the answer to the judge as for any job; the judge passes, the job stops at
    its checkpoint (its wait starts then); approving completes it."""
    agent_id = register(admin, agent.url, job_type="code-generation")
    job = create(api, agent_id, job_type="code-generation")
    run_until(stack, lambda: bool(agent.requests) and stored(job["id"]).waiting_for == "agent")
    assert callback(job["id"], 1, {"status": "completed", "output": OUTPUT}).status == 200

    def pending() -> list[dict[str, Any]]:
        found = api.get(f"/api/jobs/{job['id']}/checkpoints").body["checkpoints"]
        return [c for c in found if c["status"] == "PENDING"]

    run_until(stack, lambda: bool(pending()))
    assert admin.post(f"/api/admin/agent-checkpoints/{pending()[0]['id']}").status == 200
    run_until(stack, lambda: stored(job["id"]).status == "COMPLETED")
    assert stored(job["id"]).result == OUTPUT


# --- bad callbacks: each changes nothing ----------------------------------------------------------------------


def _unchanged(api: Api, job_id: str, before: dict[str, Any]) -> None:
    after, _ = job_of(api, job_id)
    assert {k: after[k] for k in ("status", "attempt", "progress", "result", "waitingFor", "deadline")} == {
        k: before[k] for k in ("status", "attempt", "progress", "result", "waitingFor", "deadline")
    }


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("unsigned", 401),
        ("wrong secret", 401),
        ("tampered body", 401),
        ("stale timestamp", 401),
        ("unknown job", 404),
        ("not JSON", 400),
        ("unknown status", 400),
        ("progress above 1", 400),
        ("too deep", 400),
        ("off-schema output", 400),
        ("stale attempt", 409),
    ],
)
def test_a_bad_callback_changes_nothing(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent, case: str, status: int
) -> None:
    job = parked_job(stack, api, admin, agent)
    job_id, working = job["id"], {"status": "working", "progress": 0.5}
    if case == "unsigned":
        reply = callback(job_id, 1, working, secret=None)
    elif case == "wrong secret":
        reply = callback(job_id, 1, working, secret=OTHER_SECRET)
    elif case == "tampered body":
        signed = json.dumps(working).encode()
        headers = {
            "content-type": "application/json",
            **sign_headers(SECRET, signed, msg_id="m", timestamp=int(time.time())),
        }
        reply = post_raw(f"/api/agent-callbacks/{job_id}/1", json.dumps({**working, "progress": 0.9}).encode(), headers)
    elif case == "stale timestamp":
        reply = callback(job_id, 1, working, timestamp=int(time.time()) - 3600)
    elif case == "unknown job":
        reply = callback("no-such-job", 1, working)
    elif case == "not JSON":
        reply = callback(job_id, 1, None, raw=b"progress=0.5")
    elif case == "unknown status":
        reply = callback(job_id, 1, {"status": "done"})
    elif case == "progress above 1":
        reply = callback(job_id, 1, {"status": "working", "progress": 1.5})
    elif case == "too deep":
        deep: Any = 1
        for _ in range(40):
            deep = [deep]
        reply = callback(job_id, 1, {"status": "completed", "output": {"summary": "x", "deep": deep}})
    elif case == "off-schema output":
        reply = callback(job_id, 1, {"status": "completed", "output": {"title": "no summary"}})
    else:
        reply = callback(job_id, 2, working)
    assert reply.status == status, reply.body
    assert reply.body["success"] is False and reply.body["error"]["code"]
    _unchanged(api, job_id, job)
    if case == "stale attempt":  # logged on the job
        _, logs = job_of(api, job_id)
        assert logs[-1]["status"] == "AGENT_CALLBACK" and "ignored" in logs[-1]["message"]


def test_another_agents_secret_cannot_report_for_this_job(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    job = parked_job(stack, api, admin, agent)
    register(admin, agent.url, secret=OTHER_SECRET, name="another agent")  # a registered agent, not this job's
    reply = callback(job["id"], 1, {"status": "completed", "output": OUTPUT}, secret=OTHER_SECRET)
    assert reply.status == 401
    _unchanged(api, job["id"], job)


def test_a_callback_for_a_job_with_no_agent_is_401_not_500(stack: dict[str, str], api: Api) -> None:
    """Found by the fuzzer: a PENDING job has no agent whose secret could sign, and looking up agent "" was a
    DynamoDB ValidationException (500)."""
    job = api.post("/api/jobs", {"description": "Waiting for an agent", "autoAssign": False}).body["job"]
    for secret in (SECRET, None):
        reply = callback(job["id"], 1, {"status": "completed", "output": OUTPUT}, secret=secret)
        assert reply.status == 401, reply.body
    assert stored(job["id"]).status == "PENDING"


def test_the_same_completion_twice_is_applied_once(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent, judge: OpenAICompatServer
) -> None:
    job = parked_job(stack, api, admin, agent)
    completed = {"status": "completed", "output": OUTPUT}
    first = callback(job["id"], 1, completed)
    again = callback(job["id"], 1, completed)
    assert first.status == 200 and first.body["applied"] is True
    assert again.status == 200 and again.body["applied"] is False
    run_queues(stack)
    later = callback(job["id"], 1, completed)  # after the job completed, too
    assert later.status == 200 and later.body["applied"] is False
    final, logs = job_of(api, job["id"])
    assert final["status"] == "COMPLETED"
    assert [log["status"] for log in logs].count("AGENT_RESPONSE") == 1 and len(judge.requests) == 1


def test_a_callback_for_a_finished_job_is_refused_and_logged(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    job = parked_job(stack, api, admin, agent)
    assert callback(job["id"], 1, {"status": "failed", "error": "gave up"}).status == 200
    for body in ({"status": "working", "progress": 0.9}, {"status": "failed", "error": "again"}):
        reply = callback(job["id"], 1, body)
        assert reply.status == 409 and "the job is FAILED" in reply.body["error"]["message"]
    final, logs = job_of(api, job["id"])
    assert final["status"] == "FAILED" and final["progress"] is None
    assert logs[-1]["status"] == "AGENT_CALLBACK" and "ignored: the job is FAILED" in logs[-1]["message"]


def test_concurrent_completions_are_applied_once(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    """Two copies racing: the conditional transaction lets one through (moto is not atomic across threads, so
    the race is played with a stale copy of the job, as DESIGN.md §11 advises)."""
    from agent_jobs.domain import callbacks

    job = parked_job(stack, api, admin, agent)
    stale = stored(job["id"])
    assert callback(job["id"], 1, {"status": "completed", "output": OUTPUT}).status == 200
    svc = services()
    agent_entity = svc.agents.get(stale.assigned_agent_id or "")
    assert agent_entity is not None
    # the stale copy still says "unanswered": the conditional write refuses it, nothing is written twice
    from agent_jobs.models.callbacks import CompletedCallback

    second = callbacks._completed(
        svc, stale, agent_entity, 1, CompletedCallback(status="completed", output=OUTPUT), datetime.now(UTC)
    )
    assert second.applied is False
    assert [log.status for log in svc.jobs.logs(job["id"])].count(LogKind.AGENT_RESPONSE) == 1


# --- the owner's deadline ----------------------------------------------------------------------------------------


def test_a_job_past_its_deadline_fails_while_waiting_for_its_agent(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    agent_id = register(admin, agent.url)
    job = create(api, agent_id, deadlineSeconds=300)
    assert job["deadlineSeconds"] == 300
    execute(stack)
    created = parse_time(job["createdAt"])
    assert sweep(services(), created + timedelta(seconds=290), {}).failed == []
    report = sweep(services(), created + timedelta(seconds=301), {})
    assert report.failed == [job["id"]]
    final, logs = job_of(api, job["id"])
    assert final["status"] == "FAILED"
    assert logs[-1]["message"] == "deadline of 300 s (deadlineSeconds) passed before the job finished"


def test_a_queued_job_past_its_deadline_fails(stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent) -> None:
    agent_id = register(admin, agent.url)
    job = create(api, agent_id, deadlineSeconds=60)  # queued: the worker never picked it up
    report = sweep(services(), parse_time(job["createdAt"]) + timedelta(seconds=61), {})
    assert report.failed == [job["id"]] and stored(job["id"]).status == "FAILED"
    execute(stack)  # the message arrives late: the agent is never called
    assert agent.requests == []


def test_a_callback_past_the_deadline_fails_the_job_at_once(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    agent_id = register(admin, agent.url)
    job = create(api, agent_id, deadlineSeconds=1)
    execute(stack)
    time.sleep(1.1)
    reply = callback(job["id"], 1, {"status": "completed", "output": OUTPUT})
    assert reply.status == 409 and "deadline" in reply.body["error"]["message"]
    assert stored(job["id"]).status == "FAILED"


def test_a_job_at_a_checkpoint_past_its_deadline_fails_and_its_execution_ends(
    stack: dict[str, str], api: Api, admin: Api, agent: AsyncAgent
) -> None:
    agent_id = register(admin, agent.url, job_type="code-generation")
    job = create(api, agent_id, job_type="code-generation", deadlineSeconds=600)
    run_until(stack, lambda: stored(job["id"]).waiting_for == "agent")
    assert callback(job["id"], 1, {"status": "completed", "output": OUTPUT}).status == 200
    checkpoints = services().checkpoints
    run_until(stack, lambda: any(c.status == "PENDING" for c in checkpoints.for_job(job["id"])))

    report = sweep(services(), parse_time(job["createdAt"]) + timedelta(seconds=601), {})
    assert report.failed == [job["id"]]
    assert stored(job["id"]).status == "FAILED"
    assert [c.status for c in checkpoints.for_job(job["id"])] == ["CANCELLED"]
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = wait_arn(job["id"])  # the checkpoint's wait
    deadline = time.monotonic() + 10
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        run_queues(stack)
        time.sleep(0.05)
    assert sfn.describe_execution(executionArn=arn)["status"] != "RUNNING"
    run_queues(stack)
    assert stored(job["id"]).status == "FAILED"  # the wait's end changes nothing


# --- the example async agent, its callbacks over real HTTP through the local gateway -------------------------


def test_the_example_long_task_agent_reports_progress_and_completes(
    stack: dict[str, str], api: Api, admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from examples.agents.definitions import AGENTS_BY_TYPE
    from examples.agents.server import AgentServer
    from local.gateway import Gateway
    from local.jwt_auth import JwtVerifier

    gateway = Gateway(0, JwtVerifier("http://127.0.0.1:9/jwks", "unused", []), access_log=False).start()
    agents = AgentServer({"long-task": SECRET}, port=0, time_scale=0.01).start()
    try:
        monkeypatch.setenv("PUBLIC_API_URL", f"http://127.0.0.1:{gateway.port}")
        reset()
        definition = AGENTS_BY_TYPE["long-task"]
        registration = definition.registration(agents.endpoint("long-task"), SECRET, time_scale=0.01)
        assert registration["mode"] == "async" and registration["maxRunSeconds"] == 6
        reply = admin.post("/api/admin/agents", registration)
        assert reply.status == 201, reply.body
        job = create(api, reply.body["agent"]["id"], inputData={"topic": "queues"})
        seen: list[float] = []
        lock = threading.Lock()

        def completed() -> bool:
            current = stored(job["id"])
            with lock:
                progress = current.current_progress.get("progress")
                if progress is not None and progress not in seen:
                    seen.append(progress)
            return current.status == "COMPLETED"

        run_until(stack, completed, timeout=30)
        final, logs = job_of(api, job["id"])
        assert final["result"]["report"]["topic"] == "queues"
        progress_logs = [log for log in logs if log["status"] == "AGENT_CALLBACK"]
        assert len(progress_logs) == len(definition.steps)  # one per step, each signed and taken
        assert [c["httpStatus"] for c in agents._server.recent_callbacks()] == [200] * (len(definition.steps) + 1)
    finally:
        agents.stop()
        gateway.stop()
