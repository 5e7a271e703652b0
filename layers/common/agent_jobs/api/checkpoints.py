"""Checkpoint routes (seed 004, DESIGN.md §14): the admin review queue, approve (POST, optional comment),
reject (DELETE with a reason), request changes (POST …/request-changes with feedback), and a job's
checkpoints for its owner. The task token never leaves the store."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import Limit, NextToken, ResourceId
from agent_jobs.api.responses import ok
from agent_jobs.catalog import JOB_PREFIXES
from agent_jobs.domain import checkpoints
from agent_jobs.models.checkpoints import ApproveRequest, CheckpointStatus, RequestChangesRequest
from agent_jobs.models.envelopes import CheckpointDetailEnvelope, CheckpointEnvelope, CheckpointPage
from agent_jobs.models.jobs import ReasonRequest
from agent_jobs.services import services

router = Router()
BASE = "/api/admin/agent-checkpoints"
StatusQuery = Annotated[CheckpointStatus, Query(description="PENDING unless given")]
TAGS = ["admin: checkpoints"]


@route(
    router,
    "GET",
    BASE,
    ok=(200, CheckpointPage),
    summary="Checkpoints waiting for a decision (or in ?status=)",
    tags=TAGS,
)
def list_checkpoints(
    status: StatusQuery = CheckpointStatus.PENDING, limit: Limit = 20, next_token: NextToken = None
) -> Response[dict[str, Any]]:
    page = checkpoints.list_checkpoints(services(), principal(router), status, limit, next_token)
    return ok(checkpoints=[checkpoints.to_api(c) for c in page.items], nextToken=page.next_token)


@route(
    router,
    "GET",
    f"{BASE}/{{id}}",
    ok=(200, CheckpointDetailEnvelope),
    summary="A checkpoint, its job and logs",
    tags=TAGS,
)
def get_checkpoint(id: ResourceId) -> Response[dict[str, Any]]:
    checkpoint, job, logs = checkpoints.detail(services(), principal(router), id)
    return ok(
        checkpoint=checkpoints.to_api(checkpoint),
        job=job.to_api() if job else None,
        logs=[log.to_api() for log in logs],
    )


@route(
    router,
    "POST",
    f"{BASE}/{{id}}",
    ok=(200, CheckpointEnvelope),
    errors=(409,),
    summary="Approve a checkpoint (optional comment)",
    tags=TAGS,
)
def approve(id: ResourceId, body: ApproveRequest | None = None) -> Response[dict[str, Any]]:
    comment = body.comment if body else None
    checkpoint = checkpoints.approve(services(), principal(router), id, comment)
    return ok(checkpoint=checkpoints.to_api(checkpoint), message="Checkpoint approved successfully")


@route(
    router,
    "POST",
    f"{BASE}/{{id}}/request-changes",
    ok=(200, CheckpointEnvelope),
    errors=(409,),
    summary="Send the job back to its agent as the next attempt, with feedback",
    tags=TAGS,
)
def request_changes(id: ResourceId, body: RequestChangesRequest) -> Response[dict[str, Any]]:
    checkpoint = checkpoints.request_changes(services(), principal(router), id, body.feedback)
    return ok(checkpoint=checkpoints.to_api(checkpoint), message="Changes requested: the agent runs again")


@route(
    router,
    "DELETE",
    f"{BASE}/{{id}}",
    ok=(200, CheckpointEnvelope),
    errors=(409,),
    summary="Reject a checkpoint (reason required)",
    tags=TAGS,
)
def reject(id: ResourceId, body: ReasonRequest) -> Response[dict[str, Any]]:
    checkpoint = checkpoints.reject(services(), principal(router), id, body.reason)
    return ok(checkpoint=checkpoints.to_api(checkpoint), message="Checkpoint rejected successfully")


@route(
    router,
    "GET",
    tuple(f"{prefix}/{{id}}/checkpoints" for prefix in JOB_PREFIXES),
    ok=(200, CheckpointPage),
    summary="A job's checkpoints",
    tags=["jobs"],
)
def job_checkpoints(id: ResourceId) -> Response[dict[str, Any]]:
    found = checkpoints.for_job(services(), principal(router), id)
    return ok(checkpoints=[checkpoints.to_api(c) for c in found])
