"""Admin job routes (seed 002): list all, detail, force resubmit, force complete, reassign."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import JobTypeFilter, Limit, NextToken, StatusFilter
from agent_jobs.api.responses import ok
from agent_jobs.models.jobs import AssignRequest, ForceCompleteRequest, OptionalReasonRequest
from agent_jobs.services import services

router = Router()


@route(router, "GET", "/api/admin/jobs", summary="All jobs (admin)")
def list_all_jobs(
    status: StatusFilter = None,
    job_type: JobTypeFilter = None,
    limit: Limit = 20,
    next_token: NextToken = None,
) -> Response[dict[str, Any]]:
    page = services().job_service.list_all(
        principal(router), status=status, job_type=job_type, limit=limit, token=next_token
    )
    return ok(jobs=[job.to_api() for job in page.items], nextToken=page.next_token)


@route(router, "GET", "/api/admin/jobs/{id}", summary="Any job with logs and checkpoints (admin)")
def admin_get_job(id: str) -> Response[dict[str, Any]]:
    return ok(**services().job_service.detail(principal(router), id).to_api())


@route(router, "POST", "/api/admin/jobs/{id}/resubmit", summary="Force a resubmission (admin)")
def force_resubmit(id: str, body: OptionalReasonRequest | None = None) -> Response[dict[str, Any]]:
    job = services().job_service.force_resubmit(principal(router), id, body.reason if body else None)
    return ok(202, job=job.to_api())


@route(router, "POST", "/api/admin/jobs/{id}/complete", summary="Force completion with a reason (admin)")
def force_complete(id: str, body: ForceCompleteRequest) -> Response[dict[str, Any]]:
    job = services().job_service.force_complete(principal(router), id, body.reason, body.result)
    return ok(job=job.to_api())


@route(router, "POST", "/api/admin/jobs/{id}/reassign", summary="Give the job to another agent (admin)")
def reassign(id: str, body: AssignRequest) -> Response[dict[str, Any]]:
    job = services().job_service.reassign(principal(router), id, body.agent_id, body.inputs)
    return ok(job=job.to_api())
