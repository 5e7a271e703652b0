"""Jobs, agents and admin-job API (API Gateway HTTP API → Powertools resolver), and the API's document."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from agent_jobs.api import admin_jobs, agents, batch, bulk, docs, jobs, registry, templates
from agent_jobs.api.app import build_resolver
from agent_jobs.observability import invocation, tracer

app = build_resolver(
    jobs.router,
    bulk.router,
    batch.router,
    templates.router,
    agents.router,
    registry.router,
    admin_jobs.router,
    docs.router,
)


@invocation(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
