"""The jobs API (DESIGN.md §4): a user's own jobs; ``/api/agent-jobs`` answers like ``/api/jobs``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import principal, route
from agent_jobs.api.batch import create_one
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
from agent_jobs.catalog import JOB_PREFIXES
from agent_jobs.domain import cancellation
from agent_jobs.models.envelopes import JobDetailEnvelope, JobEnvelope, JobPage, LogsEnvelope
from agent_jobs.models.jobs import AssignRequest, CreateJobRequest, OptionalReasonRequest
from agent_jobs.services import services

router = Router()
TAGS = ["jobs"]


def _paths(suffix: str = "") -> tuple[str, ...]:
    return tuple(prefix + suffix for prefix in JOB_PREFIXES)


@route(
    router,
    "POST",
    _paths(),
    ok=(201, JobEnvelope),
    errors=(404,),  # a templateId that names no template you can see
    summary="Create a job (blank, or from a template: templateId and variables)",
    tags=TAGS,
)
def create_job(body: CreateJobRequest) -> Response[dict[str, Any]]:
    return ok(201, **create_one(principal(router), body).to_api())


@route(
    router,
    "GET",
    _paths(),
    ok=(200, JobPage),
    summary="List my jobs, newest first",
    description=FILTERED_PAGES,
    tags=TAGS,
)
def list_jobs(  # one parameter per filter of DESIGN.md §16
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
    page = services().job_service.list_mine(principal(router), filters, limit=limit, token=next_token)
    return ok(jobs=[job.to_api() for job in page.items], nextToken=page.next_token)


@route(
    router,
    "GET",
    _paths("/{id}"),
    ok=(200, JobDetailEnvelope),
    summary="A job with its logs, checkpoints and timeline",
    tags=TAGS,
)
def get_job(id: ResourceId) -> Response[dict[str, Any]]:
    detail = services().job_service.detail(principal(router), id)
    return ok(**detail.to_api())


@route(
    router,
    "GET",
    _paths("/{id}/logs"),
    ok=(200, LogsEnvelope),
    summary="A job's log: the newest page, in time order; nextToken pages back to older entries",
    tags=TAGS,
)
def job_logs(id: ResourceId, limit: Limit = 100, next_token: NextToken = None) -> Response[dict[str, Any]]:
    page = services().job_service.log_page(principal(router), id, limit=limit, token=next_token)
    return ok(logs=[log.to_api() for log in page.items], nextToken=page.next_token)


@route(
    router,
    "POST",
    _paths("/{id}/assign"),
    ok=(200, JobEnvelope),
    errors=(409,),
    summary="Assign an agent (inputs checked against its inputSchema)",
    tags=TAGS,
)
def assign(id: ResourceId, body: AssignRequest) -> Response[dict[str, Any]]:
    job = services().job_service.assign(principal(router), id, body.agent_id, body.inputs)
    return ok(job=job.to_api())


@route(
    router,
    "POST",
    _paths("/{id}/auto-assign"),
    ok=(202, JobEnvelope),
    errors=(409,),
    summary="Let the LLM pick an agent (in the background)",
    tags=TAGS,
)
def auto_assign(id: ResourceId) -> Response[dict[str, Any]]:
    job = services().job_service.request_auto_assign(principal(router), id)
    return ok(202, job=job.to_api(), message="auto-assignment queued")


@route(
    router,
    "POST",
    _paths("/{id}/cancel"),
    ok=(200, JobEnvelope),
    errors=(409,),
    summary="Cancel the job (CANCELLED; on an ASSIGNED job: undo the assignment)",
    tags=TAGS,
)
def cancel(id: ResourceId, body: OptionalReasonRequest | None = None) -> Response[dict[str, Any]]:
    reason = body.reason if body else None
    return ok(job=cancellation.cancel(services(), principal(router), id, reason).to_api())


@route(
    router,
    "POST",
    _paths("/{id}/execute"),
    ok=(202, JobEnvelope),
    errors=(409,),
    summary="Send the job to its agent",
    tags=TAGS,
)
def execute(id: ResourceId) -> Response[dict[str, Any]]:
    return ok(202, job=services().job_service.execute(principal(router), id).to_api())


@route(
    router,
    "POST",
    _paths("/{id}/resubmit"),
    ok=(202, JobEnvelope),
    errors=(409,),
    summary="Run the job again",
    tags=TAGS,
)
def resubmit(id: ResourceId, body: OptionalReasonRequest | None = None) -> Response[dict[str, Any]]:
    reason = body.reason if body else None
    return ok(202, job=services().job_service.resubmit(principal(router), id, reason).to_api())
