"""The job use cases of the API: create, read, assign, start, cancel, and the admin overrides."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from agent_jobs.domain import events, lifecycle
from agent_jobs.domain.auth import Principal, hide_unless_visible
from agent_jobs.domain.lifecycle import Step, apply, apply_steps, make_log
from agent_jobs.domain.schemas import schema_errors
from agent_jobs.domain.transitions import JobEvent, rule_for
from agent_jobs.errors import BadRequest, Conflict, NotFound
from agent_jobs.integrations.dispatch import Dispatcher
from agent_jobs.models.agents import Agent, AgentStatus
from agent_jobs.models.base import parse_time, utc_now
from agent_jobs.models.checkpoints import Checkpoint, CheckpointStatus
from agent_jobs.models.job_filters import JobFilter
from agent_jobs.models.jobs import CreateJobRequest, Job, JobLog, JobStatus, JobSummary, JobUsage, LogKind
from agent_jobs.repositories.agents import AgentRepository
from agent_jobs.repositories.checkpoints import CheckpointRepository
from agent_jobs.repositories.jobs import JobRepository
from agent_jobs.repositories.paging import Page
from agent_jobs.settings import Settings


def new_id() -> str:
    return uuid.uuid4().hex


DETAIL_LOGS = 100  # the newest entries GET /api/jobs/{id} shows; logsNextToken pages back through the rest


@dataclass(frozen=True)
class JobDetail:
    job: Job
    logs: list[JobLog]  # the newest page, in time order
    checkpoints: list[Checkpoint]
    logs_next_token: str | None = None

    def to_api(self) -> dict[str, Any]:
        now = parse_time(utc_now())
        checkpoints = []
        for checkpoint in self.checkpoints:
            body = checkpoint.to_api()
            body["ageSeconds"] = int((now - parse_time(checkpoint.created_at)).total_seconds())
            checkpoints.append(body)
        pending = [c for c in checkpoints if c["status"] == CheckpointStatus.PENDING]
        job = self.job.to_api()
        if pending:  # else the job's own: "agent" while an async agent works on it (DESIGN.md §14), or None
            job["waitingFor"] = {"reason": "checkpoint approval", "checkpoint": pending[-1]}
        timeline = [
            {"status": log.status.value, "at": log.created_at, "message": log.message}
            for log in self.logs
            if log.status.value in JobStatus.__members__ or log.status in {LogKind.CANCELLED, LogKind.MATCHING_FAILED}
        ]
        return {
            "job": job,
            "logs": [log.to_api() for log in self.logs],
            "logsNextToken": self.logs_next_token,  # GET …/logs?nextToken= continues to older entries
            "checkpoints": checkpoints,
            "timeline": timeline,
        }


class JobService:
    def __init__(
        self,
        jobs: JobRepository,
        agents: AgentRepository,
        checkpoints: CheckpointRepository,
        dispatcher: Dispatcher,
        settings: Settings,
    ) -> None:
        self.jobs = jobs
        self.agents = agents
        self.checkpoints = checkpoints
        self.dispatcher = dispatcher
        self.settings = settings

    # --- reads -----------------------------------------------------------------------------------
    def get(self, principal: Principal, job_id: str) -> Job:
        return self._visible(principal, job_id, self.jobs.get(job_id))

    def detail(self, principal: Principal, job_id: str) -> JobDetail:
        """The job with its newest logs: the status and the history from the same read of the job item."""
        found = self.jobs.get_with_history(job_id)
        job = self._visible(principal, job_id, found[0] if found else None)
        history = found[1] if found else None
        page = self.jobs.log_page(job.id, limit=DETAIL_LOGS, history=history)
        return JobDetail(job, page.items, self.checkpoints.for_job(job.id), page.next_token)

    @staticmethod
    def _visible(principal: Principal, job_id: str, job: Job | None) -> Job:
        if job is None:
            raise NotFound(f"job {job_id} not found")
        hide_unless_visible(principal, job.user_id, "job", job_id)
        return job

    def logs(self, principal: Principal, job_id: str) -> list[JobLog]:
        """The newest page of the job's history, in time order (:meth:`log_page` pages back)."""
        return self.log_page(principal, job_id).items

    def log_page(
        self, principal: Principal, job_id: str, *, limit: int = DETAIL_LOGS, token: str | None = None
    ) -> Page[JobLog]:
        """A page of the job's history: pages run newest first, each page in time order."""
        return self.jobs.log_page(self.get(principal, job_id).id, limit=limit, token=token)

    def list_mine(self, principal: Principal, filters: JobFilter, *, limit: int, token: str | None) -> Page[JobSummary]:
        """The caller's own jobs only, whatever the filters say."""
        return self.jobs.list_for_user(principal.user_id, filters, limit=limit, token=token)

    def list_all(self, principal: Principal, filters: JobFilter, *, limit: int, token: str | None) -> Page[JobSummary]:
        principal.require_admin()
        return self.jobs.list_all(filters, limit=limit, token=token)

    # --- create and assign -------------------------------------------------------------------------
    def create(self, principal: Principal, request: CreateJobRequest) -> Job:
        agent, inputs = None, None
        if request.agent_id:  # check before writing anything: a bad agent leaves no job behind
            agent = self._active_agent(request.agent_id)
            inputs = self._checked_inputs(agent, request.inputs if request.inputs is not None else request.input_data)
        now = utc_now()
        job = Job(
            id=new_id(),
            user_id=principal.user_id,
            name=request.title,
            description=request.text,
            acceptance_criteria=request.acceptance_criteria,
            job_type=request.job_type,
            input_data=request.input_data,
            priority=request.priority,
            max_attempts=request.max_attempts or self.settings.default_max_attempts,
            auto_resubmit=request.auto_resubmit,
            pass_score=request.pass_score,
            deadline_seconds=request.deadline_seconds,
            template_id=request.template_id,
            tags=request.tags,
            created_at=now,
            updated_at=now,
        )
        created = make_log(job, LogKind.PENDING, "job created", actor=principal.user_id)
        if agent is not None:  # born assigned (and started): one write (DESIGN.md §13)
            steps = self._assignment_steps(job, agent, inputs or {}, JobEvent.ASSIGN)
            job = lifecycle.create(self.jobs, job, created, steps, actor=principal.user_id)
            events.job_created(job)
            self._queue_if_started(job)
            return job
        job = self.jobs.create(job, [created])
        events.job_created(job)
        if request.auto_assign:
            self.dispatcher.request_assignment(job)
        return job

    def assign(self, principal: Principal, job_id: str, agent_id: str, inputs: dict[str, Any] | None) -> Job:
        job = self.get(principal, job_id)
        agent = self._active_agent(agent_id)
        checked = self._checked_inputs(agent, job.input_data if inputs is None else inputs)
        return self.assign_agent(job, agent, checked, principal.user_id, JobEvent.ASSIGN)

    def reassign(self, principal: Principal, job_id: str, agent_id: str, inputs: dict[str, Any] | None) -> Job:
        principal.require_admin()
        job = self.get(principal, job_id)
        agent = self._active_agent(agent_id)
        checked = self._checked_inputs(agent, job.input_data if inputs is None else inputs)
        return self.assign_agent(job, agent, checked, principal.user_id, JobEvent.REASSIGN)

    def request_auto_assign(self, principal: Principal, job_id: str) -> Job:
        job = self.get(principal, job_id)
        if job.status != JobStatus.PENDING:
            raise Conflict(f"only a PENDING job can be auto-assigned; this one is {job.status}")
        self.dispatcher.request_assignment(job)
        return job

    def unassign(self, principal: Principal, job: Job, reason: str | None = None) -> Job:
        """Cancel on an ASSIGNED job (seed 003): back to PENDING without its agent; ``domain/cancellation.py``
        decides when this is what cancel means."""
        return apply(
            self.jobs,
            job,
            JobEvent.UNASSIGN,
            "assignment cancelled" + (f": {reason}" if reason else ""),
            changes={"assigned_agent_id": None, "agent_inputs": None},
            actor=principal.user_id,
        )

    # --- run -------------------------------------------------------------------------------------
    def execute(self, principal: Principal, job_id: str) -> Job:
        return self.start(self.get(principal, job_id), principal.user_id, "execution requested")

    def resubmit(self, principal: Principal, job_id: str, reason: str | None = None) -> Job:
        job = self.get(principal, job_id)
        message = "resubmitted" + (f": {reason}" if reason else "")
        return self.start(job, principal.user_id, message)

    def force_resubmit(self, principal: Principal, job_id: str, reason: str | None) -> Job:
        principal.require_admin()
        return self.resubmit(principal, job_id, f"by admin{': ' + reason if reason else ''}")

    def force_complete(self, principal: Principal, job_id: str, reason: str, result: Any) -> Job:
        principal.require_admin()
        job = self.get(principal, job_id)
        changes = {"result": result} if result is not None else {}
        return apply(
            self.jobs,
            job,
            JobEvent.FORCE_COMPLETE,
            f"completed by admin: {reason}",
            changes=changes,
            actor=principal.user_id,
        )

    def start(self, job: Job, actor: str | None, message: str) -> Job:
        """ASSIGNED/FAILED/RESUBMISSION_REQUIRED → IN_PROGRESS with the next attempt, then queued."""
        rule_for(job.status, JobEvent.START)  # the state's refusal first: a CANCELLED job says so, not "no agent"
        if not job.assigned_agent_id:
            raise Conflict("the job has no agent: assign one first")
        started = apply(self.jobs, job, JobEvent.START, message, changes={"attempt": job.attempt + 1}, actor=actor)
        self.dispatcher.start(started)
        return started

    def assign_agent(
        self,
        job: Job,
        agent: Agent,
        inputs: dict[str, Any],
        actor: str,
        event: JobEvent,
        *,
        note: str | None = None,
        usage: Any = None,
        job_usage: JobUsage | None = None,
    ) -> Job:
        """ASSIGN/REASSIGN to ``agent`` with checked ``inputs``; with auto-start on, the start is written in
        the same write (one instead of two) and the job is queued."""
        steps = self._assignment_steps(job, agent, inputs, event, note=note, usage=usage, job_usage=job_usage)
        updated = apply_steps(self.jobs, job, steps, actor=actor)
        self._queue_if_started(updated)
        return updated

    def _assignment_steps(
        self,
        job: Job,
        agent: Agent,
        inputs: dict[str, Any],
        event: JobEvent,
        *,
        note: str | None = None,
        usage: Any = None,
        job_usage: JobUsage | None = None,
    ) -> list[Step]:
        steps = [
            Step(
                event,
                f"assigned to agent {agent.name}" + (f": {note}" if note else ""),
                # inputs equal to the job's inputData are not stored twice (the agent gets inputData)
                {"assigned_agent_id": agent.id, "agent_inputs": None if inputs == job.input_data else inputs}
                | ({"usage": job_usage} if job_usage is not None else {}),  # auto-assign: the judge's tokens
                agent.id,
                {"agentId": agent.id, "inputs": inputs},
                usage,
            )
        ]
        if self.settings.auto_start_on_assign:
            steps.append(Step(JobEvent.START, "execution started on assignment", {"attempt": job.attempt + 1}))
        return steps

    def _queue_if_started(self, job: Job) -> None:
        if job.status == JobStatus.IN_PROGRESS:
            self.dispatcher.start(job)

    # --- helpers ---------------------------------------------------------------------------------
    def _active_agent(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None or agent.status != AgentStatus.ACTIVE:
            raise BadRequest(f"agentId: no active agent {agent_id}", field="agentId")
        return agent

    @staticmethod
    def _checked_inputs(agent: Agent, inputs: dict[str, Any]) -> dict[str, Any]:
        problems = schema_errors(inputs, agent.input_schema)
        if problems:
            raise BadRequest(f"inputs do not match the agent's inputSchema: {'; '.join(problems)}", field="inputs")
        return inputs
