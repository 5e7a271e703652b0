"""The admin stats view (GET /api/admin/stats): counts, the checkpoint backlog, queues and agents.

Every figure is read with a bound, so the route costs the same on a table of a thousand jobs or of
millions:

- ``jobsByStatus`` — a COUNT Query per status on the ``by_status`` index, each stopping at
  ``STATUS_COUNT_CAP`` (10,000 by default; ``countsAtLeast`` names the figures that reached it —
  typically COMPLETED on a busy platform, whose exact totals are the ``JobsCompleted`` metric).
- ``jobsByType`` — over a **recent window**: the newest ``STATS_WINDOW_JOBS`` jobs (200), read from the
  keys-only ``by_creation`` index (newest first, one Query) and BatchGet of their summaries. ``window``
  says how many jobs and since when.
- ``agents`` — per agent, over the newest ``STATS_AGENT_WINDOW_JOBS`` started jobs of that window (50):
  their logs (one Query each, read in parallel) give every agent answer and every judge verdict.
  ``acceptanceRate`` = verdicts that passed / verdicts (the judge's pass rate on the agent's answers,
  automatic retries included, admin re-checks and "validation unavailable" left out);
  ``medianLatencyMs`` = median answer time of its AGENT_RESPONSE logs; ``jobs`` = jobs of the window now
  assigned to it.
- ``latencyPercentiles`` — p50/p90/p95/p99 of the same AGENT_RESPONSE answer times, ``overall`` and
  ``byAgent`` (linear interpolation between the closest samples, so p50 is the median; ``samples`` says how
  many answers each figure rests on).
- ``jobsPerHour`` — the jobs **created** in each UTC hour of the last ``hours`` (1 to 168, default 24; the
  current hour is the last bucket, counted so far), by the status they are in **now**: one Query per status
  on ``by_status`` with ``updated_at ≥`` the first hour (a job created in the range was changed in it too),
  each stopping at ``JOBS_PER_HOUR_CAP`` index items (2,000). Jobs created earlier that changed in the range
  are read and left out. When a status reached the cap, ``capped`` names it and ``completeSince`` says from
  when the buckets are whole (a job created after that moment was changed after it, so it was read).
- ``pendingCheckpoints`` / ``oldestPendingCheckpointAgeSeconds`` and ``queues`` — as the gauges
  (``domain/gauges.py``).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent_jobs.domain.gauges import DLQ_SUFFIX, QueueDepth, checkpoint_backlog, queue_depths
from agent_jobs.models.base import parse_time
from agent_jobs.models.jobs import JobLog, JobStatus, JobSummary, LogKind
from agent_jobs.repositories.job_activity import jobs_changed_since
from agent_jobs.repositories.operations import OperationsRepository
from agent_jobs.services import Services

LOG_READERS = 8
DEFAULT_CHART_HOURS = 24
MAX_CHART_HOURS = 7 * 24
JOBS_PER_HOUR_CAP = 2_000  # index items read per status for jobsPerHour
PERCENTILES = (50, 90, 95, 99)
HOUR = timedelta(hours=1)
# Logs written before AGENT_RESPONSE entries carried ``latencyMs`` hold it only in their message.
_LATENCY_IN_MESSAGE = re.compile(r"agent answered in (\d+(?:\.\d+)?) ms")


@dataclass
class AgentTally:
    jobs: set[str] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    judged: int = 0
    accepted: int = 0

    def to_api(self, agent_id: str, name: str | None) -> dict[str, Any]:
        return {
            "agentId": agent_id,
            "name": name,
            "jobs": len(self.jobs),
            "answers": len(self.latencies),
            "judged": self.judged,
            "acceptanceRate": round(self.accepted / self.judged, 3) if self.judged else None,
            "medianLatencyMs": round(statistics.median(self.latencies), 1) if self.latencies else None,
        }


def answer_latency(log: JobLog) -> float | None:
    if log.latency_ms is not None:
        return float(log.latency_ms)
    found = _LATENCY_IN_MESSAGE.search(log.message or "")
    return float(found.group(1)) if found else None


def verdict_of(log: JobLog) -> bool | None:
    """The judge's verdict a pipeline log carries (None for anything else, admin re-checks included)."""
    payload = log.response_payload
    if log.actor is not None or not isinstance(payload, dict):
        return None
    verdict = payload.get("verdict")
    if not isinstance(verdict, dict) or not isinstance(verdict.get("isValid"), bool):
        return None
    return bool(verdict["isValid"])


def tally_agents(histories: dict[str, list[JobLog]], summaries: list[JobSummary]) -> dict[str, AgentTally]:
    tallies: dict[str, AgentTally] = {}

    def tally(agent_id: str) -> AgentTally:
        return tallies.setdefault(agent_id, AgentTally())

    for summary in summaries:
        if summary.assigned_agent_id:
            tally(summary.assigned_agent_id).jobs.add(summary.id)
    for logs in histories.values():
        answering: str | None = None  # the agent whose answer the next verdict is about
        for log in logs:
            if log.status == LogKind.AGENT_RESPONSE and log.agent_id:
                answering = log.agent_id
                latency = answer_latency(log)
                if latency is not None:
                    tally(answering).latencies.append(latency)
                continue
            passed = verdict_of(log)
            agent_id = log.agent_id or answering
            if passed is None or agent_id is None:
                continue
            entry = tally(agent_id)
            entry.judged += 1
            entry.accepted += int(passed)
    return tallies


def percentiles(samples: list[float]) -> dict[str, Any]:
    """p50/p90/p95/p99 of ``samples`` by linear interpolation between the closest ones (p50 is the median),
    and how many samples there were; None for each figure when there are none."""
    if not samples:
        return {**{f"p{q}": None for q in PERCENTILES}, "samples": 0}
    cuts = statistics.quantiles(samples, n=100, method="inclusive") if len(samples) > 1 else [samples[0]] * 99
    return {**{f"p{q}": round(cuts[q - 1], 1) for q in PERCENTILES}, "samples": len(samples)}


@dataclass(frozen=True)
class AgentWindow:
    """What the logs of the window's newest started jobs say per agent."""

    tallies: dict[str, AgentTally]
    names: dict[str, str | None]
    jobs: int  # how many started jobs' logs were read

    def figures(self) -> list[dict[str, Any]]:
        found = [entry.to_api(agent_id, self.names[agent_id]) for agent_id, entry in self.tallies.items()]
        return sorted(found, key=lambda f: (-f["jobs"], -f["answers"], f["agentId"]))

    def latency_percentiles(self) -> dict[str, Any]:
        by_agent = [
            {"agentId": agent_id, "name": self.names[agent_id], **percentiles(entry.latencies)}
            for agent_id, entry in self.tallies.items()
            if entry.latencies
        ]
        by_agent.sort(key=lambda f: (-f["samples"], f["agentId"]))
        every = [latency for entry in self.tallies.values() for latency in entry.latencies]
        return {"overall": percentiles(every), "byAgent": by_agent}


def agent_window(services: Services, window: list[JobSummary]) -> AgentWindow:
    """Per-agent tallies over the newest started jobs of ``window``."""
    started = [s for s in window if s.attempt > 0][: services.settings.stats_agent_window_jobs]
    if not started:
        return AgentWindow({}, {}, 0)
    with ThreadPoolExecutor(max_workers=min(LOG_READERS, len(started))) as pool:
        histories = dict(
            zip((s.id for s in started), pool.map(lambda s: services.jobs.logs(s.id), started), strict=True)
        )
    tallies = tally_agents(histories, started)
    names = {}
    for agent_id in tallies:
        agent = services.agents.get(agent_id)
        names[agent_id] = agent.name if agent else None
    return AgentWindow(tallies, names, len(started))


def _stamp(moment: datetime) -> str:
    """The timestamp format of ``models.base.utc_now`` (sorts as text against stored times)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def first_hour(now: datetime, hours: int) -> datetime:
    """The start of the oldest of ``hours`` UTC hour buckets whose last one holds ``now``."""
    return now.replace(minute=0, second=0, microsecond=0) - (hours - 1) * HOUR


def hourly_buckets(jobs: Iterable[JobSummary], start: datetime, hours: int) -> list[dict[str, Any]]:
    """``hours`` buckets from ``start``, oldest first: the jobs created in each hour, by their status now.
    A job outside the range is left out; one seen twice (an index read mid-change) counts once, as its
    latest change."""
    latest: dict[str, JobSummary] = {}
    for job in jobs:
        if job.id not in latest or job.updated_at > latest[job.id].updated_at:
            latest[job.id] = job
    counts = [Counter[str]() for _ in range(hours)]
    for job in latest.values():
        index = (parse_time(job.created_at) - start) // HOUR
        if 0 <= index < hours:
            counts[index][job.status.value] += 1
    return [
        {
            "hour": _stamp(start + index * HOUR),
            "total": sum(count.values()),
            "byStatus": {status.value: count[status.value] for status in JobStatus if count[status.value]},
        }
        for index, count in enumerate(counts)
    ]


def jobs_per_hour(now: datetime, hours: int) -> dict[str, Any]:
    """The ``jobsPerHour`` figure (see the module docstring for what it reads)."""
    start = first_hour(now, hours)
    since = _stamp(start)
    reads = {status: jobs_changed_since(status, since, cap=JOBS_PER_HOUR_CAP) for status in JobStatus}
    body: dict[str, Any] = {
        "hours": hours,
        "from": since,
        "to": _stamp(now),
        "measures": "jobs created in each UTC hour, by the status they are in now",
        "buckets": hourly_buckets((job for read in reads.values() for job in read.jobs), start, hours),
    }
    capped = {status: read for status, read in reads.items() if read.capped}
    if capped:
        body["capped"] = [status.value for status in capped]
        body["completeSince"] = max(read.jobs[-1].updated_at for read in capped.values())
    return body


def _queues(depths: dict[str, QueueDepth]) -> dict[str, dict[str, int]]:
    return {
        key: {
            "visible": depth.visible,
            "inFlight": depth.in_flight,
            "dlq": depths.get(key + DLQ_SUFFIX, QueueDepth()).visible,
        }
        for key, depth in depths.items()
        if not key.endswith(DLQ_SUFFIX)
    }


def stats(services: Services, now: datetime, hours: int = DEFAULT_CHART_HOURS) -> dict[str, Any]:
    """The stats view; ``hours`` (1 to ``MAX_CHART_HOURS``, checked by the API) sizes ``jobsPerHour``."""
    settings = services.settings
    repository = OperationsRepository()
    counts = {status: repository.count_jobs(status, cap=settings.status_count_cap) for status in JobStatus}
    window = repository.recent_jobs(settings.stats_window_jobs)
    agents = agent_window(services, window)
    backlog = checkpoint_backlog(now, settings.status_count_cap)
    body: dict[str, Any] = {
        "jobsByStatus": {status.value: count.value for status, count in counts.items()},
        "jobsByType": dict(Counter(s.job_type for s in window).most_common()),
        "window": {
            "jobs": len(window),
            "since": window[-1].created_at if window else None,
            "agentJobs": agents.jobs,
        },
        "jobsPerHour": jobs_per_hour(now, hours),
        "pendingCheckpoints": backlog.pending.value,
        "oldestPendingCheckpointAgeSeconds": (
            round(backlog.oldest_age_seconds, 1) if backlog.oldest_age_seconds is not None else None
        ),
        "queues": _queues(queue_depths(settings)),
        "agents": agents.figures(),
        "latencyPercentiles": agents.latency_percentiles(),
    }
    capped = [status.value for status, count in counts.items() if count.capped]
    if capped or backlog.pending.capped:
        body["countsAtLeast"] = capped + (["pendingCheckpoints"] if backlog.pending.capped else [])
    return body
