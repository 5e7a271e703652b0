"""Admin validation routes: seed 000's validation service and the re-check of a job."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import Field, field_validator

from agent_jobs.api.app import principal, route
from agent_jobs.api.responses import ok
from agent_jobs.domain.recheck import recheck, validate_ad_hoc
from agent_jobs.models.base import ApiModel, json_size
from agent_jobs.models.jobs import MAX_RESULT_BYTES, MAX_TEXT
from agent_jobs.services import services

router = Router()


class ValidateRequest(ApiModel):
    result: Any
    acceptance_criteria: str = Field(min_length=1, max_length=MAX_TEXT)
    description: str = Field(default="", max_length=MAX_TEXT)

    @field_validator("result")
    @classmethod
    def _limit(cls, value: Any) -> Any:
        if json_size(value) > MAX_RESULT_BYTES:
            raise ValueError(f"result is larger than {MAX_RESULT_BYTES // 1024} KB")
        return value


@route(router, "POST", "/api/admin/validate", summary="Judge a result against acceptance criteria (admin)")
def validate_result(body: ValidateRequest) -> Response[dict[str, Any]]:
    evaluation = validate_ad_hoc(principal(router), body.result, body.acceptance_criteria, body.description)
    return ok(validation=evaluation.to_log())


@route(router, "POST", "/api/admin/jobs/{id}/recheck", summary="Run the judge again on a job (admin)")
def recheck_job(id: str) -> Response[dict[str, Any]]:
    job, evaluation = recheck(services(), principal(router), id)
    return ok(job=job.to_api(), validation=evaluation.to_log())
