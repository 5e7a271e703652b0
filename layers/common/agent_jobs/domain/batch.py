"""Request body → job: the one way ``POST /api/jobs`` and each body of ``POST /api/jobs/batch`` make a job
(the template filled in, the webhook URL checked before anything is written, the job, its one-off webhook)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from agent_jobs.domain import templates
from agent_jobs.domain.auth import Principal
from agent_jobs.domain.jobs import JobService
from agent_jobs.domain.templates import TemplateService
from agent_jobs.domain.webhooks import WebhookService
from agent_jobs.errors import DomainError
from agent_jobs.models.jobs import CreateJobRequest, Job
from agent_jobs.models.templates import Template
from agent_jobs.observability import logger


@dataclass(frozen=True)
class Created:
    job: Job
    webhook_secret: str | None = None  # the user's default webhook secret, when this create made it

    def to_api(self) -> dict[str, Any]:
        return {"job": self.job.to_api(), **({"webhookSecret": self.webhook_secret} if self.webhook_secret else {})}


class JobCreator:
    """Makes jobs from create requests for one caller's request; a template is read once per request."""

    def __init__(self, jobs: JobService, template_service: TemplateService, webhooks: WebhookService) -> None:
        self.jobs = jobs
        self.template_service = template_service
        self.webhooks = webhooks
        self._templates: dict[str, Template] = {}

    def create(self, principal: Principal, request: CreateJobRequest) -> Created:
        """Raises DomainError, or ValidationError when a template's body with this request's members is not a
        valid create body."""
        if request.template_id:
            request = templates.job_request(self._template(principal, request.template_id), request)
        if request.webhook_url is not None:  # checked first: an unsafe URL leaves no job behind
            self.webhooks.check_url(request.webhook_url, "webhookUrl")
        job = self.jobs.create(principal, request)
        url = request.webhook_url
        return Created(job, self.webhooks.attach_to_job(principal, job.id, url) if url else None)

    def create_each(self, principal: Principal, bodies: list[dict[str, Any]]) -> list[Created | Exception]:
        """Each body checked as ``POST /api/jobs`` checks it and created on its own, in order: a body's outcome
        is its job or the error that refused it, and one failure never stops the rest."""
        outcomes: list[Created | Exception] = []
        for index, body in enumerate(bodies):
            try:
                outcomes.append(self.create(principal, CreateJobRequest.model_validate(body)))
            except (ValidationError, DomainError) as exc:
                outcomes.append(exc)
            except Exception as exc:  # a dependency failed for this body: the others still go
                logger.exception("a batch body could not be created", extra={"index": index})
                outcomes.append(exc)
        return outcomes

    def _template(self, principal: Principal, template_id: str) -> Template:
        if template_id not in self._templates:
            self._templates[template_id] = self.template_service.get(principal, template_id)
        return self._templates[template_id]
