"""Path and query parameters shared by the routes: one place for what an id and a page look like."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from agent_jobs.models.base import ID_PATTERN
from agent_jobs.models.jobs import JOB_TYPE_PATTERN, JobStatus

# Every `{id}` of the API. Checked before any table is read: an id DynamoDB could not take as a key (over
# 2048 bytes) would otherwise answer 500 on AWS; a malformed one answers 400 naming `id`.
ResourceId = Annotated[str, Path(pattern=ID_PATTERN, max_length=128, description="the resource's id")]

StatusFilter = Annotated[JobStatus | None, Query(description="only jobs in this status")]
JobTypeFilter = Annotated[str | None, Query(alias="jobType", pattern=JOB_TYPE_PATTERN, description="only this type")]
Limit = Annotated[int, Query(ge=1, le=100, description="page size")]
NextToken = Annotated[str | None, Query(alias="nextToken", max_length=2048, description="cursor of the next page")]
