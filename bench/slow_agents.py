"""Slow agents: one execute_job invocation with a 10-record SQS event whose agent takes 1 s per call.

The records are processed concurrently (async httpx), so the invocation should take about one agent call, not
ten (target ≤ 1.5 s). The same for one validate invocation with a judge that takes 1 s. In-process on moto.

    python -m bench.slow_agents --out slow_agents.json [--agent-seconds 1.0] [--judge-seconds 1.0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.inprocess import Platform
from bench.servers import OUTPUT_SCHEMA, DelayedAgent, judge_server

TARGET_SECONDS = 1.5
BATCH = 10
SECRET = "bench-secret-0123456789"


def register(platform: Platform, url: str, job_type: str = "simple-task") -> str:
    body = {
        "name": f"bench {job_type} agent",
        "endpointUrl": url,
        "secret": SECRET,
        "jobTypes": [job_type],
        "outputSchema": OUTPUT_SCHEMA,
        "timeoutSeconds": 30,
    }
    status, answer = platform.api("POST", "/api/admin/agents", body, admin=True)
    assert status == 201, answer
    return str(answer["agent"]["id"])


def create(platform: Platform, agent_id: str, priority: int = 5) -> str:
    body = {
        "jobType": "simple-task",
        "taskDescription": "Process user data",
        "acceptanceCriteria": "The user data is processed",
        "inputData": {"userId": "user-123", "action": "update-profile"},
        "priority": priority,
        "agentId": agent_id,
    }
    status, answer = platform.api("POST", "/api/jobs", body)
    assert status == 201, answer
    return str(answer["job"]["id"])


def one_batch(platform: Platform, agent_id: str, queue: str) -> dict[str, Any]:
    before = len(platform.invocations)
    started = time.perf_counter()
    records = platform.deliver(queue, max_messages=BATCH)
    seconds = time.perf_counter() - started
    (invocation,) = platform.invocations[before:]
    return {
        "records": records,
        "invocationSeconds": round(invocation.wall_seconds, 3),
        "pollToDeleteSeconds": round(seconds, 3),
        "failedRecords": invocation.failures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--agent-seconds", type=float, default=1.0)
    parser.add_argument("--judge-seconds", type=float, default=1.0)
    options = parser.parse_args(argv)
    judge = judge_server(options.judge_seconds).start()
    try:
        with DelayedAgent(options.agent_seconds) as agent, Platform({"OPENAI_BASE_URL": judge.base_url}) as platform:
            agent_id = register(platform, agent.url)
            for _ in range(2):  # warm-up: imports, clients, the event loop's pools
                create(platform, agent_id)
            platform.deliver("execute")
            platform.deliver("validate")
            for _ in range(BATCH):
                create(platform, agent_id)
            mark = len(agent.received())
            execute = one_batch(platform, agent_id, "execute")
            calls = agent.received()[mark:]
            execute["agentCalls"] = len(calls)
            execute["agentCallsStartedWithinSeconds"] = round(max(c[0] for c in calls) - min(c[0] for c in calls), 3)
            validate = one_batch(platform, agent_id, "validate")
    finally:
        judge.stop()
    output = {
        "targetSeconds": TARGET_SECONDS,
        "agentSeconds": options.agent_seconds,
        "judgeSeconds": options.judge_seconds,
        "executeBatch": execute,
        "validateBatch": validate,
        "withinTarget": execute["invocationSeconds"] <= TARGET_SECONDS and execute["failedRecords"] == 0,
    }
    print(f"slow agents: execute batch of {execute['records']} in {execute['invocationSeconds']} s", file=sys.stderr)
    options.out.write_text(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
