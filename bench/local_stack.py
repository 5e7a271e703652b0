"""The local stack as a benchmark target: started on free ports under ``bench.stack_probe``, driven over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_SECONDS = 90


def stack_available() -> bool:
    return (ROOT / "local" / "stack.py").exists()


def parse_time(value: str) -> float:
    """An ISO-8601 UTC timestamp of the API (``...Z``) as epoch seconds."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class LocalStack:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.state_file = workdir / "stack.json"
        self.probe_file = workdir / "probe.json"
        self.log_file = workdir / "stack.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.state: dict[str, Any] = {}
        self.client: httpx.Client | None = None
        self._sqs: Any = None

    def __enter__(self) -> LocalStack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for stale in (self.state_file, self.probe_file):
            stale.unlink(missing_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)])
        env.setdefault("AGENT_JOBS_SCHEDULE_SECONDS", "3600")  # no gauge/sweeper run inside a measurement
        env.pop("OPENAI_API_KEY", None)  # the offline judge stand-in: instant, and no tokens spent
        command = [sys.executable, "-m", "bench.stack_probe", "--probe-out", str(self.probe_file), "--"]
        command += ["--ports-auto", "--state-file", str(self.state_file), "--quiet"]
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the local stack exited ({self.process.returncode}); see {self.log_file}")
            if self.state_file.exists():
                try:
                    state = json.loads(self.state_file.read_text())
                except ValueError:
                    state = {}
                if state.get("pid") == self.process.pid:
                    self.state = state
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the local stack was not ready in {READY_TIMEOUT_SECONDS} s; see {self.log_file}")
            time.sleep(0.2)
        self.client = self.http(self.state["tokens"]["user"])
        return self

    def http(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.state["apiUrl"],
            headers={"authorization": f"Bearer {token}"},
            timeout=60.0,
            trust_env=False,
        )

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    # --- probe ----------------------------------------------------------------------------------------
    def probe(self) -> dict[str, Any]:
        """The stack's counters now (``bench.stack_probe``)."""
        assert self.process is not None
        before = self.probe_file.stat().st_mtime_ns if self.probe_file.exists() else 0
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.probe_file.exists() and self.probe_file.stat().st_mtime_ns != before:
                try:
                    data: dict[str, Any] = json.loads(self.probe_file.read_text())
                    return data
                except ValueError:
                    pass
            time.sleep(0.05)
        raise TimeoutError("the stack probe did not answer")

    # --- API --------------------------------------------------------------------------------------------
    def agent_id(self, job_type: str) -> str:
        assert self.client is not None
        agents = self.client.get("/api/agents").json()["agents"]
        return next(a["id"] for a in agents if job_type in (a.get("jobTypes") or []))

    def create(self, body: dict[str, Any], client: httpx.Client | None = None) -> dict[str, Any]:
        reply = (client or self.client).post("/api/jobs", json=body)  # type: ignore[union-attr]
        if reply.status_code != 201:
            raise RuntimeError(f"create failed: {reply.status_code} {reply.text[:300]}")
        job: dict[str, Any] = reply.json()["job"]
        return job

    def job(self, job_id: str) -> dict[str, Any]:
        assert self.client is not None
        found: dict[str, Any] = self.client.get(f"/api/jobs/{job_id}").json()["job"]
        return found

    def my_jobs(self) -> Iterator[dict[str, Any]]:
        """Every job of the user, newest first (the list API, 100 a page)."""
        assert self.client is not None
        token: str | None = None
        while True:
            params = {"limit": "100", **({"nextToken": token} if token else {})}
            page = self.client.get("/api/jobs", params=params).json()
            yield from page["jobs"]
            token = page.get("nextToken")
            if not token:
                return

    def queue_depth(self) -> int:
        """Messages waiting or in flight on the execute and validate queues (moto, read directly)."""
        import boto3

        if self._sqs is None:
            self._sqs = boto3.client(
                "sqs",
                region_name="us-east-1",
                endpoint_url=self.state["awsEndpointUrl"],
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
            )
        total = 0
        for key in ("EXECUTE_QUEUE_URL", "EXECUTE_HIGH_QUEUE_URL", "VALIDATE_QUEUE_URL"):
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=self.state["env"][key],
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            total += int(attributes["ApproximateNumberOfMessages"]) + int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            )
        return total
