"""Query parameters shared by the list routes."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from agent_jobs.models.jobs import JOB_TYPE_PATTERN, JobStatus

StatusFilter = Annotated[JobStatus | None, Query(description="only jobs in this status")]
JobTypeFilter = Annotated[str | None, Query(alias="jobType", pattern=JOB_TYPE_PATTERN, description="only this type")]
Limit = Annotated[int, Query(ge=1, le=100, description="page size")]
NextToken = Annotated[str | None, Query(alias="nextToken", max_length=2048, description="cursor of the next page")]
