"""Job templates (DESIGN.md §16): a saved create body with ``{{variable}}`` placeholders, what the API takes and
what it shows."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from agent_jobs.models.base import ApiModel, RequestModel
from agent_jobs.models.envelopes import OPEN, Envelope
from agent_jobs.models.jobs import NOT_BLANK, CreateJobRequest, any_text_given

MAX_TEMPLATE_DESCRIPTION = 2000
MAX_TEMPLATE_BODY_BYTES = 160 * 1024  # compact JSON: a create body's own limits (two inputs of 64 KB, texts) fit


class TemplateBody(CreateJobRequest):
    """A create body whose text members may hold ``{{variable}}`` placeholders. It is checked as a create body
    (and again once the placeholders are filled, ``domain/templates.py``); it cannot name a template itself."""

    model_config = ConfigDict(json_schema_extra=any_text_given("description", "taskDescription"))

    template_id: SkipJsonSchema[None] = None
    variables: SkipJsonSchema[None] = None


class TemplateRequest(RequestModel):
    """``POST /api/templates`` and ``PUT /api/templates/{id}`` (a PUT replaces all but ``shared`` when it is
    left out)."""

    name: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    description: str = Field(default="", max_length=MAX_TEMPLATE_DESCRIPTION)
    body: TemplateBody = Field(
        description="a POST /api/jobs body; {{variable}} placeholders (exactly that: a name of letters, digits "
        "and _, not starting with a digit; other braces are text) in name, description, taskDescription, "
        "acceptanceCriteria and the text values inside inputData, nowhere else"
    )
    shared: bool | None = Field(default=None, description="true: every user sees and uses it (admins only)")


class Template(ApiModel):
    """A stored template. ``body`` holds only the members its author gave (camelCase, as the API takes them), so
    a default the platform changes later still applies to jobs made from it."""

    id: str
    user_id: str
    name: str
    description: str = ""
    body: dict[str, Any]
    shared: bool = False
    variables: list[str] = Field(default_factory=list, description="the placeholders' names, in order of use")
    created_at: str
    updated_at: str
    version: int = Field(default=0, exclude=True)


class TemplateView(Template):
    model_config = OPEN


class TemplateEnvelope(Envelope):
    template: TemplateView


class TemplatePage(Envelope):
    templates: list[TemplateView] = Field(description="your own templates, newest first, then the shared ones")
    next_token: str | None = Field(default=None, description="pass as ?nextToken= for the next page")
