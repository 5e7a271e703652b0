"""The jobs API (DESIGN.md §4): a user's own jobs; ``/api/agent-jobs`` answers like ``/api/jobs``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import JobTypeFilter, Limit, NextToken, ResourceId, StatusFilter
from agent_jobs.api.responses import ok
from agent_jobs.api.webhooks import webhook_service
from agent_jobs.catalog import JOB_PREFIXES
from agent_jobs.domain import cancellation
from agent_jobs.models.envelopes import JobDetailEnvelope, JobEnvelope, JobPage, LogsEnvelope
from agent_jobs.models.jobs import AssignRequest, CreateJobRequest, OptionalReasonRequest
from agent_jobs.services import services

router = Router()
TAGS = ["jobs"]


def _paths(suffix: str = "") -> tuple[str, ...]:
    return tuple(prefix + suffix for prefix in JOB_PREFIXES)


@route(router, "POST", _paths(), ok=(201, JobEnvelope), summary="Create a job", tags=TAGS)
def create_job(body: CreateJobRequest) -> Response[dict[str, Any]]:
    caller = principal(router)
    if body.webhook_url is not None:  # checked first: an unsafe URL leaves no job behind
        webhook_service().check_url(body.webhook_url, "webhookUrl")
    job = services().job_service.create(caller, body)
    secret = webhook_service().attach_to_job(caller, job.id, body.webhook_url) if body.webhook_url else None
    return ok(201, job=job.to_api(), **({"webhookSecret": secret} if secret else {}))


@route(router, "GET", _paths(), ok=(200, JobPage), summary="List my jobs, newest first", tags=TAGS)
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
