"""Path and query parameters shared by the routes: one place for what an id, a page and a job filter look like."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from agent_jobs.errors import BadRequest
from agent_jobs.models.base import ID_PATTERN
from agent_jobs.models.job_filters import MAX_READ, MIN_READ, UTC_INSTANT_PATTERN, JobFilter, utc_instant
from agent_jobs.models.jobs import JOB_TYPE_PATTERN, JobStatus
from agent_jobs.models.tags import TAG_PATTERN, TAG_RULE, TAG_SCHEMA_MAX_LENGTH, parse_tag

# Every `{id}` of the API. Checked before any table is read: an id DynamoDB could not take as a key (over
# 2048 bytes) would otherwise answer 500 on AWS; a malformed one answers 400 naming `id`.
ResourceId = Annotated[str, Path(pattern=ID_PATTERN, max_length=128, description="the resource's id")]

StatusFilter = Annotated[JobStatus | None, Query(description="only jobs in this status")]
JobTypeFilter = Annotated[str | None, Query(alias="jobType", pattern=JOB_TYPE_PATTERN, description="only this type")]
Limit = Annotated[int, Query(ge=1, le=100, description="page size")]
NextToken = Annotated[str | None, Query(alias="nextToken", max_length=2048, description="cursor of the next page")]

# The job lists' filters (DESIGN.md §16); every one given must hold.
TagFilter = Annotated[
    str | None,
    Query(
        pattern=TAG_PATTERN,
        max_length=TAG_SCHEMA_MAX_LENGTH,
        description=f"only jobs with this one tag ({TAG_RULE}); one tag per request",
    ),
]
AgentFilter = Annotated[
    str | None, Query(alias="agentId", pattern=ID_PATTERN, max_length=128, description="only jobs assigned to it")
]
PriorityFilter = Annotated[int | None, Query(ge=1, le=10, description="only jobs of this priority")]
CreatedAfter = Annotated[
    str | None,
    Query(
        alias="createdAfter",
        pattern=UTC_INSTANT_PATTERN,
        description="only jobs created at or after this ISO-8601 UTC time (2025-01-31, 2025-01-31T12:00:00Z)",
    ),
]
CreatedBefore = Annotated[
    str | None,
    Query(
        alias="createdBefore",
        pattern=UTC_INSTANT_PATTERN,
        description="only jobs created before this ISO-8601 UTC time (exclusive: windows can follow each other)",
    ),
]
FILTERED_PAGES = (  # the list routes' description (repositories/job_lists.py)
    f"A page reads at most 5 x limit index entries ({MIN_READ} at least, {MAX_READ} at most): with filters it may "
    "hold fewer than `limit` jobs, even none, and still carry a nextToken — keep paging until there is none."
)


def job_filter(
    *,
    status: JobStatus | None = None,
    job_type: str | None = None,
    tag: str | None = None,
    agent_id: str | None = None,
    priority: int | None = None,
    created_after: str | None = None,
    created_before: str | None = None,
) -> JobFilter:
    """The filter of a list request, each member checked beyond what the schema can say (400 naming it)."""
    after = _checked(utc_instant, created_after, "createdAfter")
    before = _checked(utc_instant, created_before, "createdBefore")
    if after is not None and before is not None and after >= before:
        raise BadRequest("createdAfter must be earlier than createdBefore", field="createdAfter")
    return JobFilter(
        status=status,
        job_type=job_type,
        tag=_checked(parse_tag, tag, "tag"),
        agent_id=agent_id,
        priority=priority,
        created_after=after,
        created_before=before,
    )


def _checked(parse: Callable[[str], str], value: str | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise BadRequest(f"{field}: {exc}", field=field) from exc


# Paging by position, which no route of this API does: refused on every route (api/app.py), never ignored, so a
# client written for ?offset= learns at once to follow nextToken instead. ``offset=0`` on a first page is
# honoured (it asks for what the first page is), so seed 004's guide's own ``?limit=10&offset=0`` still answers.
POSITION_PAGING = frozenset({"offset", "page", "pagenumber", "page_number", "skip", "cursor", "pagetoken"})


def refuse_position_paging(query: dict[str, str] | None) -> None:
    """400 naming nextToken for ``?offset=`` and its kin (matched without regard to case), but for ``offset=0``
    without a nextToken: the first page, which is what the route answers."""
    query = query or {}
    for name, value in query.items():
        first_page = name.lower() == "offset" and value.strip() == "0" and "nextToken" not in query
        if name.lower() in POSITION_PAGING and not first_page:
            raise BadRequest(
                f"{name} is not supported: pages follow nextToken (pass the nextToken of the previous answer; "
                "the first page needs none)",
                field=name,
            )
