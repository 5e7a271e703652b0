"""Job templates (DESIGN.md §16): which members hold ``{{variable}}`` placeholders, filling them, the checks a
template passes when it is saved, who may see and change one, and a create request made from one.

Filling is one literal pass: a value is text put in place of its placeholder and never read again, so a value
that itself spells ``{{other}}`` stays exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from agent_jobs.domain.auth import Principal, hide_unless_visible
from agent_jobs.domain.jobs import new_id
from agent_jobs.errors import BadRequest, Forbidden, NotFound
from agent_jobs.models.base import TooDeep, check_depth, json_size, utc_now
from agent_jobs.models.jobs import MAX_VARIABLES, VARIABLE_NAME, CreateJobRequest
from agent_jobs.models.templates import MAX_TEMPLATE_BODY_BYTES, Template, TemplateBody, TemplateRequest
from agent_jobs.repositories.paging import Page
from agent_jobs.repositories.templates import TemplateRepository

PLACEHOLDER = re.compile(r"\{\{(" + VARIABLE_NAME + r")\}\}")
TEXT_MEMBERS = ("name", "description", "taskDescription", "acceptanceCriteria")  # filled as a whole text
DATA_MEMBER = "inputData"  # every text value inside it is filled (its keys are not)
SAME_MEMBER = {"description": "taskDescription", "taskDescription": "description"}  # one field, two names
SAMPLE = "sample"  # what each placeholder becomes when a template is checked at save time


# --- placeholders (pure) ---------------------------------------------------------------------------------------
def _texts(value: Any, where: str, fillable: bool) -> Iterator[tuple[str, str, bool]]:
    """Every text inside a JSON value, in order: where it is (``inputData.rows[2]``), the text, and whether a
    placeholder there is filled (a dict key never is)."""
    if isinstance(value, str):
        yield where, value, fillable
    elif isinstance(value, dict):
        for key, member in value.items():
            yield f"{where}.{key}", key, False
            yield from _texts(member, f"{where}.{key}", fillable)
    elif isinstance(value, list):
        for index, member in enumerate(value):
            yield from _texts(member, f"{where}[{index}]", fillable)


def _body_texts(body: Mapping[str, Any]) -> Iterator[tuple[str, str, bool]]:
    for member, value in body.items():
        yield from _texts(value, member, member in TEXT_MEMBERS or member == DATA_MEMBER)


def variables_in(body: Mapping[str, Any]) -> list[str]:
    """The names of a body's placeholders, in order of first use."""
    names = (m.group(1) for _, text, fillable in _body_texts(body) if fillable for m in PLACEHOLDER.finditer(text))
    return list(dict.fromkeys(names))


def _misplaced(body: Mapping[str, Any]) -> str | None:
    """Where a placeholder sits that would never be filled (``agentId``, a key inside ``inputData``), if any."""
    return next(
        (where for where, text, fillable in _body_texts(body) if not fillable and PLACEHOLDER.search(text)), None
    )


def _substitute(value: Any, replace: Callable[[re.Match[str]], str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(replace, value)
    if isinstance(value, dict):
        return {key: _substitute(member, replace) for key, member in value.items()}
    if isinstance(value, list):
        return [_substitute(member, replace) for member in value]
    return value


def fill(body: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """The body with every placeholder replaced by its value, in one literal pass; a missing value is 400
    naming it."""
    missing = [name for name in variables_in(body) if name not in values]
    if missing:
        raise BadRequest(f"variables: no value for {', '.join(missing)}", field=f"variables.{missing[0]}")

    def replace(match: re.Match[str]) -> str:
        return values[match.group(1)]  # a function's result is inserted as is: no escapes, no second pass

    filled = {member: _substitute(value, replace) for member, value in body.items() if member in TEXT_MEMBERS}
    if DATA_MEMBER in body:
        filled[DATA_MEMBER] = _substitute(body[DATA_MEMBER], replace)
    return {**body, **filled}


def checked_body(body: dict[str, Any]) -> list[str]:
    """A template body's variables, once it passed the save-time checks (else 400 naming the problem): bounded
    in size and depth, placeholders only where they are filled, at most ``MAX_VARIABLES``, and a valid create
    body when every placeholder is filled with sample text."""
    try:
        check_depth(body)
    except TooDeep as exc:
        raise BadRequest(f"body: {exc}", field="body") from None
    if json_size(body) > MAX_TEMPLATE_BODY_BYTES:
        raise BadRequest(f"body is larger than {MAX_TEMPLATE_BODY_BYTES // 1024} KB", field="body")
    where = _misplaced(body)
    if where is not None:
        raise BadRequest(
            f"body.{where}: placeholders are filled only in {', '.join(TEXT_MEMBERS)} and the text values of "
            f"{DATA_MEMBER}",
            field=f"body.{where}",
        )
    variables = variables_in(body)
    if len(variables) > MAX_VARIABLES:
        raise BadRequest(f"body has {len(variables)} variables; at most {MAX_VARIABLES}", field="body")
    try:
        CreateJobRequest.model_validate(fill(body, dict.fromkeys(variables, SAMPLE)))
    except ValidationError as exc:
        problem = exc.errors()[0]
        location = ".".join(str(part) for part in problem["loc"])
        field = f"body.{location}" if location else "body"
        raise BadRequest(f"{field} (placeholders filled with sample text): {problem['msg']}", field=field) from None
    return variables


def job_request(template: Template, request: CreateJobRequest) -> CreateJobRequest:
    """The create request a request with ``templateId`` stands for: the template's body with the request's own
    members over it (a member replaces the template's whole; description and taskDescription are one), its
    placeholders filled from ``variables``. Raises ValidationError when the result is not a valid create body,
    so it is answered exactly as the same body sent plainly would be."""
    values = request.variables or {}
    unknown = [name for name in values if name not in template.variables]
    if unknown:
        raise BadRequest(
            f"variables: the template has no variable {', '.join(unknown)}", field=f"variables.{unknown[0]}"
        )
    own = request.model_dump(by_alias=True, exclude_unset=True, exclude={"template_id", "variables"}, mode="json")
    replaced = set(own) | {SAME_MEMBER[member] for member in own if member in SAME_MEMBER}
    body = {member: value for member, value in template.body.items() if member not in replaced}
    return CreateJobRequest.model_validate({**fill(body, values), **own, "templateId": template.id})


# --- use cases -------------------------------------------------------------------------------------------------
class TemplateService:
    """Who may do what: a template is its creator's; a shared one (only admins share) everyone sees and uses;
    only its owner or an admin changes or deletes it; another user's unshared one is 404."""

    def __init__(self, templates: TemplateRepository) -> None:
        self.templates = templates

    def create(self, principal: Principal, request: TemplateRequest) -> Template:
        shared = bool(request.shared)
        if shared:
            self._require_admin_to_share(principal)
        body = _stored(request.body)
        now = utc_now()
        template = Template(
            id=new_id(),
            user_id=principal.user_id,
            name=request.name,
            description=request.description,
            body=body,
            shared=shared,
            variables=checked_body(body),
            created_at=now,
            updated_at=now,
        )
        return self.templates.create(template)

    def get(self, principal: Principal, template_id: str) -> Template:
        template = self.templates.get(template_id)
        if template is None:
            raise NotFound(f"template {template_id} not found")
        if not template.shared:
            hide_unless_visible(principal, template.user_id, "template", template_id)
        return template

    def page(self, principal: Principal, *, limit: int, token: str | None) -> Page[Template]:
        return self.templates.visible_page(principal.user_id, limit=limit, token=token)

    def replace(self, principal: Principal, template_id: str, request: TemplateRequest) -> Template:
        current = self._changeable(principal, template_id)
        shared = current.shared if request.shared is None else request.shared
        if shared and not current.shared:
            self._require_admin_to_share(principal)
        body = _stored(request.body)
        changes = {
            "name": request.name,
            "description": request.description,
            "body": body,
            "shared": shared,
            "variables": checked_body(body),
            "updated_at": utc_now(),
        }
        return self.templates.replace(current, changes)

    def delete(self, principal: Principal, template_id: str) -> Template:
        template = self._changeable(principal, template_id)
        self.templates.delete(template)
        return template

    def _changeable(self, principal: Principal, template_id: str) -> Template:
        template = self.get(principal, template_id)
        if not principal.may_see(template.user_id):  # a shared template someone else owns
            raise Forbidden("only the template's owner or an admin may change it")
        return template

    @staticmethod
    def _require_admin_to_share(principal: Principal) -> None:
        if not principal.is_admin:
            raise Forbidden("only an admin may share a template", field="shared")


def _stored(body: TemplateBody) -> dict[str, Any]:
    """The members the author gave, by their API names."""
    return body.model_dump(by_alias=True, exclude_unset=True, exclude={"template_id", "variables"}, mode="json")
