"""Dead-letter queues for admins (DESIGN.md §18): what is there and why, and an audited replay."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from agent_jobs.api.app import principal, route
from agent_jobs.api.responses import ok
from agent_jobs.domain import dead_letter_queues
from agent_jobs.models.registry import QUEUE_KEYS, DeadLettersEnvelope, ReplayEnvelope, ReplayRequest
from agent_jobs.services import services

router = Router()
TAGS = ["admin: operations"]
QueueKey = Annotated[
    str, Query(pattern="^(" + "|".join(QUEUE_KEYS) + ")$", description=f"one of {', '.join(QUEUE_KEYS)}")
]


@route(
    router,
    "GET",
    "/api/admin/dead-letters",
    ok=(200, DeadLettersEnvelope),
    errors=(503,),
    summary="Messages on a queue's dead-letter queue, with their job and why (read without consuming)",
    tags=TAGS,
)
def list_dead_letters(queue: QueueKey) -> Response[dict[str, Any]]:
    letters = dead_letter_queues.peek(services(), principal(router), queue)
    return ok(queue=queue, deadLetters=[letter.to_api() for letter in letters], peek=dead_letter_queues.PEEK_METHOD)


@route(
    router,
    "POST",
    "/api/admin/dead-letters/replay",
    ok=(200, ReplayEnvelope),
    errors=(503,),
    summary="Send dead letters back to their queue (all, or by message id); audited",
    tags=TAGS,
)
def replay_dead_letters(body: ReplayRequest) -> Response[dict[str, Any]]:
    replayed, not_found = dead_letter_queues.replay(services(), principal(router), body)
    return ok(replayed=[letter.to_api() for letter in replayed], notFound=not_found)
