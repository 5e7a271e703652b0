"""Creating jobs: the one path of ``POST /api/jobs`` (``create_one``) and ``POST /api/jobs/batch`` (DESIGN.md
§16), whose every body is answered in its result exactly as the single route would answer it."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from agent_jobs.api.app import principal, route, validation_error
from agent_jobs.api.responses import error, ok
from agent_jobs.api.templates import template_service
from agent_jobs.api.webhooks import webhook_service
from agent_jobs.catalog import JOB_PREFIXES
from agent_jobs.domain.auth import Principal
from agent_jobs.domain.batch import Created, JobCreator
from agent_jobs.errors import DomainError
from agent_jobs.models.batch import BatchCreateRequest, BatchResults
from agent_jobs.models.jobs import CreateJobRequest
from agent_jobs.services import services

router = Router()
TAGS = ["jobs"]


def job_creator() -> JobCreator:
    return JobCreator(services().job_service, template_service(), webhook_service())


def create_one(caller: Principal, body: CreateJobRequest) -> Created:
    """``POST /api/jobs``: a body made from a template that is not valid answers like the same body sent plainly."""
    try:
        return job_creator().create(caller, body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


@route(
    router,
    "POST",
    tuple(f"{prefix}/batch" for prefix in JOB_PREFIXES),
    ok=(207, BatchResults),
    summary="Create up to 100 jobs: one result per body (201 with its job, or the error POST /api/jobs would give)",
    tags=TAGS,
)
def create_batch(body: BatchCreateRequest) -> Response[dict[str, Any]]:
    outcomes = job_creator().create_each(principal(router), body.jobs)
    return ok(207, results=[_result(index, outcome) for index, outcome in enumerate(outcomes)])


def _result(index: int, outcome: Created | Exception) -> dict[str, Any]:
    if isinstance(outcome, Created):
        return {"index": index, "status": 201, **outcome.to_api()}
    if isinstance(outcome, ValidationError):  # the single route's own answer to a body that fails its model
        answer = validation_error(RequestValidationError(outcome.errors()))
    elif isinstance(outcome, DomainError):
        answer = error(outcome.status_code, outcome.code, outcome.message, outcome.field)
    else:  # logged where it happened; never its text (it may hold anything)
        answer = error(500, "INTERNAL_ERROR", "this job could not be created; send it again")
    return {"index": index, "status": answer.status_code, "error": json.loads(str(answer.body))["error"]}
