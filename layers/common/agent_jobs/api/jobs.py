"""The jobs API (DESIGN.md §4): a user's own jobs; ``/api/agent-jobs`` answers like ``/api/jobs``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import JobTypeFilter, Limit, NextToken, StatusFilter
from agent_jobs.api.responses import ok
from agent_jobs.catalog import JOB_PREFIXES
from agent_jobs.models.jobs import AssignRequest, CreateJobRequest, OptionalReasonRequest
from agent_jobs.services import services

router = Router()


def _paths(suffix: str = "") -> tuple[str, ...]:
    return tuple(prefix + suffix for prefix in JOB_PREFIXES)


@route(router, "POST", _paths(), summary="Create a job")
def create_job(body: CreateJobRequest) -> Response[dict[str, Any]]:
    job = services().job_service.create(principal(router), body)
    return ok(201, job=job.to_api())


@route(router, "GET", _paths(), summary="List my jobs, newest first")
def list_jobs(
    status: StatusFilter = None,
    job_type: JobTypeFilter = None,
    limit: Limit = 20,
    next_token: NextToken = None,
) -> Response[dict[str, Any]]:
    page = services().job_service.list_mine(
        principal(router), status=status, job_type=job_type, limit=limit, token=next_token
    )
    return ok(jobs=[job.to_api() for job in page.items], nextToken=page.next_token)


@route(router, "GET", _paths("/{id}"), summary="A job with its logs, checkpoints and timeline")
def get_job(id: str) -> Response[dict[str, Any]]:
    detail = services().job_service.detail(principal(router), id)
    return ok(**detail.to_api())


@route(router, "GET", _paths("/{id}/logs"), summary="A job's log, in order")
def job_logs(id: str) -> Response[dict[str, Any]]:
    logs = services().job_service.logs(principal(router), id)
    return ok(logs=[log.to_api() for log in logs])


@route(router, "POST", _paths("/{id}/assign"), summary="Assign an agent (inputs checked against its inputSchema)")
def assign(id: str, body: AssignRequest) -> Response[dict[str, Any]]:
    job = services().job_service.assign(principal(router), id, body.agent_id, body.inputs)
    return ok(job=job.to_api())


@route(router, "POST", _paths("/{id}/auto-assign"), summary="Let the LLM pick an agent (in the background)")
def auto_assign(id: str) -> Response[dict[str, Any]]:
    job = services().job_service.request_auto_assign(principal(router), id)
    return ok(202, job=job.to_api(), message="auto-assignment queued")


@route(router, "POST", _paths("/{id}/cancel"), summary="Cancel the assignment")
def cancel(id: str) -> Response[dict[str, Any]]:
    return ok(job=services().job_service.cancel(principal(router), id).to_api())


@route(router, "POST", _paths("/{id}/execute"), summary="Send the job to its agent")
def execute(id: str) -> Response[dict[str, Any]]:
    return ok(202, job=services().job_service.execute(principal(router), id).to_api())


@route(router, "POST", _paths("/{id}/resubmit"), summary="Run the job again")
def resubmit(id: str, body: OptionalReasonRequest | None = None) -> Response[dict[str, Any]]:
    reason = body.reason if body else None
    return ok(202, job=services().job_service.resubmit(principal(router), id, reason).to_api())
