"""Seed 004's worker routes: status, start, stop, and the concurrency setting (admins only)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import Field

from agent_jobs.api.app import principal, route
from agent_jobs.api.responses import ok
from agent_jobs.domain import audit, worker
from agent_jobs.models.base import JsonInt, RequestModel
from agent_jobs.models.envelopes import WorkerEnvelope
from agent_jobs.services import services

router = Router()
PATH = "/api/admin/agent-worker"
DOC: dict[str, Any] = {"ok": (200, WorkerEnvelope), "errors": (503,), "tags": ["admin: operations"]}


class WorkerSettingsRequest(RequestModel):
    max_concurrent_jobs: JsonInt = Field(
        ge=worker.MIN_CONCURRENCY,
        le=worker.MAX_CONCURRENCY,
        description="maximum concurrent execute invocations per execute queue (Lambda allows 2..1000)",
    )


@route(router, "GET", PATH, **DOC, summary="Worker status and job counts (admin)")
def worker_status() -> Response[dict[str, Any]]:
    principal(router).require_admin()
    return ok(**worker.status(services()))


@route(
    router, "POST", PATH, **DOC, summary="Start the worker: enable the execute queues' event source mappings (admin)"
)
def start_worker() -> Response[dict[str, Any]]:
    caller = principal(router)
    caller.require_admin()
    answer = worker.set_enabled(services(), True)
    audit.record(caller, "worker.started", "worker", {"enabled": {"to": True}})
    return ok(message="worker started", **answer)


@route(router, "DELETE", PATH, **DOC, summary="Stop the worker: queued jobs wait, nothing is lost (admin)")
def stop_worker() -> Response[dict[str, Any]]:
    caller = principal(router)
    caller.require_admin()
    answer = worker.stop(services())
    audit.record(caller, "worker.stopped", "worker", {"enabled": {"to": False}})
    return ok(**answer)


@route(router, "PUT", PATH, **DOC, summary="Set the worker's maximum concurrency (admin)")
def configure_worker(body: WorkerSettingsRequest) -> Response[dict[str, Any]]:
    caller = principal(router)
    caller.require_admin()
    answer = worker.set_max_concurrency(services(), body.max_concurrent_jobs)
    audit.record(caller, "worker.configured", "worker", {"maxConcurrentJobs": {"to": body.max_concurrent_jobs}})
    return ok(message="worker updated", **answer)
