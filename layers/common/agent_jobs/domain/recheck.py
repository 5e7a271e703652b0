"""Admin re-check (seed 000): run the judge again on a job's latest output, or on ad-hoc input."""

from __future__ import annotations

import asyncio
from typing import Any

from agent_jobs.domain.auth import Principal
from agent_jobs.domain.lifecycle import apply, make_log
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.domain.validation import Evaluation, agent_output, evaluate
from agent_jobs.errors import Conflict, JudgeUnavailable, ServiceUnavailable
from agent_jobs.integrations.judge import Judge
from agent_jobs.integrations.pricing import Usage
from agent_jobs.models.jobs import DEFAULT_PASS_SCORE, Job, JobStatus, LogKind
from agent_jobs.services import Services


def fresh_judge() -> Judge:
    """A judge for one API request (its client lives on this request's event loop)."""
    return Judge.from_settings(_settings())


def _settings() -> Any:
    from agent_jobs.settings import get_settings

    return get_settings()


def _judge_now(job: Job, output: Any) -> Evaluation:
    try:
        return asyncio.run(evaluate(fresh_judge, job, output))
    except JudgeUnavailable as exc:
        raise ServiceUnavailable(f"validation unavailable: {exc}") from exc


def recheck(services: Services, principal: Principal, job_id: str) -> tuple[Job, Evaluation]:
    principal.require_admin()
    job = services.job_service.get(principal, job_id)
    output = job.result if job.status == JobStatus.COMPLETED else agent_output_any(services, job)
    if output is None:
        raise Conflict("the job has no agent output to re-check yet")
    evaluation = _judge_now(job, output)
    message = f"re-check by admin: {'passed' if evaluation.passed else 'failed'}: {evaluation.reason}"
    if evaluation.passed and job.status == JobStatus.RESUBMISSION_REQUIRED:
        usage = Usage.from_api(job.usage) + evaluation.usage
        job = apply(
            services.jobs,
            job,
            JobEvent.FORCE_COMPLETE,
            message,
            changes={"result": output, "usage": usage.to_api()},
            actor=principal.user_id,
            response=evaluation.to_log(),
        )
    else:
        services.jobs.add_log(
            make_log(job, LogKind.VALIDATION, message, actor=principal.user_id, response=evaluation.to_log())
        )
    return job, evaluation


def agent_output_any(services: Services, job: Job) -> Any:
    """The latest agent answer of any attempt."""
    output = agent_output(services, job)
    if output is not None:
        return output
    for log in reversed(services.jobs.logs(job.id)):
        if log.status == LogKind.AGENT_RESPONSE:
            return log.response_payload
    return None


def validate_ad_hoc(
    principal: Principal,
    result: Any,
    acceptance_criteria: str,
    description: str,
    *,
    job_type: str = "ad-hoc",
    pass_score: float = DEFAULT_PASS_SCORE,
) -> Evaluation:
    """Seed 000's validation service: judge any result against any criteria (admins), with the same
    deterministic checks and verdict rules as a job of ``job_type`` (an undeclared type: the generic ones)."""
    principal.require_admin()
    probe = Job(
        id="ad-hoc",
        user_id=principal.user_id,
        name="ad-hoc",
        description=description or "ad-hoc validation",
        acceptance_criteria=acceptance_criteria,
        job_type=job_type,
        pass_score=pass_score,
        created_at="",
        updated_at="",
    )
    return _judge_now(probe, result)
