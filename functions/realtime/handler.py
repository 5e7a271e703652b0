"""The WebSocket API (DESIGN.md §15): the $connect route's authorizer (the Cognito JWT in ``?token=``), $connect,
$disconnect, and the frames ($default and ``subscribe``), answered on the same connection (route responses)."""

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from agent_jobs.domain import realtime
from agent_jobs.integrations import cognito_jwt
from agent_jobs.observability import invocation, logger
from agent_jobs.repositories.jobs import JobRepository
from agent_jobs.repositories.realtime import RealtimeRepository
from agent_jobs.services import services


def _service() -> realtime.RealtimeService:
    settings = services().settings  # binds the tables
    return realtime.RealtimeService(RealtimeRepository(settings.realtime_connection_seconds), JobRepository())


def authorize(event: dict[str, Any]) -> dict[str, Any]:
    """A REQUEST authorizer: Allow with the caller's claims as context, or "Unauthorized" (API Gateway: 401)."""
    token = (event.get("queryStringParameters") or {}).get("token") or ""
    try:
        claims = cognito_jwt.verify(token, services().settings)
    except cognito_jwt.InvalidToken as exc:
        logger.info("realtime connection refused", extra={"reason": str(exc)})
        raise Exception("Unauthorized") from None
    return {
        "principalId": str(claims["sub"]),
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}],
        },
        "context": cognito_jwt.authorizer_context(claims),
    }


def _answer(frame: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps(frame, separators=(",", ":"))}


@invocation(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("type") == "REQUEST":
        return authorize(event)
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), str(request.get("connectionId"))
    caller = realtime.principal_of(request.get("authorizer"))
    if route == "$disconnect":
        _service().disconnect(connection_id)
        return {"statusCode": 200}
    if caller is None:
        return {"statusCode": 401, "body": "Unauthorized"}
    if route == "$connect":
        expires = (request.get("authorizer") or {}).get("exp")
        _service().connect(connection_id, caller, float(expires) if expires else None)
        return {"statusCode": 200}
    return _answer(_service().receive(connection_id, caller, event.get("body")))
