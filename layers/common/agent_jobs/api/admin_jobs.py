"""Admin job routes (seed 002): list all, detail, force resubmit, force complete, reassign."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import (
    FILTERED_PAGES,
    AgentFilter,
    CreatedAfter,
    CreatedBefore,
    JobTypeFilter,
    Limit,
    NextToken,
    PriorityFilter,
    ResourceId,
    StatusFilter,
    TagFilter,
    job_filter,
)
from agent_jobs.api.responses import ok
from agent_jobs.models.envelopes import JobDetailEnvelope, JobEnvelope, JobPage
from agent_jobs.models.jobs import AssignRequest, ForceCompleteRequest, OptionalReasonRequest
from agent_jobs.services import services

router = Router()
TAGS = ["admin: jobs"]


@route(
    router,
    "GET",
    "/api/admin/jobs",
    ok=(200, JobPage),
    summary="All jobs, newest first (with a status and no tag: most recently changed first)",
    description=FILTERED_PAGES,
    tags=TAGS,
)
def list_all_jobs(  # one parameter per filter of DESIGN.md §16
    status: StatusFilter = None,
    job_type: JobTypeFilter = None,
    tag: TagFilter = None,
    agent_id: AgentFilter = None,
    priority: PriorityFilter = None,
    created_after: CreatedAfter = None,
    created_before: CreatedBefore = None,
    limit: Limit = 20,
    next_token: NextToken = None,
) -> Response[dict[str, Any]]:
    filters = job_filter(
        status=status,
        job_type=job_type,
        tag=tag,
        agent_id=agent_id,
        priority=priority,
        created_after=created_after,
        created_before=created_before,
    )
    page = services().job_service.list_all(principal(router), filters, limit=limit, token=next_token)
    return ok(jobs=[job.to_api() for job in page.items], nextToken=page.next_token)


@route(
    router,
    "GET",
    "/api/admin/jobs/{id}",
    ok=(200, JobDetailEnvelope),
    summary="Any job with logs and checkpoints",
    tags=TAGS,
)
def admin_get_job(id: ResourceId) -> Response[dict[str, Any]]:
    return ok(**services().job_service.detail(principal(router), id).to_api())


@route(
    router,
    "POST",
    "/api/admin/jobs/{id}/resubmit",
    ok=(202, JobEnvelope),
    errors=(409,),
    summary="Force a resubmission",
    tags=TAGS,
)
def force_resubmit(id: ResourceId, body: OptionalReasonRequest | None = None) -> Response[dict[str, Any]]:
    job = services().job_service.force_resubmit(principal(router), id, body.reason if body else None)
    return ok(202, job=job.to_api())


@route(
    router,
    "POST",
    "/api/admin/jobs/{id}/complete",
    ok=(200, JobEnvelope),
    errors=(409,),
    summary="Force completion with a reason",
    tags=TAGS,
)
def force_complete(id: ResourceId, body: ForceCompleteRequest) -> Response[dict[str, Any]]:
    job = services().job_service.force_complete(principal(router), id, body.reason, body.result)
    return ok(job=job.to_api())


@route(
    router,
    "POST",
    "/api/admin/jobs/{id}/reassign",
    ok=(200, JobEnvelope),
    errors=(409,),
    summary="Give the job to another agent",
    tags=TAGS,
)
def reassign(id: ResourceId, body: AssignRequest) -> Response[dict[str, Any]]:
    job = services().job_service.reassign(principal(router), id, body.agent_id, body.inputs)
    return ok(job=job.to_api())
