"""The validate step (seeds 000/001): deterministic checks, then the judge; the job completes, retries with
feedback, or waits for a resubmission. A judge that gives no verdict never completes a job, nor does a
verdict whose own evidence contradicts it (``domain/verdicts.py``), nor one on content it did not see."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from agent_jobs.domain import events
from agent_jobs.domain.execution import current_job
from agent_jobs.domain.lifecycle import apply, make_log
from agent_jobs.domain.output_checks import check_output
from agent_jobs.domain.policies import Step, output_rules_for, policy_for
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.domain.verdicts import check_verdict, criteria_list
from agent_jobs.errors import Conflict, JudgeUnavailable
from agent_jobs.integrations.judge import Judge, OutputTooLarge, Verdict
from agent_jobs.integrations.pricing import Usage
from agent_jobs.models.jobs import Job, LogKind
from agent_jobs.models.messages import StepMessage
from agent_jobs.observability import logger
from agent_jobs.services import Services

UNAVAILABLE = "validation unavailable"
TOO_LARGE = "output too large to judge"
JUDGE_ASKS = 2  # an inconsistent verdict is asked once more, then it is a fail


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    TOO_LARGE = "too-large"  # no verdict: RESUBMISSION_REQUIRED, never a pass on unseen content


@dataclass(frozen=True)
class Evaluation:
    """The platform's decision on one output, what it rests on, and what it cost."""

    outcome: Outcome
    reason: str
    verdict: Verdict | None = None  # the judge's last answer (None: decided by the deterministic checks)
    model: str | None = None
    usage: Usage = field(default_factory=Usage)
    checks: tuple[str, ...] = ()  # what the deterministic checks found
    judge_calls: int = 0

    @property
    def passed(self) -> bool:
        return self.outcome == Outcome.PASS

    def decided(self) -> Verdict:
        """The verdict as decided: the judge's answer with ``isValid`` and ``reason`` set by the rules."""
        if self.verdict is None:
            return Verdict(
                isValid=self.passed,
                score=1.0 if self.passed else 0.0,
                reason=self.reason,
                criteria=[],
                suggestions=[f"fix: {problem}" for problem in self.checks],
            )
        if self.verdict.isValid == self.passed:
            return self.verdict
        return self.verdict.model_copy(update={"isValid": self.passed, "reason": self.reason})

    def to_log(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "outcome": self.outcome.value,
            "reason": self.reason,
            "verdict": self.decided().model_dump(),
            "checks": list(self.checks),
            "model": self.model,
            "usage": self.usage.to_api(),
            "judgeCalls": self.judge_calls,
        }
        if self.verdict is not None and self.verdict.isValid != self.passed:
            entry["judgeVerdict"] = self.verdict.model_dump()  # what the judge claimed, overruled
        return entry


async def evaluate(judge_factory: Any, job: Job, output: Any) -> Evaluation:
    """The decision on ``output``: deterministic checks, then (with criteria) the judge, checked.

    Raises JudgeUnavailable when the judge gives no verdict at all."""
    problems = check_output(output_rules_for(job.job_type), output)
    if problems:
        return Evaluation(Outcome.FAIL, "deterministic checks failed: " + "; ".join(problems), checks=tuple(problems))
    criteria = criteria_list(job.acceptance_criteria)
    if not criteria:
        return Evaluation(Outcome.PASS, "no acceptance criteria: the output passed the job type's deterministic checks")
    judge: Judge = judge_factory()
    usage, calls = Usage(), 0
    for ask in range(1, JUDGE_ASKS + 1):
        try:
            result = await judge.evaluate(criteria=criteria, output=output, job_description=job.description)
        except OutputTooLarge as exc:
            return Evaluation(Outcome.TOO_LARGE, f"{TOO_LARGE}: {exc}", usage=usage, judge_calls=calls)
        usage, calls = usage + result.usage, calls + result.calls
        events.judge_called("validate", latency_ms=result.latency_ms, usage=result.usage.counts())
        check = check_verdict(result.verdict, criteria, job.pass_score)
        if check.consistent or ask == JUDGE_ASKS:
            outcome = Outcome.PASS if check.passed else Outcome.FAIL
            events.judge_called("validate", verdict=outcome.value)
            return Evaluation(outcome, check.reason, result.verdict, result.model, usage, judge_calls=calls)
        logger.warning("inconsistent verdict: asking the judge again", extra={"job_id": job.id, "detail": check.reason})
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns on its last ask


def agent_output(services: Services, job: Job) -> Any:
    """The agent's answer for the job's current attempt (its AGENT_RESPONSE log, looked up by attempt: a long
    history never hides it)."""
    answer = services.jobs.answer(job.id, job.attempt)
    return answer.response_payload if answer is not None else None


async def validate(services: Services, judge_factory: Any, message: StepMessage, *, last_try: bool) -> None:
    job = await asyncio.to_thread(current_job, services, message)
    if job is None:
        return
    if await asyncio.to_thread(reached_review, services, job):
        logger.info("duplicate validate message: the attempt already passed to its review", extra={"job_id": job.id})
        return
    output = await asyncio.to_thread(agent_output, services, job)
    if output is None:
        await asyncio.to_thread(_settle_unavailable, services, job, "no agent output for this attempt")
        return
    try:
        evaluation = await evaluate(judge_factory, job, output)
    except JudgeUnavailable as exc:
        events.judge_called("validate", verdict="unavailable")
        if not last_try:
            raise  # the message comes back after its visibility timeout: the judge is retried
        await asyncio.to_thread(_settle_unavailable, services, job, str(exc))
        return
    await asyncio.to_thread(settle, services, job, output, evaluation)


def reached_review(services: Services, job: Job) -> bool:
    """The attempt already passed the judge and reached its review before completion (its checkpoint exists, in
    any state): a redelivered validate message must not judge it again (one GetItem, for such job types only)."""
    from agent_jobs.domain.checkpoints import checkpoint_id  # that module builds on this one

    after = policy_for(job.job_type).after_pass()
    if after.step != Step.CHECKPOINT or not after.stage:
        return False
    return services.checkpoints.get(checkpoint_id(job.id, job.attempt, after.stage)) is not None


def settle(services: Services, job: Job, output: Any, evaluation: Evaluation) -> None:
    """Applies the decision: COMPLETED (or, when the job type has a review before completion, the wait at its
    first checkpoint), an automatic retry with feedback, or RESUBMISSION_REQUIRED.

    The judge's tokens are added to the job's ``usage`` in the same write, and to the agent's counters."""
    changes = {"usage": (Usage.from_api(job.usage) + evaluation.usage).to_api()} if evaluation.judge_calls else {}
    log = evaluation.to_log()
    try:
        if evaluation.passed:
            message_text = f"validation passed: {evaluation.reason}"
            after = policy_for(job.job_type).after_pass()
            if after.step == Step.CHECKPOINT and after.stage:  # a human reviews it first: its approval completes it
                entry = make_log(job, LogKind.VALIDATION, message_text, response=log)
                if changes:  # no status change: the usage is written with the log entry, on the same condition
                    job = services.jobs.write_transition(job, job.status, changes, [entry])
                else:
                    services.jobs.add_log(entry)
                services.dispatcher.start_checkpoint_wait(job, after.stage)
            else:
                apply(
                    services.jobs,
                    job,
                    JobEvent.PASS,
                    message_text,
                    changes={"result": output, "feedback": None, **changes},
                    response=log,
                )
        elif evaluation.outcome == Outcome.TOO_LARGE or not (job.auto_resubmit and job.attempt < job.max_attempts):
            # the same agent would likely send the same oversized answer again: no automatic retry
            apply(
                services.jobs,
                job,
                JobEvent.REQUIRE_RESUBMISSION,
                f"validation failed: {evaluation.reason}",
                changes={"feedback": _feedback(evaluation), **changes},
                response=log,
            )
        else:
            retried = apply(
                services.jobs,
                job,
                JobEvent.RETRY,
                f"validation failed, resubmitting as attempt {job.attempt + 1}: {evaluation.reason}",
                changes={"attempt": job.attempt + 1, "feedback": _feedback(evaluation), **changes},
                response=log,
            )
            services.dispatcher.start(retried)
    except Conflict:
        logger.info("job moved on while it was judged", extra={"job_id": job.id})
        return
    count_agent_usage(services, job, evaluation)


def count_agent_usage(services: Services, job: Job, evaluation: Evaluation) -> None:
    """The agent's judge counters (``AgentRecord.judge_*``): the registry reads them with ``judge_usage``."""
    if not (evaluation.judge_calls and job.assigned_agent_id):
        return
    usage = evaluation.usage
    try:
        services.agents.add_judge_usage(
            job.assigned_agent_id, usage.prompt_tokens, usage.completion_tokens, usage.cost_usd
        )
    except Exception:  # the verdict is written; a lost counter update must not undo or repeat it
        logger.exception("could not add the judge's usage to the agent", extra={"job_id": job.id})


def _settle_unavailable(services: Services, job: Job, detail: str) -> None:
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


def _feedback(evaluation: Evaluation) -> str:
    verdict = evaluation.decided()
    unmet = [f"- {c.criterion}: {c.evidence}" for c in verdict.criteria if not c.met]
    parts = [evaluation.reason, *unmet, *(f"- suggestion: {s}" for s in verdict.suggestions)]
    return "\n".join(parts)[:4000]
