"""The local stack as a subprocess on free ports (``python -m local.stack --ports-auto``), and HTTP clients
that call it with the demo users' bearer tokens, as seed 004's curl commands do with a cookie."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0  # generous: CI machines run other tests at the same time
STOP_TIMEOUT = 30.0
FLOW_TIMEOUT = 30.0  # a job's trip through queues, agent, judge and workflow
T = TypeVar("T")


def stack_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("OPENAI_API_KEY", None)  # the offline judge: deterministic, no network
    env.pop("AWS_ENDPOINT_URL", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)])
    return env


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    state_file: Path
    log_file: Path
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return str(self.state["apiUrl"])

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def client(self, user: str | None = "user", token: str | None = None) -> httpx.Client:
        headers = {}
        bearer = token or (self.state["tokens"][user] if user else None)
        if bearer:
            headers["authorization"] = f"Bearer {bearer}"
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=30.0, trust_env=False)

    def aws(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            region_name=self.state["region"],
            endpoint_url=self.state["awsEndpointUrl"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


def start_stack(tmp: Path, *extra: str, env: dict[str, str] | None = None) -> RunningStack:
    """Starts ``python -m local.stack`` and waits until it wrote its state file (or died)."""
    state_file = tmp / "stack.json"
    log_file = tmp / "stack.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.stack", "--state-file", str(state_file), *extra],
            cwd=ROOT,
            env=env or stack_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = RunningStack(process, state_file, log_file)
    deadline = time.monotonic() + READY_TIMEOUT
    while not state_file.exists():
        if process.poll() is not None:
            pytest.fail(f"the stack exited with {process.returncode} before it was ready:\n{running.log()[-4000:]}")
        if time.monotonic() > deadline:
            stop_stack(running)
            pytest.fail(f"the stack was not ready within {READY_TIMEOUT:g}s:\n{running.log()[-4000:]}")
        time.sleep(0.2)
    running.state = json.loads(state_file.read_text())
    return running


def stop_stack(running: RunningStack) -> int:
    """Ctrl+C, as a developer would; the exit code (killed after ``STOP_TIMEOUT``: -9)."""
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGINT)
        try:
            return running.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()
            return -9
    return int(running.process.returncode)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("stack"), "--ports-auto", "--schedule-seconds", "5")
    yield running
    code = stop_stack(running)
    assert code == 0, f"the stack did not stop cleanly (exit {code}):\n{running.log()[-4000:]}"
    assert not running.state_file.exists(), "a cleanly stopped stack removes its state file"


@pytest.fixture(scope="session")
def user(stack: RunningStack) -> Iterator[httpx.Client]:
    with stack.client("user") as client:
        yield client


@pytest.fixture(scope="session")
def user2(stack: RunningStack) -> Iterator[httpx.Client]:
    with stack.client("user2") as client:
        yield client


@pytest.fixture(scope="session")
def admin(stack: RunningStack) -> Iterator[httpx.Client]:
    with stack.client("admin") as client:
        yield client


@pytest.fixture(scope="session")
def anonymous(stack: RunningStack) -> Iterator[httpx.Client]:
    with stack.client(None) as client:
        yield client


def wait_for(check: Callable[[], T | None], what: str, timeout: float = FLOW_TIMEOUT, interval: float = 0.5) -> T:
    """Polls ``check`` until it returns something truthy; fails with ``what`` (and the last value) otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:g}s waiting for {what} (last: {last!r})")


def job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    response = client.get(f"/api/agent-jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_status(client: httpx.Client, job_id: str, *statuses: str, timeout: float = FLOW_TIMEOUT) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        detail = job(client, job_id)
        return detail if detail["job"]["status"] in statuses else None

    try:
        return wait_for(reached, f"job {job_id} to reach {' or '.join(statuses)}", timeout)
    except pytest.fail.Exception:
        detail = job(client, job_id)
        logs = [(log["status"], log.get("message")) for log in detail["logs"]]
        pytest.fail(f"job {job_id} is {detail['job']['status']}, not {statuses}; its log: {logs}")
