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
- ``pendingCheckpoints`` / ``oldestPendingCheckpointAgeSeconds`` and ``queues`` — as the gauges
  (``domain/gauges.py``).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent_jobs.domain.gauges import DLQ_SUFFIX, QueueDepth, checkpoint_backlog, queue_depths
from agent_jobs.models.jobs import JobLog, JobStatus, JobSummary, LogKind
from agent_jobs.repositories.operations import OperationsRepository
from agent_jobs.services import Services

LOG_READERS = 8
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


def agent_figures(services: Services, window: list[JobSummary]) -> tuple[list[dict[str, Any]], int]:
    """Per-agent figures over the newest started jobs of ``window``; and how many jobs that was."""
    started = [s for s in window if s.attempt > 0][: services.settings.stats_agent_window_jobs]
    if not started:
        return [], 0
    with ThreadPoolExecutor(max_workers=min(LOG_READERS, len(started))) as pool:
        histories = dict(
            zip((s.id for s in started), pool.map(lambda s: services.jobs.logs(s.id), started), strict=True)
        )
    tallies = tally_agents(histories, started)
    figures = []
    for agent_id, entry in tallies.items():
        agent = services.agents.get(agent_id)
        figures.append(entry.to_api(agent_id, agent.name if agent else None))
    figures.sort(key=lambda f: (-f["jobs"], -f["answers"], f["agentId"]))
    return figures, len(started)


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


def stats(services: Services, now: datetime) -> dict[str, Any]:
    settings = services.settings
    repository = OperationsRepository()
    counts = {status: repository.count_jobs(status, cap=settings.status_count_cap) for status in JobStatus}
    window = repository.recent_jobs(settings.stats_window_jobs)
    agents, agent_jobs = agent_figures(services, window)
    backlog = checkpoint_backlog(now, settings.status_count_cap)
    body: dict[str, Any] = {
        "jobsByStatus": {status.value: count.value for status, count in counts.items()},
        "jobsByType": dict(Counter(s.job_type for s in window).most_common()),
        "window": {
            "jobs": len(window),
            "since": window[-1].created_at if window else None,
            "agentJobs": agent_jobs,
        },
        "pendingCheckpoints": backlog.pending.value,
        "oldestPendingCheckpointAgeSeconds": (
            round(backlog.oldest_age_seconds, 1) if backlog.oldest_age_seconds is not None else None
        ),
        "queues": _queues(queue_depths(settings)),
        "agents": agents,
    }
    capped = [status.value for status, count in counts.items() if count.capped]
    if capped or backlog.pending.capped:
        body["countsAtLeast"] = capped + (["pendingCheckpoints"] if backlog.pending.capped else [])
    return body
