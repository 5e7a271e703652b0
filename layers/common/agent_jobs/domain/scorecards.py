"""Per-agent scorecards (DESIGN.md §18) from counters kept as jobs settle, never from a scan of jobs or logs.

Every settled attempt — the judge passed it (PASS), failed it (RETRY, REQUIRE_RESUBMISSION), the agent gave
no usable answer (FAIL), or a checkpoint rejected it (REJECT) — adds to its agent's item for that UTC hour
(``AgentScoreRecord``, one UpdateItem with ADD): the attempt, its outcome, its failure kind, a latency bucket,
and the judge tokens and cost the transition added to the job's ``usage``. A scorecard over a window of N
hours is one Query of at most N items.

- ``acceptanceRate`` = accepted / (attempts - attempts the judge could not judge): "validation unavailable"
  is the judge's failure, not the agent's, so it counts in ``failures`` but not against the rate.
- ``latencyMs`` is claim → settle of the attempt (the agent's answer plus the checks on it; queue time never
  counts), kept as a fixed histogram (:data:`LATENCY_BOUNDS_MS`): p50/p95 are the upper bound of the bucket
  the percentile falls in (None: beyond the last bound). Job types with checkpoints are left out of it
  (their settle waits for a person).
- ``usage`` in the window is the judge usage added by settling transitions; a passing validation of a job with checkpoints is
  not a transition, so its tokens are only in ``allTime`` (the agent's own judge counters).
- Admin actions (force-complete, reassign) and cancels are not the agent's record and are not counted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from agent_jobs.domain.policies import policy_for
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import BadRequest
from agent_jobs.models.base import parse_time
from agent_jobs.models.jobs import Job, JobStatus
from agent_jobs.repositories.scorecards import ScorecardRepository

HOUR_FORMAT = "%Y-%m-%dT%H"
MAX_WINDOW_HOURS = 30 * 24
DEFAULT_WINDOW = "24h"
LATENCY_BOUNDS_MS = (100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000)
SETTLING_EVENTS = frozenset(
    {JobEvent.PASS, JobEvent.RETRY, JobEvent.REQUIRE_RESUBMISSION, JobEvent.FAIL, JobEvent.REJECT}
)
OUTCOMES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.REJECTED, JobStatus.RESUBMISSION_REQUIRED})
JUDGE_UNAVAILABLE = "judge_unavailable"

# Why an attempt did not pass, from the reason its transition logged (the first pattern that matches wins).
_FAIL_PATTERNS: tuple[tuple[str, str], ...] = (
    ("dead_letter", r"dead-letter"),
    ("lease_expired", r"\(sweeper\)$|of the claim"),
    ("inactive", r"is not active"),
    ("timeout", r"timed out|cannot connect within|out of time|no time left"),
    ("unreachable", r"cannot connect|unsafe agent|transport error"),
    ("bad_output", r"outputSchema|not JSON|not a JSON object|too large|nested deeper|redirect refused"),
    ("agent_error", r"agent call failed|HTTP \d{3}|agent refused"),
)
_RESUBMISSION_PATTERNS: tuple[tuple[str, str], ...] = (
    (JUDGE_UNAVAILABLE, r"^validation unavailable"),
    ("too_large", r"output too large to judge"),
    ("checks_failed", r"deterministic checks failed"),
)
FAILURE_KINDS = (
    *(kind for kind, _ in _FAIL_PATTERNS),
    *(kind for kind, _ in _RESUBMISSION_PATTERNS),
    "judge_failed",
    "checkpoint_rejected",
    "other",
)


def failure_kind(event: JobEvent, message: str) -> str | None:
    """The kind of failure a settling transition records (None: it passed)."""
    if event == JobEvent.PASS:
        return None
    if event == JobEvent.REJECT:
        return "checkpoint_rejected"
    patterns = _FAIL_PATTERNS if event == JobEvent.FAIL else _RESUBMISSION_PATTERNS
    for kind, pattern in patterns:
        if re.search(pattern, message):
            return kind
    return "other" if event == JobEvent.FAIL else "judge_failed"


def latency_bucket(latency_ms: float) -> int:
    """Index of the histogram bucket ``latency_ms`` falls in (len(bounds): beyond the last bound)."""
    return next((i for i, bound in enumerate(LATENCY_BOUNDS_MS) if latency_ms <= bound), len(LATENCY_BOUNDS_MS))


def _usage_delta(before: Job, after: Job) -> dict[str, float]:
    old: dict[str, Any] = dict(before.usage or {})
    new: dict[str, Any] = dict(after.usage or {})
    return {
        "prompt_tokens": max(0, new.get("promptTokens", 0) - old.get("promptTokens", 0)),
        "completion_tokens": max(0, new.get("completionTokens", 0) - old.get("completionTokens", 0)),
        "cost_usd": max(0.0, round(new.get("costUsd", 0.0) - old.get("costUsd", 0.0), 8)),
    }


def settled_counters(before: Job, after: Job, event: JobEvent, message: str) -> dict[str, float] | None:
    """What a transition adds to its agent's hour (None: it settles no attempt of an agent)."""
    if event not in SETTLING_EVENTS or not after.assigned_agent_id:
        return None
    kind = failure_kind(event, message)
    counters: dict[str, float] = {"attempts": 1, **_usage_delta(before, after)}
    if after.status in OUTCOMES and before.status != after.status:
        counters["jobs"] = 1
    if kind is None:
        counters["accepted"] = 1
    else:
        counters[f"fail_{kind}"] = 1
        if kind == JUDGE_UNAVAILABLE:
            counters["unjudged"] = 1
    measurable = kind not in ("checkpoint_rejected", "inactive") and not policy_for(after.job_type).has_checkpoints
    if measurable and after.claimed_at:
        took = (parse_time(after.updated_at) - parse_time(after.claimed_at)).total_seconds() * 1000
        counters[f"lat_{latency_bucket(max(0.0, took))}"] = 1
    return counters


def record_settled(before: Job, after: Job, event: JobEvent, message: str) -> None:
    counters = settled_counters(before, after, event, message)
    if counters is not None and after.assigned_agent_id:
        hour = parse_time(after.updated_at).strftime(HOUR_FORMAT)
        ScorecardRepository().add(after.assigned_agent_id, hour, counters)


# --- reading -------------------------------------------------------------------------------------------
def window_hours(window: str | None) -> int:
    """``24h``, ``7d``… as hours (1 h to 30 d); 400 naming ``window`` otherwise."""
    found = re.fullmatch(r"(\d{1,4})([hd])", DEFAULT_WINDOW if window is None else window)
    hours = int(found.group(1)) * (24 if found.group(2) == "d" else 1) if found else 0
    if not 1 <= hours <= MAX_WINDOW_HOURS:
        raise BadRequest("window is 1h to 30d, e.g. 24h or 7d", field="window")
    return hours


def _percentile(histogram: list[int], share: float) -> int | None:
    total = sum(histogram)
    if not total:
        return None
    needed, seen = share * total, 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= needed:
            return LATENCY_BOUNDS_MS[index] if index < len(LATENCY_BOUNDS_MS) else None
    return None  # pragma: no cover - the loop reaches the total


def summarize(items: list[dict[str, float]]) -> dict[str, Any]:
    """The figures of a window from its hourly items."""
    total: dict[str, float] = {}
    for item in items:
        for name, value in item.items():
            total[name] = total.get(name, 0) + value
    attempts, accepted = int(total.get("attempts", 0)), int(total.get("accepted", 0))
    judged = attempts - int(total.get("unjudged", 0))
    histogram = [int(total.get(f"lat_{i}", 0)) for i in range(len(LATENCY_BOUNDS_MS) + 1)]
    return {
        "jobs": int(total.get("jobs", 0)),
        "attempts": attempts,
        "accepted": accepted,
        "acceptanceRate": round(accepted / judged, 3) if judged else None,
        "latencyMs": {
            "p50": _percentile(histogram, 0.50),
            "p95": _percentile(histogram, 0.95),
            "samples": sum(histogram),
            "measures": "claim to settle of an attempt (queue time excluded); bucket upper bounds",
            "buckets": [
                {"leMs": LATENCY_BOUNDS_MS[i] if i < len(LATENCY_BOUNDS_MS) else None, "count": count}
                for i, count in enumerate(histogram)
            ],
        },
        "failures": {kind: int(total[f"fail_{kind}"]) for kind in FAILURE_KINDS if total.get(f"fail_{kind}")},
        "usage": {
            "promptTokens": int(total.get("prompt_tokens", 0)),
            "completionTokens": int(total.get("completion_tokens", 0)),
            "costUsd": round(total.get("cost_usd", 0.0), 6),
        },
    }


def scorecard(
    scores: ScorecardRepository, agent_id: str, window: str | None, now: datetime, all_time: dict[str, float]
) -> dict[str, Any]:
    hours = window_hours(window)
    last = now.astimezone(UTC)
    first = last - timedelta(hours=hours - 1)
    items = scores.hours(agent_id, first.strftime(HOUR_FORMAT), last.strftime(HOUR_FORMAT))
    return {
        "agentId": agent_id,
        "window": {"hours": hours, "from": first.strftime(HOUR_FORMAT) + ":00Z", "to": last.isoformat()},
        **summarize(items),
        "allTime": {
            "judgedOutputs": int(all_time.get("judged_outputs", 0)),
            "promptTokens": int(all_time.get("judge_prompt_tokens", 0)),
            "completionTokens": int(all_time.get("judge_completion_tokens", 0)),
            "costUsd": round(float(all_time.get("judge_cost_usd", 0.0)), 6),
        },
    }
