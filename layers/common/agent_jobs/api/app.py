"""Builds a function's HTTP resolver: validation on, OpenAPI/Swagger, auth from the route table, one
place mapping errors to HTTP answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from agent_jobs.api.bodies import check_body
from agent_jobs.api.idempotency import IDEMPOTENT_ROUTE_KEYS, idempotently
from agent_jobs.api.params import refuse_position_paging
from agent_jobs.api.responses import error
from agent_jobs.catalog import ROUTES, Access
from agent_jobs.domain.auth import Principal, principal_from_claims
from agent_jobs.errors import DomainError, Forbidden, NotFound, PayloadTooLarge
from agent_jobs.models.envelopes import ErrorEnvelope
from agent_jobs.observability import logger
from agent_jobs.settings import get_settings

ACCESS_BY_ROUTE_KEY = {f"{route.method} {route.path}": route.access for route in ROUTES}
SCOPE_BY_ROUTE_KEY = {f"{route.method} {route.path}": route.scope for route in ROUTES}
BEARER = "bearerAuth"  # the OpenAPI security scheme every non-public route names (see api/docs.py)
JSON = "application/json"
METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ERRORS = {
    400: "Bad input: a body that is not UTF-8 JSON, too deep, or fails its model; a malformed id (the field is named)",
    401: "No bearer token, or one that is not valid",
    403: "The route needs the admins group",
    404: "No such resource, or not yours",
    409: "Wrong state for the action, or a concurrent change won",
    413: "Request body larger than 256 KB",
    415: "A request body that is not application/json",
    422: "IDEMPOTENCY_KEY_REUSED: this Idempotency-Key came with another request body",
    503: "A dependency (the judge) cannot answer now; try again",
}


def principal(router: Router | APIGatewayHttpResolver) -> Principal:
    """The caller the auth middleware admitted for this request."""
    found: Principal = router.context["principal"]
    return found


def authorize(app: APIGatewayHttpResolver, next_middleware: Callable[..., Response]) -> Response:
    """Admits a request by its route's access in the route table (deny when the route is unknown)."""
    event = app.current_event
    body = event.body or ""
    if len(body.encode()) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"request body is larger than {get_settings().max_body_bytes // 1024} KB")
    access = ACCESS_BY_ROUTE_KEY.get(event.raw_event.get("routeKey", ""))
    if access is None:
        raise NotFound("no such route")
    if access is not Access.PUBLIC:
        claims = (event.request_context.authorizer.jwt_claim or {}) if event.request_context.authorizer else {}
        caller = principal_from_claims(claims)
        caller.require_scope(SCOPE_BY_ROUTE_KEY.get(event.raw_event.get("routeKey", "")))
        if access is Access.ADMIN and not caller.is_admin:
            raise Forbidden("this route needs the admins group")
        app.append_context(principal=caller)
    refuse_position_paging(event.query_string_parameters)  # ?offset= is never ignored (DESIGN.md §16)
    check_body(event)
    return idempotently(app, next_middleware)


class AuthorizeThenValidate(OpenAPIRequestValidationMiddleware):
    """Powertools runs request validation before any middleware given to ``use``; the size limit and
    the caller's access are checked first, so 413/401/403 come before any 400 about the body."""

    def handler(self, app: Any, next_middleware: NextMiddleware) -> Response:
        def validate(resolver: Any) -> Response:
            return super(AuthorizeThenValidate, self).handler(resolver, next_middleware)

        return authorize(app, validate)


def _domain_error(exc: DomainError) -> Response:
    if exc.status_code >= 500:
        logger.exception("server error")
    return error(exc.status_code, exc.code, exc.message, exc.field)


def validation_error(exc: RequestValidationError) -> Response:
    problems = []
    field = None
    for item in exc.errors():
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
        if item.get("type") == "json_invalid":  # its loc ends in the character offset, not a field
            location = []
        name = ".".join(location) or "body"
        field = field or name
        message = str(item.get("msg", item.get("type", "invalid")))
        problems.append(f"{name}: {message}")
    return error(400, "VALIDATION_ERROR", "; ".join(problems) or "invalid request", field)


def build_resolver(*routers: Router) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    app._request_validation_middleware = AuthorizeThenValidate()
    for router in routers:
        app.include_router(router)
    app.exception_handler(DomainError)(_domain_error)
    app.exception_handler(RequestValidationError)(validation_error)

    @app.not_found
    def _not_found(_exc: Exception) -> Response:
        return error(404, "NOT_FOUND", "no such route")

    return app


def responses(
    method: str, path: str, status: int, model: type[BaseModel] | None, errors: tuple[int, ...] = ()
) -> dict[int, OpenAPIResponse]:
    """The documented answers of one route: its success model, and the error envelope for every status the
    route can give (400 and 413 for any request; 401/403 from the route table's access; 404 for an id)."""
    access = ACCESS_BY_ROUTE_KEY[f"{method} {path}"]
    codes = {400, 413, *errors}
    if f"{method} {path}" in IDEMPOTENT_ROUTE_KEYS:
        codes |= {409, 422}  # 409 also while a request with the same Idempotency-Key is in progress
    if access is not Access.PUBLIC:
        codes.add(401)
    if access is Access.ADMIN:
        codes.add(403)
    if "{" in path:
        codes.add(404)
    if method in METHODS_WITH_BODY:
        codes.add(415)
    documented: dict[int, OpenAPIResponse] = {
        code: {"description": ERRORS[code], "content": {JSON: {"model": ErrorEnvelope}}} for code in sorted(codes)
    }
    if model is not None:
        documented[status] = {"description": "Success", "content": {JSON: {"model": model}}}
    return documented


def route(
    router: Router,
    method: str,
    paths: tuple[str, ...] | str,
    *,
    ok: tuple[int, type[BaseModel]],
    errors: tuple[int, ...] = (),
    **kwargs: Any,
) -> Callable[..., Any]:
    """Registers one function for several API-Gateway-style paths (``{id}``), each documented with its
    answers (``ok`` is the success status and model), its access from the route table and its tags."""
    all_paths = (paths,) if isinstance(paths, str) else paths
    status, model = ok

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        for path in all_paths:
            rule = path.replace("{", "<").replace("}", ">")
            public = ACCESS_BY_ROUTE_KEY[f"{method} {path}"] is Access.PUBLIC
            router.route(
                rule,
                method,
                responses=responses(method, path, status, model, errors),
                security=None if public else [{BEARER: []}],
                **kwargs,
            )(func)
        return func

    return register
