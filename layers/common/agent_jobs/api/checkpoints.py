"""Checkpoint routes (seed 004): the admin review queue, approve (POST), reject (DELETE with a reason),
and a job's checkpoints for its owner. The task token never leaves the store."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import Limit, NextToken
from agent_jobs.api.responses import ok
from agent_jobs.catalog import JOB_PREFIXES
from agent_jobs.domain import checkpoints
from agent_jobs.models.checkpoints import CheckpointStatus
from agent_jobs.models.jobs import ReasonRequest
from agent_jobs.services import services

router = Router()
BASE = "/api/admin/agent-checkpoints"
StatusQuery = Annotated[CheckpointStatus, Query(description="PENDING unless given")]


@route(router, "GET", BASE, summary="Checkpoints waiting for a decision (or in ?status=)")
def list_checkpoints(
    status: StatusQuery = CheckpointStatus.PENDING, limit: Limit = 20, next_token: NextToken = None
) -> Response[dict[str, Any]]:
    page = checkpoints.list_checkpoints(services(), principal(router), status, limit, next_token)
    return ok(checkpoints=[checkpoints.to_api(c) for c in page.items], nextToken=page.next_token)


@route(router, "GET", f"{BASE}/{{id}}", summary="A checkpoint with its job and the job's logs")
def get_checkpoint(id: str) -> Response[dict[str, Any]]:
    checkpoint, job, logs = checkpoints.detail(services(), principal(router), id)
    return ok(
        checkpoint=checkpoints.to_api(checkpoint),
        job=job.to_api() if job else None,
        logs=[log.to_api() for log in logs],
    )


@route(router, "POST", f"{BASE}/{{id}}", summary="Approve a checkpoint")
def approve(id: str) -> Response[dict[str, Any]]:
    checkpoint = checkpoints.approve(services(), principal(router), id)
    return ok(checkpoint=checkpoints.to_api(checkpoint), message="Checkpoint approved successfully")


@route(router, "DELETE", f"{BASE}/{{id}}", summary="Reject a checkpoint (reason required)")
def reject(id: str, body: ReasonRequest) -> Response[dict[str, Any]]:
    checkpoint = checkpoints.reject(services(), principal(router), id, body.reason)
    return ok(checkpoint=checkpoints.to_api(checkpoint), message="Checkpoint rejected successfully")


@route(router, "GET", tuple(f"{prefix}/{{id}}/checkpoints" for prefix in JOB_PREFIXES), summary="A job's checkpoints")
def job_checkpoints(id: str) -> Response[dict[str, Any]]:
    found = checkpoints.for_job(services(), principal(router), id)
    return ok(checkpoints=[checkpoints.to_api(c) for c in found])
