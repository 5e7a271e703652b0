"""The local stack's parts on their own: EMF forwarding to moto's CloudWatch, the pollers' rules, the
authorizer's claims, the example agents over HTTP, a port conflict, and a restart after a crash."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from jsonschema import Draft202012Validator

from agent_jobs.integrations.signing import sign_headers
from examples.agents.definitions import AGENTS_BY_TYPE
from examples.agents.server import AgentServer
from local import emf
from local.config import free_port
from local.jwt_auth import bearer_token, gateway_claims
from local.lambda_runtime import failed_ids, sqs_event
from local.moto_server import MotoServer
from tests.e2e.conftest import ROOT, stack_env, start_stack, stop_stack
from tests.e2e.test_seed_004 import CODE_GENERATION, DATA_PROCESSING, SIMPLE_TASK, WORKFLOW_JOB

pytestmark = pytest.mark.e2e
SECRET = "example-secret-of-32-characters!"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(free_port(), tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


# --- EMF ----------------------------------------------------------------------------------------------


def test_powertools_metrics_are_forwarded_to_cloudwatch(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    forwarder = emf.EmfForwarder(region="us-east-1", endpoint_url=moto.endpoint).start()
    target = io.StringIO()
    monkeypatch.setattr(sys, "stdout", target)
    restore = emf.install(forwarder.submit)
    try:
        metrics = Metrics(namespace="LocalEmfTest", service="emf-test")
        metrics.add_dimension(name="jobType", value="simple-task")
        metrics.add_metric(name="JobsCreated", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="AgentLatency", unit=MetricUnit.Milliseconds, value=12.5)
        metrics.add_metric(name="AgentLatency", unit=MetricUnit.Milliseconds, value=20)
        print("a plain log line")
        metrics.flush_metrics()
    finally:
        restore()
        forwarder.stop()
    assert target.getvalue() == "a plain log line\n"  # EMF consumed, everything else passed through
    cloudwatch = boto3.client(
        "cloudwatch",
        region_name="us-east-1",
        endpoint_url=moto.endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    found = {m["MetricName"]: m for m in cloudwatch.list_metrics(Namespace="LocalEmfTest")["Metrics"]}
    assert set(found) == {"JobsCreated", "AgentLatency"}
    assert {"Name": "jobType", "Value": "simple-task"} in found["JobsCreated"]["Dimensions"]
    stats = cloudwatch.get_metric_statistics(
        Namespace="LocalEmfTest",
        MetricName="AgentLatency",
        Dimensions=found["AgentLatency"]["Dimensions"],
        StartTime=time.time() - 600,
        EndTime=time.time() + 600,
        Period=60,
        Statistics=["SampleCount", "Maximum"],
    )["Datapoints"]
    assert sum(point["SampleCount"] for point in stats) == 2
    assert max(point["Maximum"] for point in stats) == 20


def test_emf_stdout_keeps_lines_whole_across_threads() -> None:
    target = io.StringIO()
    seen: list[dict[str, Any]] = []
    wrapper = emf.EmfStdout(target, seen.append)

    def write(n: int) -> None:
        for i in range(50):
            wrapper.write(f"thread {n} line {i}")
            wrapper.write("\n")
            wrapper.write(json.dumps({"_aws": {"CloudWatchMetrics": []}, "n": n}) + "\n")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = target.getvalue().splitlines()
    assert len(lines) == 200 and all(line.startswith("thread ") for line in lines)
    assert len(seen) == 200


def test_emf_values_arrays_and_dimension_sets() -> None:
    document = {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "AgentJobs",
                    "Dimensions": [["service"], ["service", "jobType"]],
                    "Metrics": [{"Name": "JudgeTokens", "Unit": "Count", "StorageResolution": 1}],
                }
            ],
        },
        "service": "agent-jobs",
        "jobType": "code-generation",
        "JudgeTokens": [10, 20, 30],
    }
    data = emf.metric_data(document)["AgentJobs"]
    assert len(data) == 2  # one per dimension set
    assert data[0]["Values"] == [10.0, 20.0, 30.0] and data[0]["Counts"] == [1.0, 1.0, 1.0]
    assert data[1]["Dimensions"] == [
        {"Name": "service", "Value": "agent-jobs"},
        {"Name": "jobType", "Value": "code-generation"},
    ]
    assert data[0]["StorageResolution"] == 1
    assert emf.parse_emf('{"level": "INFO", "message": "CloudWatchMetrics mentioned"}') is None


# --- the pollers' and the authorizer's rules -------------------------------------------------------------


def test_batch_item_failures_follow_lambdas_rules() -> None:
    batch = {"a", "b", "c"}
    assert failed_ids(None, batch, True) == set()
    assert failed_ids({"batchItemFailures": []}, batch, True) == set()
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, batch, True) == {"b"}
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, batch, True) == batch
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, batch, True) == batch
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, batch, False) == set()


def test_sqs_event_shape() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "Body": '{"kind": "execute"}',
        "MD5OfBody": "x",
        "Attributes": {"ApproximateReceiveCount": "2"},
        "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}},
    }
    record = sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:agent-jobs-execute", "us-east-1")["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":agent-jobs-execute")
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["k"]["stringValue"] == "v"


def test_claims_as_api_gateway_passes_them() -> None:
    claims = gateway_claims({"sub": "s", "cognito:groups": ["admins", "ops"], "exp": 5, "email_verified": True})
    assert claims == {"sub": "s", "cognito:groups": "[admins ops]", "exp": "5", "email_verified": "true"}
    assert bearer_token("Bearer abc") == "abc" and bearer_token("abc") == "abc" and bearer_token("") is None


# --- the example agents ----------------------------------------------------------------------------------


def agent_request(job_type: str, payload: dict[str, Any], feedback: str | None = None) -> dict[str, Any]:
    return {
        "jobId": "job-1",
        "attempt": 1,
        "jobType": job_type,
        "description": payload["taskDescription"],
        "acceptanceCriteria": "",
        "input": payload["inputData"],
        "feedback": feedback,
    }


@pytest.mark.parametrize(
    "payload", [SIMPLE_TASK, CODE_GENERATION, DATA_PROCESSING, WORKFLOW_JOB], ids=lambda p: p["taskDescription"]
)
def test_example_agents_answer_the_seed_payloads_signed(payload: dict[str, Any]) -> None:
    agent = AGENTS_BY_TYPE[payload["jobType"]]
    request_input = dict(payload["inputData"])
    if payload["jobType"] == "code-generation":
        request_input.setdefault("description", payload["taskDescription"])  # the inputSchema requires it
    Draft202012Validator(agent.input_schema).validate(request_input)
    server = AgentServer({agent.job_type: SECRET}, port=0).start()
    try:
        body = json.dumps(agent_request(agent.job_type, {**payload, "inputData": request_input})).encode()
        url = server.endpoint(agent.job_type)
        unsigned = httpx.post(url, content=body, headers={"content-type": "application/json"})
        assert unsigned.status_code == 401
        wrong = sign_headers("another-secret-of-enough-length", body, msg_id="msg_1", timestamp=int(time.time()))
        assert httpx.post(url, content=body, headers=wrong).status_code == 401
        headers = sign_headers(SECRET, body, msg_id="msg_1", timestamp=int(time.time()))
        answer = httpx.post(url, content=body, headers={**headers, "content-type": "application/json"})
        assert answer.status_code == 200, answer.text
        Draft202012Validator(agent.output_schema).validate(answer.json())
        assert [r["signatureOk"] for r in httpx.get(f"{server.base_url}/requests").json()["requests"]] == [
            False,
            False,
            True,
        ]
    finally:
        server.stop()


def test_example_agents_do_sensible_work() -> None:
    rows = [{"id": 1, "name": "  john   SMITH ", "email": " John@Example.COM "}]
    data = AGENTS_BY_TYPE["data-processing"].work(
        agent_request(
            "data-processing", {**DATA_PROCESSING, "inputData": {**DATA_PROCESSING["inputData"], "data": rows}}
        )
    )
    assert data["data"] == [{"id": 1, "name": "John Smith", "email": "john@example.com"}]
    assert data["plan"]["steps"] and "1 email(s) lowercased" in data["summary"]

    code = AGENTS_BY_TYPE["code-generation"].work(agent_request("code-generation", CODE_GENERATION))
    files = {f["path"]: f["content"] for f in code["files"]}
    assert "export function authenticate() { return true; }" in files["lib/auth.ts"]
    assert 'import { authenticate } from "./auth"' in files["lib/auth.test.ts"]
    generated = AGENTS_BY_TYPE["code-generation"].work(
        agent_request("code-generation", {"taskDescription": "Slugify titles", "inputData": {}})
    )
    assert [f["path"] for f in generated["files"]] == ["generated/slugify_titles.py", "tests/test_slugify_titles.py"]
    compile(generated["files"][0]["content"], "generated.py", "exec")

    simple = AGENTS_BY_TYPE["simple-task"].work(agent_request("simple-task", SIMPLE_TASK, feedback="say more"))
    assert simple["result"]["action"] == "update-profile" and "say more" in simple["summary"]


# --- starting and stopping --------------------------------------------------------------------------------


def test_a_busy_port_gets_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**stack_env(), "AGENT_JOBS_API_PORT": str(port)}
        done = subprocess.run(
            [sys.executable, "-m", "local.stack", "--state-file", str(tmp_path / "s.json")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert f"port {port} (the API gateway) is already in use" in done.stderr
    assert "AGENT_JOBS_API_PORT" in done.stderr and "--ports-auto" in done.stderr
    assert not (tmp_path / "s.json").exists()


def test_a_second_start_after_a_crash_works(tmp_path: Path) -> None:
    ports = [free_port() for _ in range(4)]
    flags = ["--api-port", str(ports[0]), "--aws-port", str(ports[1]), "--agents-port", str(ports[2])]
    flags += ["--judge-port", str(ports[3])]
    (tmp_path / "first").mkdir()
    first = start_stack(tmp_path / "first", *flags)
    first.process.send_signal(signal.SIGKILL)  # a crash: no cleanup at all
    first.process.wait(10)

    def moto_gone() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", ports[1])) != 0

    deadline = time.monotonic() + 15
    while not moto_gone() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert moto_gone(), "the moto server outlived the crashed stack"

    (tmp_path / "second").mkdir()
    second = start_stack(tmp_path / "second", *flags)
    try:
        assert second.state["apiUrl"].endswith(f":{ports[0]}")
        with second.client("user") as client:
            assert client.get("/api/agent-jobs").status_code == 200
    finally:
        assert stop_stack(second) == 0, second.log()[-3000:]
    assert os.environ.get("AWS_ENDPOINT_URL") is None  # the stack's environment stayed in its process
