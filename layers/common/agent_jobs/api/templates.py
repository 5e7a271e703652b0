"""The templates API (DESIGN.md §16): saved create bodies with ``{{variable}}`` placeholders; ``POST /api/jobs``
with ``templateId`` and ``variables`` makes a job from one."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import Limit, NextToken, ResourceId
from agent_jobs.api.responses import ok
from agent_jobs.domain.templates import TemplateService
from agent_jobs.models.templates import TemplateEnvelope, TemplatePage, TemplateRequest
from agent_jobs.repositories.templates import TemplateRepository
from agent_jobs.services import services

router = Router()
TAGS = ["templates"]


def template_service() -> TemplateService:
    services()  # binds the tables
    return TemplateService(TemplateRepository())


@route(
    router,
    "POST",
    "/api/templates",
    ok=(201, TemplateEnvelope),
    errors=(403,),
    summary="Save a template (shared: admins only); its body must be a valid create body once filled in",
    tags=TAGS,
)
def create_template(body: TemplateRequest) -> Response[dict[str, Any]]:
    return ok(201, template=template_service().create(principal(router), body).to_api())


@route(
    router,
    "GET",
    "/api/templates",
    ok=(200, TemplatePage),
    summary="The templates I may use: my own, newest first, then the shared ones",
    tags=TAGS,
)
def list_templates(limit: Limit = 20, next_token: NextToken = None) -> Response[dict[str, Any]]:
    page = template_service().page(principal(router), limit=limit, token=next_token)
    return ok(templates=[template.to_api() for template in page.items], nextToken=page.next_token)


@route(router, "GET", "/api/templates/{id}", ok=(200, TemplateEnvelope), summary="One template", tags=TAGS)
def get_template(id: ResourceId) -> Response[dict[str, Any]]:
    return ok(template=template_service().get(principal(router), id).to_api())


@route(
    router,
    "PUT",
    "/api/templates/{id}",
    ok=(200, TemplateEnvelope),
    errors=(403, 409),
    summary="Replace a template (its owner or an admin; shared is kept when left out)",
    tags=TAGS,
)
def replace_template(id: ResourceId, body: TemplateRequest) -> Response[dict[str, Any]]:
    return ok(template=template_service().replace(principal(router), id, body).to_api())


@route(
    router,
    "DELETE",
    "/api/templates/{id}",
    ok=(200, TemplateEnvelope),
    errors=(403, 409),
    summary="Delete a template (its owner or an admin); jobs made from it keep their templateId",
    tags=TAGS,
)
def delete_template(id: ResourceId) -> Response[dict[str, Any]]:
    return ok(template=template_service().delete(principal(router), id).to_api())
