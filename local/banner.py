"""What the local stack prints once it is ready: where everything is and how to call it."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

from examples.agents.definitions import AGENTS
from local.cognito import DEMO_USERS


def _display_path(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _localhost(url: str) -> str:
    """seed 004 writes localhost:3000; both names reach the loopback-bound servers."""
    return url.replace("://127.0.0.1:", "://localhost:")


def render(state: dict[str, Any], state_file: Path) -> str:
    api = _localhost(state["apiUrl"])
    aws = state["awsEndpointUrl"]
    path = shlex.quote(_display_path(state_file))
    token = f"$(jq -r .tokens.user {path})"
    example = (
        '{"jobType": "simple-task", "taskDescription": "Process user data", '
        '"inputData": {"userId": "user-123", "action": "update-profile"}, "priority": 5}'
    )
    users = "\n".join(
        f"    {user.username:<7} {user.password:<16}{'  (admins group)' if user.admin else ''}".rstrip()
        for user in DEMO_USERS
    )
    lines = [
        "",
        f"Agent Jobs — local stack ready in {state['readySeconds']:.1f} s",
        "",
        f"  API              {api}   (seed 004's /api/agent-jobs… and /api/jobs…)",
        f"  Swagger UI       {api}/api/docs",
        f"  Console          {api}/app   (every user: my jobs, new job, job pages; admins: {api}/admin)",
        f"  Command line     .venv/bin/agent-jobs login --api {api} --username user   (then: create, watch…)",
        f"  Real time        {_localhost(state['realtimeUrl'])}?token=…   (WebSocket: job events as they happen)",
        f"  AWS endpoint     {aws}   (moto: DynamoDB, SQS, Step Functions, Cognito, CloudWatch, Lambda)",
        f"                   e.g. aws --endpoint-url {aws} --region {state['region']} sqs list-queues",
        f"  Example agents   {state['agentsUrl']}   ({', '.join(agent.job_type for agent in AGENTS)} — registered)",
        f"  {state['judge']['description']}",
        f"  Scheduled        metrics/sweeper every {state['scheduleSeconds']:g} s; "
        f"CloudWatch dashboard {state['dashboard']!r}",
        "",
        f"  Users (Cognito pool {state['userPoolId']}, app client {state['clientId']}):",
        users,
        "",
        f"  Tokens: IdTokens (valid 1 h) for user, user2 and admin are in {_display_path(state_file)}",
        "    a fresh one:  make token USER=alice [ADMIN=1]",
        "              or  .venv/bin/python -m local.token alice [--admin]",
        "",
        "  Try it:",
        f"    curl -s -X POST {api}/api/agent-jobs \\",
        f'      -H "Authorization: Bearer {token}" \\',
        "      -H 'Content-Type: application/json' \\",
        f"      -d '{example}'",
        f'    curl -s {api}/api/agent-jobs -H "Authorization: Bearer {token}"',
        "",
        "  Ctrl+C stops everything.",
        "",
    ]
    return "\n".join(lines)
