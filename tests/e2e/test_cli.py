"""The installed ``agent-jobs`` script against the local stack, as a person and a program would run it.

Every call is a subprocess of the console script pip put in the venv's bin, with its own ``XDG_CONFIG_HOME`` (one
per signed-in identity) and none of the caller's AGENT_JOBS_* variables. One stack for the whole file (the
session's).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_jobs_cli.operations import mismatches
from tests.e2e.conftest import ROOT, RunningStack, stack_env, wait_for

pytestmark = pytest.mark.e2e

SCRIPT = Path(sys.executable).parent / "agent-jobs"
COMMAND_TIMEOUT = 90.0  # watch waits for a whole job; the stack shares two cores with other tests
CODE_INPUT = {"files": [{"path": "lib/auth.ts", "content": "export function authenticate() { return true; }"}]}


@dataclass
class Cli:
    """``agent-jobs`` with one identity's config folder."""

    config_home: Path
    api: str

    @property
    def credentials_file(self) -> Path:
        return self.config_home / "agent-jobs" / "credentials.json"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("AGENT_JOBS_") and "proxy" not in key.lower()
        }
        return {**env, "XDG_CONFIG_HOME": str(self.config_home), **extra}

    def __call__(self, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(**env),
            timeout=COMMAND_TIMEOUT,
            check=False,
        )

    def json(self, *args: str) -> dict[str, Any]:
        done = self(*args, "--json")
        assert done.returncode == 0, f"agent-jobs {' '.join(args)} → {done.returncode}: {done.stderr}"
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    def create(self, *flags: str) -> dict[str, Any]:
        job: dict[str, Any] = self.json("create", *flags)["job"]
        return job


def person(stack: RunningStack, folder: Path, username: str) -> Cli:
    cli = Cli(folder, stack.api_url)
    password = stack.state["passwords"][username]
    done = cli("login", "--api", stack.api_url, "--username", username, "--password-stdin", stdin=f"{password}\n")
    assert done.returncode == 0, done.stderr
    assert f"signed in to {stack.api_url} as {username}" in done.stdout
    return cli


@pytest.fixture(scope="module")
def installed() -> Path:
    if not SCRIPT.exists():
        pytest.fail(f"{SCRIPT} is missing: install the package (make install, or pip install -e .)")
    return SCRIPT


@pytest.fixture(scope="module")
def user_cli(installed: Path, stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return person(stack, tmp_path_factory.mktemp("cli-user"), "user")


@pytest.fixture(scope="module")
def admin_cli(installed: Path, stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return person(stack, tmp_path_factory.mktemp("cli-admin"), "admin")


@pytest.fixture(scope="module")
def machine_client(stack: RunningStack) -> dict[str, Any]:
    """``make client NAME=cli-e2e``: a client-credentials app client on the running stack."""
    done = subprocess.run(
        [sys.executable, "-m", "local.client", "cli-e2e", "--state-file", str(stack.state_file)],
        cwd=ROOT,
        env=stack_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    client: dict[str, Any] = json.loads(done.stdout)
    return client


def pending_checkpoint(cli: Cli, job_id: str, attempt: int = 1) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        detail = cli.json("get", job_id)
        pending = [c for c in detail["checkpoints"] if c["status"] == "PENDING" and c["attempt"] >= attempt]
        return pending[0] if pending else None

    return wait_for(found, f"a pending checkpoint of job {job_id} (attempt ≥ {attempt})")


def code_generation_job(cli: Cli, name: str) -> dict[str, Any]:
    return cli.create("--type", "code-generation", "--name", name, "--description", "Generate auth code",
                      "--input", json.dumps(CODE_INPUT))  # fmt: skip


# --- the contract ---------------------------------------------------------------------------------------------


def test_every_cli_operation_is_in_the_running_apis_document(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/openapi.json")
    assert response.status_code == 200, response.text
    assert mismatches(response.json()) == []


# --- signing in -----------------------------------------------------------------------------------------------


def test_a_person_signs_in_and_the_credentials_are_private(user_cli: Cli, stack: RunningStack) -> None:
    saved = json.loads(user_cli.credentials_file.read_text())
    entry = saved["apis"][stack.api_url]
    assert saved["current"] == stack.api_url and entry["username"] == "user" and entry["refresh_token"]
    assert stat.S_IMODE(user_cli.credentials_file.stat().st_mode) == 0o600
    listed = user_cli("list")
    assert listed.returncode == 0, listed.stderr
    for secret in (entry["token"], entry["refresh_token"], stack.state["passwords"]["user"]):
        assert secret not in listed.stdout + listed.stderr


def test_an_expired_session_is_refreshed_with_the_refresh_token(
    installed: Path, stack: RunningStack, tmp_path: Path
) -> None:
    cli = person(stack, tmp_path, "user2")
    saved = json.loads(cli.credentials_file.read_text())
    old = saved["apis"][stack.api_url]
    old["expires_at"] = time.time() - 1
    cli.credentials_file.write_text(json.dumps(saved))
    listed = cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    renewed = json.loads(cli.credentials_file.read_text())["apis"][stack.api_url]
    assert renewed["expires_at"] > time.time() + 60  # renewed (it was in the past)
    assert renewed["refresh_token"] == old["refresh_token"]


def test_a_machine_client_signs_in_with_client_credentials(
    installed: Path, stack: RunningStack, machine_client: dict[str, Any], tmp_path: Path
) -> None:
    cli = Cli(tmp_path, stack.api_url)
    done = cli(
        "login", "--api", stack.api_url, "--client-id", machine_client["clientId"],
        AGENT_JOBS_CLIENT_SECRET=machine_client["clientSecret"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert machine_client["clientSecret"] not in done.stdout + done.stderr
    job = cli.create("--description", "from a program", "--name", "ci job")
    assert machine_client["clientId"] in job["userId"]  # the client acts as itself
    # an expired token: a new one from the token endpoint, with the stored secret
    saved = json.loads(cli.credentials_file.read_text())
    token = saved["apis"][stack.api_url]["token"]
    saved["apis"][stack.api_url]["expires_at"] = 0
    cli.credentials_file.write_text(json.dumps(saved))
    assert cli.json("get", job["id"])["job"]["id"] == job["id"]
    assert json.loads(cli.credentials_file.read_text())["apis"][stack.api_url]["token"] != token
    # a scope it was not given: the API's 403 → exit 3
    assert cli("approve", "some-checkpoint").returncode == 3


def test_a_wrong_password_exits_3(installed: Path, stack: RunningStack, tmp_path: Path) -> None:
    cli = Cli(tmp_path, stack.api_url)
    done = cli("login", "--api", stack.api_url, "--username", "user", "--password-stdin", stdin="Wrong-pass-123\n")
    assert done.returncode == 3 and "incorrect username or password" in done.stderr
    assert not cli.credentials_file.exists()


# --- jobs -----------------------------------------------------------------------------------------------------


def test_create_then_watch_until_completed(user_cli: Cli) -> None:
    job = user_cli.create("--name", "cli simple", "--description", "Process user data",
                          "--input", '{"userId": "user-123"}', "--priority", "5")  # fmt: skip
    assert job["status"] in {"PENDING", "ASSIGNED", "IN_PROGRESS", "COMPLETED"}
    watched = user_cli("watch", job["id"])
    assert watched.returncode == 0, watched.stderr
    assert "live over the WebSocket" in watched.stderr  # the stack's realtime endpoint, not polling
    lines = watched.stdout.splitlines()
    assert lines[0].startswith(f"{job['id']} ") and f"job {job['id']} COMPLETED" in lines
    assert '"userId": "user-123"' in watched.stdout  # the result, shown
    polled = user_cli("watch", job["id"], "--poll", "--json")
    assert polled.returncode == 0 and json.loads(polled.stdout)["job"]["status"] == "COMPLETED"
    shown = user_cli("get", job["id"])
    assert shown.returncode == 0 and "Status:   COMPLETED" in shown.stdout and "Timeline:" in shown.stdout


def test_create_from_a_json_file(user_cli: Cli, tmp_path: Path) -> None:
    body = tmp_path / "job.json"
    body.write_text(json.dumps({"taskDescription": "from a file", "inputData": {"userId": "u-7"}, "priority": 3}))
    job = user_cli.create("--file", str(body), "--priority", "4")
    assert job["description"] == "from a file" and job["priority"] == 4 and job["inputData"] == {"userId": "u-7"}


def test_list_with_json_and_filters(user_cli: Cli) -> None:
    made = {user_cli.create("--description", f"listed {i}", "--type", "simple-task")["id"] for i in range(3)}
    listed = user_cli.json("list", "--type", "simple-task", "--limit", "2", "--all")
    ids = [job["id"] for job in listed["jobs"]]
    assert made <= set(ids) and len(ids) == len(set(ids)) and listed["nextToken"] is None
    assert {job["jobType"] for job in listed["jobs"]} == {"simple-task"}
    table = user_cli("list", "--limit", "2")
    assert table.returncode == 0 and table.stdout.splitlines()[0].split() == [
        "ID",
        "STATUS",
        "TYPE",
        "PRI",
        "CREATED",
        "NAME",
    ]
    assert "--next-token" in table.stderr


def test_tags_on_create_and_as_a_filter(user_cli: Cli) -> None:
    job = user_cli.create("--description", "tagged", "--tag", "team:cli", "--tag", "run:e2e")
    assert sorted(job["tags"]) == ["run:e2e", "team:cli"]
    tagged = user_cli.json("list", "--tag", "team:cli", "--all")
    assert job["id"] in {j["id"] for j in tagged["jobs"]}


def test_cancel_a_waiting_job(user_cli: Cli, tmp_path: Path) -> None:
    body = tmp_path / "held.json"
    body.write_text(json.dumps({"description": "held for a person", "autoAssign": False}))
    job = user_cli.create("--file", str(body))
    assert job["status"] == "PENDING"
    cancelled = user_cli("cancel", job["id"], "--reason", "not needed")
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == f"job {job['id']} is CANCELLED"
    assert user_cli("watch", job["id"]).returncode == 1  # CANCELLED
    again = user_cli("cancel", job["id"])
    assert again.returncode == 1 and "CANCELLED" in again.stderr  # the API's 409, its message


def test_create_from_a_template(user_cli: Cli, stack: RunningStack) -> None:
    token = json.loads(user_cli.credentials_file.read_text())["apis"][stack.api_url]["token"]
    with stack.client(token=token) as http:
        made = http.post(
            "/api/templates",
            json={"name": "greeting", "body": {"name": "Greet {{who}}", "description": "Say hello to {{who}}"}},
        )
    assert made.status_code == 201, made.text
    template = made.json()["template"]
    job = user_cli.create("--template", template["id"], "--var", "who=Ada", "--priority", "6")
    assert job["name"] == "Greet Ada" and job["description"] == "Say hello to Ada" and job["priority"] == 6
    missing = user_cli("create", "--template", template["id"])
    assert missing.returncode == 1 and "who" in missing.stderr  # the API names the missing variable


# --- checkpoint decisions ---------------------------------------------------------------------------------------


def test_approve_a_code_generation_checkpoint(user_cli: Cli, admin_cli: Cli) -> None:
    job = code_generation_job(user_cli, "cli approve")
    checkpoint = pending_checkpoint(user_cli, job["id"])
    refused = user_cli("approve", checkpoint["id"])
    assert refused.returncode == 3  # not an admin: 403
    approved = admin_cli("approve", checkpoint["id"], "--comment", "looks right")
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith(f"checkpoint {checkpoint['id']} is APPROVED")
    watched = user_cli("watch", job["id"], "--json")
    assert watched.returncode == 0, watched.stderr
    done = json.loads(watched.stdout)
    assert done["job"]["status"] == "COMPLETED" and done["checkpoints"][0]["comment"] == "looks right"


def test_reject_a_checkpoint(user_cli: Cli, admin_cli: Cli) -> None:
    job = code_generation_job(user_cli, "cli reject")
    checkpoint = pending_checkpoint(user_cli, job["id"])
    rejected = admin_cli.json("reject", checkpoint["id"], "--reason", "not secure enough")
    assert rejected["checkpoint"]["status"] == "REJECTED"
    assert rejected["checkpoint"]["rejectionReason"] == "not secure enough"
    watched = user_cli("watch", job["id"])
    assert watched.returncode == 1 and f"job {job['id']} REJECTED" in watched.stdout


def test_request_changes_runs_the_agent_again(user_cli: Cli, admin_cli: Cli) -> None:
    job = code_generation_job(user_cli, "cli changes")
    first = pending_checkpoint(user_cli, job["id"])
    changed = admin_cli.json("request-changes", first["id"], "--feedback", "add a test file")
    assert changed["checkpoint"]["status"] == "CHANGES_REQUESTED"
    second = pending_checkpoint(user_cli, job["id"], attempt=first["attempt"] + 1)
    assert second["id"] != first["id"]
    assert admin_cli("approve", second["id"]).returncode == 0
    assert user_cli("watch", job["id"]).returncode == 0


# --- errors -----------------------------------------------------------------------------------------------------


def test_an_unknown_job_exits_1_with_the_apis_message(user_cli: Cli) -> None:
    missing = user_cli("get", "no-such-job")
    assert missing.returncode == 1
    assert missing.stderr.startswith("agent-jobs: ") and "not found" in missing.stderr
    assert json.loads(user_cli("get", "no-such-job", "--json").stdout)["success"] is False


def test_no_token_exits_3(installed: Path, stack: RunningStack, tmp_path: Path) -> None:
    nobody = Cli(tmp_path, stack.api_url)
    assert nobody("list").returncode == 3
    unknown = nobody("list", "--api", stack.api_url)
    assert unknown.returncode == 3 and "not signed in" in unknown.stderr
    forged = nobody("list", "--api", stack.api_url, AGENT_JOBS_TOKEN="not-a-jwt")
    assert forged.returncode == 3


def test_an_env_token_and_api_need_no_login(installed: Path, stack: RunningStack, tmp_path: Path) -> None:
    cli = Cli(tmp_path, stack.api_url)
    listed = cli("list", "--json", AGENT_JOBS_API=stack.api_url, AGENT_JOBS_TOKEN=stack.state["tokens"]["user"])
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["success"] is True
    assert not cli.credentials_file.exists()
