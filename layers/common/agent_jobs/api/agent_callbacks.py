"""``POST /api/agent-callbacks/{jobId}/{attempt}``: an async agent's progress, output or failure (DESIGN.md §14).

Public in the route table (no JWT): the body is signed with the job's agent's own secret (Standard Webhooks
headers), checked by ``domain.callbacks`` before anything is read from the body.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from agent_jobs.api.app import route
from agent_jobs.api.params import ResourceId
from agent_jobs.api.responses import ok
from agent_jobs.domain import callbacks
from agent_jobs.domain.async_attempts import CALLBACK_ROUTE
from agent_jobs.models.callbacks import CallbackEnvelope
from agent_jobs.services import services

router = Router()
Attempt = Annotated[int, Path(ge=1, le=1000, description="the attempt the agent was called for")]
DESCRIPTION = (
    "Signed by the agent with its own secret (webhook-id, webhook-timestamp, webhook-signature). Body: "
    '`{"status": "working", "progress": 0.5, "message": "…"}`, `{"status": "completed", "output": {…}}` or '
    '`{"status": "failed", "error": "…"}`. 401: bad signature; 404: no such job; 409: not the running attempt; '
    "a repeated completion answers 200 with applied false."
)


@route(
    router,
    "POST",
    CALLBACK_ROUTE,
    ok=(200, CallbackEnvelope),
    errors=(401, 409),
    summary="An async agent reports progress, its output or its failure",
    description=DESCRIPTION,
    tags=["agent callbacks"],
)
def agent_callback(jobId: ResourceId, attempt: Attempt) -> Response[dict[str, Any]]:
    event = router.current_event
    body = (event.decoded_body or "").encode("utf-8")
    result = callbacks.receive(services(), jobId, attempt, event.headers, body, datetime.now(UTC))
    return ok(**result.to_api())
