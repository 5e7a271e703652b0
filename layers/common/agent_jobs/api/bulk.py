"""Bulk actions by ids (DESIGN.md §16): an owner's cancel/resubmit, an admin's cancel/resubmit/complete/reassign.

Each route is its single route's action run per id (``domain/bulk.py``); the answer is 200 with one result per
id (``status`` 200, or the 4xx/5xx the single route would have given) whenever the request itself is well
formed. A malformed request — no ids, more than 100, a repeated or malformed id — is 400 for the whole of it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import principal, route
from agent_jobs.api.responses import ok
from agent_jobs.catalog import FUNCTIONS, JOB_PREFIXES
from agent_jobs.domain import bulk, cancellation
from agent_jobs.models.bulk import BulkCompleteRequest, BulkReasonRequest, BulkReassignRequest, BulkResults
from agent_jobs.services import services

router = Router()
OWNER_TAGS = ["jobs"]
ADMIN_TAGS = ["admin: jobs"]
ADMIN_BULK = "/api/admin/jobs/bulk"
PER_ITEM = (
    "One result per id, in order: 200 with the job, or the error the single route would give (404: not yours, "
    "untouched; 409: wrong state). 503 NOT_ATTEMPTED: the request ran out of time before that id; send it again. "
    "A malformed request (no ids, over 100, a repeated or malformed id) is 400 as a whole and changes nothing."
)


def _owner_paths(action: str) -> tuple[str, ...]:
    return tuple(f"{prefix}/bulk/{action}" for prefix in JOB_PREFIXES)


def _answer(ids: list[str], action: bulk.Action) -> Response[dict[str, Any]]:
    context = router.lambda_context
    remaining_ms = (
        context.get_remaining_time_in_millis()
        if context is not None
        else FUNCTIONS["create_job"].timeout_seconds * 1000
    )
    results = bulk.run_each(ids, action, deadline=bulk.deadline_after(remaining_ms))
    return ok(results=[result.to_api() for result in results])


@route(
    router,
    "POST",
    _owner_paths("cancel"),
    ok=(200, BulkResults),
    summary="Cancel many of my jobs",
    tags=OWNER_TAGS,
    description=PER_ITEM,
)
def bulk_cancel(body: BulkReasonRequest) -> Response[dict[str, Any]]:
    caller, found = principal(router), services()
    return _answer(body.ids, lambda job_id: cancellation.cancel(found, caller, job_id, body.reason))


@route(
    router,
    "POST",
    _owner_paths("resubmit"),
    ok=(200, BulkResults),
    summary="Run many of my jobs again",
    tags=OWNER_TAGS,
    description=PER_ITEM,
)
def bulk_resubmit(body: BulkReasonRequest) -> Response[dict[str, Any]]:
    caller, jobs = principal(router), services().job_service
    return _answer(body.ids, lambda job_id: jobs.resubmit(caller, job_id, body.reason))


@route(
    router,
    "POST",
    f"{ADMIN_BULK}/cancel",
    ok=(200, BulkResults),
    summary="Cancel many jobs",
    tags=ADMIN_TAGS,
    description=PER_ITEM,
)
def admin_bulk_cancel(body: BulkReasonRequest) -> Response[dict[str, Any]]:
    caller, found = principal(router), services()
    return _answer(body.ids, lambda job_id: cancellation.cancel(found, caller, job_id, body.reason))


@route(
    router,
    "POST",
    f"{ADMIN_BULK}/resubmit",
    ok=(200, BulkResults),
    summary="Force many resubmissions",
    tags=ADMIN_TAGS,
    description=PER_ITEM,
)
def admin_bulk_resubmit(body: BulkReasonRequest) -> Response[dict[str, Any]]:
    caller, jobs = principal(router), services().job_service
    return _answer(body.ids, lambda job_id: jobs.force_resubmit(caller, job_id, body.reason))


@route(
    router,
    "POST",
    f"{ADMIN_BULK}/complete",
    ok=(200, BulkResults),
    summary="Force many jobs complete",
    tags=ADMIN_TAGS,
    description=PER_ITEM,
)
def admin_bulk_complete(body: BulkCompleteRequest) -> Response[dict[str, Any]]:
    caller, jobs = principal(router), services().job_service
    return _answer(body.ids, lambda job_id: jobs.force_complete(caller, job_id, body.reason, body.result))


@route(
    router,
    "POST",
    f"{ADMIN_BULK}/reassign",
    ok=(200, BulkResults),
    summary="Give many jobs to one agent",
    tags=ADMIN_TAGS,
    description=PER_ITEM,
)
def admin_bulk_reassign(body: BulkReassignRequest) -> Response[dict[str, Any]]:
    caller, jobs = principal(router), services().job_service
    return _answer(body.ids, lambda job_id: jobs.reassign(caller, job_id, body.agent_id, body.inputs))
