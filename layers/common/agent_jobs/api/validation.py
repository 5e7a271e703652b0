"""Admin validation routes: seed 000's validation service and the re-check of a job."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import Field, field_validator

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import ResourceId
from agent_jobs.api.responses import ok
from agent_jobs.domain.recheck import recheck, validate_ad_hoc
from agent_jobs.models.base import RequestModel, json_size
from agent_jobs.models.envelopes import ValidationEnvelope
from agent_jobs.models.jobs import DEFAULT_PASS_SCORE, JOB_TYPE_PATTERN, MAX_RESULT_BYTES, MAX_TEXT
from agent_jobs.services import services

router = Router()


class ValidateRequest(RequestModel):
    result: Any
    acceptance_criteria: str = Field(min_length=1, max_length=MAX_TEXT)
    description: str = Field(default="", max_length=MAX_TEXT)
    job_type: str = Field(default="ad-hoc", pattern=JOB_TYPE_PATTERN)  # whose deterministic checks apply
    pass_score: float = Field(default=DEFAULT_PASS_SCORE, ge=0, le=1)

    @field_validator("result")
    @classmethod
    def _limit(cls, value: Any) -> Any:
        if json_size(value) > MAX_RESULT_BYTES:
            raise ValueError(f"result is larger than {MAX_RESULT_BYTES // 1024} KB")
        return value


@route(
    router,
    "POST",
    "/api/admin/validate",
    ok=(200, ValidationEnvelope),
    errors=(503,),
    tags=["admin: validation"],
    summary="Judge a result against acceptance criteria (admin)",
)
def validate_result(body: ValidateRequest) -> Response[dict[str, Any]]:
    evaluation = validate_ad_hoc(
        principal(router),
        body.result,
        body.acceptance_criteria,
        body.description,
        job_type=body.job_type,
        pass_score=body.pass_score,
    )
    return ok(validation=evaluation.to_log())


@route(
    router,
    "POST",
    "/api/admin/jobs/{id}/recheck",
    ok=(200, ValidationEnvelope),
    errors=(409, 503),
    tags=["admin: validation"],
    summary="Run the judge again on a job (admin)",
)
def recheck_job(id: ResourceId) -> Response[dict[str, Any]]:
    job, evaluation = recheck(services(), principal(router), id)
    return ok(job=job.to_api(), validation=evaluation.to_log())
