"""The stats API's chart figures on moto, from real jobs run through the pipeline: jobs per hour by status (with
``?hours=``), answer latency percentiles overall and per agent, and acceptance rate per agent."""
# ruff: noqa: F811 - the pipeline fixtures are imported from test_pipeline and requested by name

from __future__ import annotations

import itertools
import statistics
from datetime import timedelta
from typing import Any

import pytest
from pynamodb.expressions.update import Action

from agent_jobs.domain import stats as stats_module
from agent_jobs.domain.sweeper import iso
from agent_jobs.models.base import parse_time
from agent_jobs.repositories.tables import JobRecord
from tests.fixtures.openai_server import Script, fail_reply
from tests.integration.conftest import Api, run_queues
from tests.integration.test_pipeline import (  # noqa: F401 - pytest fixtures used by name
    agent_server,
    create_job,
    job_state,
    judge_script,
    judge_server,
    pipeline,
    register_agent,
)

STATS = "/api/admin/stats"


def pending_job(api: Api) -> str:
    reply = api.post("/api/jobs", {"name": "n", "description": "d", "autoAssign": False})
    assert reply.status == 201, reply.body
    return str(reply.body["job"]["id"])


def backdate(job_id: str, *, created: timedelta, updated: timedelta | None = None) -> str:
    """Moves a job's creation (and, when given, its last change) into the past, as if it were that old."""
    record = JobRecord.get(job_id)
    created_at = iso(parse_time(record.created_at) - created)
    actions: list[Action] = [JobRecord.created_at.set(created_at)]
    if updated is not None:
        actions.append(JobRecord.updated_at.set(iso(parse_time(record.updated_at) - updated)))
    record.update(actions=actions)
    return created_at


def hour_of(timestamp: str) -> str:
    return iso(parse_time(timestamp).replace(minute=0, second=0, microsecond=0))


def buckets_by_hour(figure: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {bucket["hour"]: bucket["byStatus"] for bucket in figure["buckets"]}


def latencies(api: Api, job_id: str) -> list[float]:
    return [float(log["latencyMs"]) for log in job_state(api, job_id)[1] if log["status"] == "AGENT_RESPONSE"]


def test_chart_figures_from_real_jobs(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any, judge_script: Script
) -> None:
    judge_script._replies.extend([fail_reply("the summary does not mention the user id")])
    fast = register_agent(admin, agent_server.url("/fast"), name="fast")
    slow = register_agent(admin, agent_server.url("/slow?seconds=0.2"), name="slow")
    retried = create_job(api, fast)
    run_queues(pipeline)  # attempt 1 fails the judge, attempt 2 passes
    slow_job = create_job(api, slow)
    run_queues(pipeline)
    waiting = pending_job(api)
    three_hours_ago = backdate(waiting, created=timedelta(hours=3))  # changed now, created 3 h ago
    old = pending_job(api)
    backdate(old, created=timedelta(hours=30), updated=timedelta(hours=30))
    old_but_changed = pending_job(api)
    backdate(old_but_changed, created=timedelta(hours=30))  # changed in the last 24 h

    reply = admin.get(STATS)
    assert reply.status == 200, reply.body
    stats = reply.body["stats"]

    # jobs per hour: 24 hourly buckets ending with the current one, by the status each job is in now
    per_hour = stats["jobsPerHour"]
    assert per_hour["hours"] == 24 and len(per_hour["buckets"]) == 24
    assert per_hour["buckets"][-1]["hour"] == hour_of(per_hour["to"])
    assert per_hour["from"] == per_hour["buckets"][0]["hour"]
    assert "capped" not in per_hour and "completeSince" not in per_hour
    hours = [parse_time(bucket["hour"]) for bucket in per_hour["buckets"]]
    assert all(later - earlier == timedelta(hours=1) for earlier, later in itertools.pairwise(hours))
    expected: dict[str, dict[str, int]] = {}
    for job_id, status in ((retried["id"], "COMPLETED"), (slow_job["id"], "COMPLETED")):
        hour = hour_of(job_state(api, job_id)[0]["createdAt"])
        expected.setdefault(hour, {}).setdefault(status, 0)
        expected[hour][status] += 1
    expected.setdefault(hour_of(three_hours_ago), {})["PENDING"] = 1
    assert {hour: counts for hour, counts in buckets_by_hour(per_hour).items() if counts} == expected
    assert sum(bucket["total"] for bucket in per_hour["buckets"]) == 3  # the two 30-hour-old jobs are left out

    # a wider range takes them in, whether they changed since or not
    wide = admin.get(STATS, query={"hours": "48"}).body["stats"]["jobsPerHour"]
    assert wide["hours"] == 48 and len(wide["buckets"]) == 48
    old_hours = [hour_of(JobRecord.get(job_id).created_at) for job_id in (old, old_but_changed)]
    for hour in old_hours:
        assert buckets_by_hour(wide)[hour] == {"PENDING": old_hours.count(hour)}
    assert sum(bucket["total"] for bucket in wide["buckets"]) == 5

    # latency percentiles of the agents' answers, overall and per agent
    fast_times, slow_times = latencies(api, retried["id"]), latencies(api, slow_job["id"])
    assert len(fast_times) == 2 and len(slow_times) == 1
    figures = stats["latencyPercentiles"]
    overall = figures["overall"]
    assert overall["samples"] == 3
    assert overall["p50"] == round(statistics.median(fast_times + slow_times), 1)
    assert overall["p50"] <= overall["p90"] <= overall["p95"] <= overall["p99"] <= max(slow_times)
    by_agent = {figure["agentId"]: figure for figure in figures["byAgent"]}
    assert by_agent[slow] == {
        "agentId": slow,
        "name": "slow",
        "p50": slow_times[0],
        "p90": slow_times[0],
        "p95": slow_times[0],
        "p99": slow_times[0],
        "samples": 1,
    }
    low, high = sorted(fast_times)
    assert by_agent[fast]["samples"] == 2 and by_agent[fast]["name"] == "fast"
    assert by_agent[fast]["p50"] == pytest.approx((low + high) / 2, abs=0.1)
    assert by_agent[fast]["p90"] == pytest.approx(low + 0.9 * (high - low), abs=0.1)
    assert slow_times[0] >= 200 > max(fast_times)

    # acceptance rate per agent: the judge failed the fast agent's first answer
    agents = {agent["agentId"]: agent for agent in stats["agents"]}
    assert agents[fast]["acceptanceRate"] == 0.5 and agents[fast]["judged"] == 2
    assert agents[slow]["acceptanceRate"] == 1.0 and agents[slow]["judged"] == 1


def test_a_capped_status_says_from_when_the_buckets_are_whole(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent_id = register_agent(admin, agent_server.url("/fast"))
    jobs = [create_job(api, agent_id) for _ in range(3)]
    run_queues(pipeline)
    pending_job(api)
    monkeypatch.setattr(stats_module, "JOBS_PER_HOUR_CAP", 2)

    per_hour = admin.get(STATS).body["stats"]["jobsPerHour"]

    assert per_hour["capped"] == ["COMPLETED"]
    changed = sorted(job_state(api, job["id"])[0]["updatedAt"] for job in jobs)
    assert per_hour["completeSince"] == changed[1]  # the two most recently changed were read
    counted = {status: 0 for status in ("COMPLETED", "PENDING")}
    for bucket in per_hour["buckets"]:
        for status, count in bucket["byStatus"].items():
            counted[status] += count
    assert counted == {"COMPLETED": 2, "PENDING": 1}


def test_no_jobs_no_samples(aws: dict[str, str], admin: Api) -> None:
    stats = admin.get(STATS, query={"hours": "1"}).body["stats"]
    assert [bucket["total"] for bucket in stats["jobsPerHour"]["buckets"]] == [0]
    assert stats["latencyPercentiles"] == {
        "overall": {"p50": None, "p90": None, "p95": None, "p99": None, "samples": 0},
        "byAgent": [],
    }


@pytest.mark.parametrize("hours", ["0", "169", "-1", "2.5", "abc", "1e3"])
def test_hours_out_of_range_is_400(aws: dict[str, str], admin: Api, hours: str) -> None:
    reply = admin.get(STATS, query={"hours": hours})
    assert reply.status == 400, reply.body
    assert reply.body["success"] is False and reply.body["error"]["field"] == "hours"


def test_the_widest_range_is_a_week(aws: dict[str, str], admin: Api) -> None:
    reply = admin.get(STATS, query={"hours": "168"})
    assert reply.status == 200, reply.body
    assert len(reply.body["stats"]["jobsPerHour"]["buckets"]) == 168
