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

from agent_jobs.api.responses import error
from agent_jobs.catalog import ROUTES, Access
from agent_jobs.domain.auth import Principal, principal_from_claims
from agent_jobs.errors import DomainError, Forbidden, NotFound, PayloadTooLarge
from agent_jobs.observability import logger
from agent_jobs.settings import get_settings

ACCESS_BY_ROUTE_KEY = {f"{route.method} {route.path}": route.access for route in ROUTES}
TITLE = "Agent Jobs API"


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
        if access is Access.ADMIN and not caller.is_admin:
            raise Forbidden("this route needs the admins group")
        app.append_context(principal=caller)
    return next_middleware(app)


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


def _validation_error(exc: RequestValidationError) -> Response:
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


def build_resolver(*routers: Router, docs: bool = False) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    app._request_validation_middleware = AuthorizeThenValidate()
    for router in routers:
        app.include_router(router)
    app.exception_handler(DomainError)(_domain_error)
    app.exception_handler(RequestValidationError)(_validation_error)

    @app.not_found
    def _not_found(_exc: Exception) -> Response:
        return error(404, "NOT_FOUND", "no such route")

    if docs:
        app.enable_swagger(path="/api/docs", title=TITLE, version="1.0.0")

        @app.get("/api/openapi.json", include_in_schema=False)
        def _openapi() -> Response[str]:
            return Response(200, "application/json", app.get_openapi_json_schema(title=TITLE, version="1.0.0"))

    return app


def route(router: Router, method: str, paths: tuple[str, ...] | str, **kwargs: Any) -> Callable[..., Any]:
    """Registers one function for several API-Gateway-style paths (``{id}``); aliases stay out of the docs."""
    all_paths = (paths,) if isinstance(paths, str) else paths

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        for index, path in enumerate(all_paths):
            rule = path.replace("{", "<").replace("}", ">")
            router.route(rule, method, include_in_schema=index == 0, **kwargs)(func)
        return func

    return register
