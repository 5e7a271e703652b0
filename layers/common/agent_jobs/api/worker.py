"""Seed 004's worker routes: status, start, stop, and the concurrency setting (admins only)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import Field

from agent_jobs.api.app import principal, route
from agent_jobs.api.responses import ok
from agent_jobs.domain import worker
from agent_jobs.models.base import ApiModel
from agent_jobs.services import services

router = Router()
PATH = "/api/admin/agent-worker"


class WorkerSettingsRequest(ApiModel):
    max_concurrent_jobs: int = Field(
        ge=worker.MIN_CONCURRENCY,
        le=worker.MAX_CONCURRENCY,
        description="maximum concurrent execute invocations per execute queue (Lambda allows 2..1000)",
    )


@route(router, "GET", PATH, summary="Worker status and job counts (admin)")
def worker_status() -> Response[dict[str, Any]]:
    principal(router).require_admin()
    return ok(**worker.status(services()))


@route(router, "POST", PATH, summary="Start the worker: enable the execute queues' event source mappings (admin)")
def start_worker() -> Response[dict[str, Any]]:
    principal(router).require_admin()
    return ok(message="worker started", **worker.set_enabled(services(), True))


@route(router, "DELETE", PATH, summary="Stop the worker: queued jobs wait, nothing is lost (admin)")
def stop_worker() -> Response[dict[str, Any]]:
    principal(router).require_admin()
    return ok(message="worker stopped; queued jobs wait until it starts again", **worker.set_enabled(services(), False))


@route(router, "PUT", PATH, summary="Set the worker's maximum concurrency (admin)")
def configure_worker(body: WorkerSettingsRequest) -> Response[dict[str, Any]]:
    principal(router).require_admin()
    return ok(message="worker updated", **worker.set_max_concurrency(services(), body.max_concurrent_jobs))
