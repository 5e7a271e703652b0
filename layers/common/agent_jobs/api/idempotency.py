"""``Idempotency-Key`` (the IETF httpapi draft's header) on the routes the route table marks ``idempotent``
(DESIGN.md §15), with Powertools' idempotency utility and its DynamoDB persistence layer.

A request is known by its caller, method, path and key (hashed by Powertools; the table never holds them in
the clear) and checked against the hash of its body: within ``idempotency_ttl_seconds`` the same request
gets its first answer again (same status and body, ``Idempotent-Replayed: true``), another body under the
same key is 422 ``IDEMPOTENCY_KEY_REUSED``, and the same key while its first request still runs is 409
``IDEMPOTENCY_KEY_IN_PROGRESS``. Only a success (2xx) is remembered: a refused or failed request changed
nothing, so its retry is a fresh try. A request without the header is untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.json_encoder import Encoder
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from agent_jobs.catalog import ROUTES
from agent_jobs.domain.auth import Principal
from agent_jobs.errors import BadRequest, Conflict, DomainError, ServiceUnavailable
from agent_jobs.integrations import aws
from agent_jobs.observability import logger
from agent_jobs.settings import Settings, get_settings

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
IDEMPOTENT_ROUTE_KEYS = frozenset(f"{route.method} {route.path}" for route in ROUTES if route.idempotent)
Next = Callable[[APIGatewayHttpResolver], Response]


class KeyReused(DomainError):
    status_code = 422
    code = "IDEMPOTENCY_KEY_REUSED"


class KeyInProgress(Conflict):
    code = "IDEMPOTENCY_KEY_IN_PROGRESS"


class _NotRemembered(Exception):
    """Carries an answer that must not be stored (not a success) past Powertools, which then drops the record."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@lru_cache(maxsize=4)
def _store(settings: Settings) -> DynamoDBPersistenceLayer:
    """One persistence layer per settings (Powertools configures a layer once, with its first config)."""
    return DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=aws.client("dynamodb"))


def key_of(app: APIGatewayHttpResolver) -> str | None:
    """The request's Idempotency-Key, when its route honours one (400 when it is empty or too long)."""
    event = app.current_event
    if event.raw_event.get("routeKey", "") not in IDEMPOTENT_ROUTE_KEYS:
        return None
    key = event.headers.get(HEADER)  # case-insensitive
    if key is None:
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise BadRequest(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters", field=HEADER)
    return key


def request_identity(app: APIGatewayHttpResolver, key: str) -> dict[str, Any]:
    """What Powertools hashes: ``key`` names the request (per caller, method and path), ``body`` is compared."""
    event = app.current_event
    caller: Principal = app.context["principal"]
    text = event.decoded_body or ""
    try:
        body: Any = json.loads(text) if text else None  # compared as JSON: key order and spacing do not count
    except ValueError:
        body = text
    return {"key": [caller.user_id, event.http_method, event.path, key], "body": body}


def _answer(response: Response) -> dict[str, Any]:
    """A response as the record stores it: the body as the JSON text the resolver would send."""
    body = response.body
    if body is not None and not isinstance(body, str):
        body = json.dumps(body, separators=(",", ":"), cls=Encoder)
    headers = {name: value for name, value in response.headers.items() if isinstance(value, str)}
    return {"statusCode": response.status_code, "contentType": response.content_type, "body": body, "headers": headers}


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools' response hook: a stored answer is marked as replayed."""
    return {**response, "headers": {**response["headers"], REPLAYED_HEADER: "true"}}


def idempotently(app: APIGatewayHttpResolver, next_middleware: Next) -> Response:
    """Runs the rest of the request once per Idempotency-Key (or plainly, without one)."""
    key = key_of(app)
    if key is None:
        return next_middleware(app)
    settings = get_settings()
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        expires_after_seconds=settings.idempotency_ttl_seconds,
        hash_function="sha256",
        lambda_context=app.lambda_context,  # a request cut off by the function's timeout frees its key then
        response_hook=_replayed,
    )
    ran: list[Response] = []

    def first_answer(request: dict[str, Any]) -> dict[str, Any]:
        response = next_middleware(app)
        ran.append(response)
        if not 200 <= response.status_code < 300:
            raise _NotRemembered(response)
        return _answer(response)

    once = idempotent_function(data_keyword_argument="request", persistence_store=_store(settings), config=config)
    try:
        answer: dict[str, Any] = once(first_answer)(request=request_identity(app, key))
    except _NotRemembered as exc:
        return exc.response
    except IdempotencyValidationError:
        raise KeyReused(f"this {HEADER} was used with another request body", field=HEADER) from None
    except IdempotencyAlreadyInProgressError:
        raise KeyInProgress(f"a request with this {HEADER} is still in progress; retry later", field=HEADER) from None
    except IdempotencyPersistenceLayerError:
        if ran:  # done, but its answer could not be stored: give it (a retry after the lease runs it again)
            logger.exception("the idempotency record of a finished request could not be saved")
            return ran[0]
        logger.exception("the idempotency store cannot be reached")
        raise ServiceUnavailable(f"requests with an {HEADER} cannot be checked now; retry later") from None
    if ran:
        return ran[0]
    return Response(answer["statusCode"], answer["contentType"], answer["body"], answer["headers"])
