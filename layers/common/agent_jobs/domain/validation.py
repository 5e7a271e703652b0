"""The validate step (seeds 000/001): the judge decides; the job completes, retries with feedback,
or waits for a resubmission. A judge that gives no verdict never completes a job."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from agent_jobs.domain import events
from agent_jobs.domain.execution import current_job
from agent_jobs.domain.lifecycle import apply, make_log
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import Conflict, JudgeUnavailable
from agent_jobs.integrations import workflow
from agent_jobs.integrations.judge import Judge, JudgeResult, Verdict
from agent_jobs.models.jobs import Job, LogKind
from agent_jobs.models.messages import StepMessage
from agent_jobs.observability import logger
from agent_jobs.services import Services

UNAVAILABLE = "validation unavailable"


@dataclass(frozen=True)
class Evaluation:
    verdict: Verdict
    model: str | None
    usage: dict[str, int]

    def to_log(self) -> dict[str, Any]:
        return {"verdict": self.verdict.model_dump(), "model": self.model, "usage": self.usage}


def schema_only_evaluation() -> Evaluation:
    verdict = Verdict(
        isValid=True,
        score=1.0,
        reason="no acceptance criteria: the output matched the agent's outputSchema",
        criteria=[],
        suggestions=[],
    )
    return Evaluation(verdict, None, {})


async def evaluate(judge_factory: Any, job: Job, output: Any) -> Evaluation:
    """The judge's verdict on ``output``; raises JudgeUnavailable when there is none."""
    if not job.acceptance_criteria.strip():
        return schema_only_evaluation()
    judge: Judge = judge_factory()
    result: JudgeResult = await judge.evaluate(
        acceptance_criteria=job.acceptance_criteria, output=output, job_description=job.description
    )
    verdict = "pass" if result.verdict.isValid else "fail"
    events.judge_called("validate", latency_ms=result.latency_ms, usage=result.usage, verdict=verdict)
    return Evaluation(result.verdict, result.model, result.usage)


def agent_output(services: Services, job: Job) -> Any:
    """The agent's answer for the job's current attempt (kept in its AGENT_RESPONSE log)."""
    for log in reversed(services.jobs.logs(job.id)):
        if log.status == LogKind.AGENT_RESPONSE and log.attempt == job.attempt:
            return log.response_payload
    return None


async def validate(services: Services, judge_factory: Any, message: StepMessage, *, last_try: bool) -> None:
    job = await asyncio.to_thread(current_job, services, message)
    if job is None:
        return
    output = await asyncio.to_thread(agent_output, services, job)
    if output is None:
        await asyncio.to_thread(_settle_unavailable, services, job, message, "no agent output for this attempt")
        return
    try:
        evaluation = await evaluate(judge_factory, job, output)
    except JudgeUnavailable as exc:
        events.judge_called("validate", verdict="unavailable")
        if not last_try:
            raise  # the message comes back after its visibility timeout: the judge is retried
        await asyncio.to_thread(_settle_unavailable, services, job, message, str(exc))
        return
    await asyncio.to_thread(settle, services, job, message, output, evaluation)


def settle(services: Services, job: Job, message: StepMessage, output: Any, evaluation: Evaluation) -> None:
    """Applies the verdict: COMPLETED, an automatic retry with feedback, or RESUBMISSION_REQUIRED."""
    verdict = evaluation.verdict
    try:
        if verdict.isValid:
            if message.task_token:  # checkpoints still to pass: the workflow completes the job later
                services.jobs.add_log(
                    make_log(
                        job,
                        LogKind.VALIDATION,
                        f"validation passed: {verdict.reason}",
                        response=evaluation.to_log(),
                    )
                )
                workflow.report_success(message.task_token, {"outcome": "passed"})
                return
            apply(
                services.jobs,
                job,
                JobEvent.PASS,
                f"validation passed: {verdict.reason}",
                changes={"result": output, "feedback": None},
                response=evaluation.to_log(),
            )
            return
        feedback = _feedback(verdict)
        if job.auto_resubmit and job.attempt < job.max_attempts:
            retried = apply(
                services.jobs,
                job,
                JobEvent.RETRY,
                f"validation failed, resubmitting as attempt {job.attempt + 1}: {verdict.reason}",
                changes={"attempt": job.attempt + 1, "feedback": feedback},
                response=evaluation.to_log(),
            )
            services.dispatcher.start(retried)
            workflow.report_success(message.task_token, {"outcome": "resubmitted"})
            return
        apply(
            services.jobs,
            job,
            JobEvent.REQUIRE_RESUBMISSION,
            f"validation failed: {verdict.reason}",
            changes={"feedback": feedback},
            response=evaluation.to_log(),
        )
        workflow.report_success(message.task_token, {"outcome": "resubmission-required"})
    except Conflict:
        logger.info("job moved on while it was judged", extra={"job_id": job.id})


def _settle_unavailable(services: Services, job: Job, message: StepMessage, detail: str) -> None:
    try:
        apply(
            services.jobs,
            job,
            JobEvent.REQUIRE_RESUBMISSION,
            f"{UNAVAILABLE}: {detail}",
            changes={"feedback": None},
            response={"error": detail},
        )
    except Conflict:
        logger.info("job moved on while the judge was unavailable", extra={"job_id": job.id})
    workflow.report_success(message.task_token, {"outcome": "resubmission-required"})


def _feedback(verdict: Verdict) -> str:
    unmet = [f"- {c.criterion}: {c.evidence}" for c in verdict.criteria if not c.met]
    parts = [verdict.reason, *unmet, *(f"- suggestion: {s}" for s in verdict.suggestions)]
    return "\n".join(parts)[:4000]
