"""Checks every request body must pass before any model sees it: JSON, UTF-8, and no deeper than
:data:`~agent_jobs.models.base.MAX_JSON_DEPTH` (deeper bodies made the parser, PynamoDB or a later read fail
with 500). One place for every route of every function."""

from __future__ import annotations

import binascii
import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from agent_jobs.errors import BadRequest, DomainError
from agent_jobs.models.base import MAX_JSON_DEPTH, TooDeep, json_depth, loads_bounded


def check_body(event: BaseProxyEvent) -> None:
    """Raises :class:`BadRequest` (400, naming the field) for a body that is not UTF-8 or nests too deep.
    Malformed JSON is left to request validation, which names it the same way for every route."""
    try:
        text = event.decoded_body
    except (UnicodeDecodeError, binascii.Error):
        raise BadRequest("the request body is not valid UTF-8", field="body") from None
    if not text:
        return
    if not _is_json(event):
        raise UnsupportedMediaType("the request body must be application/json", field="body")
    try:
        value = loads_bounded(text)
    except TooDeep as exc:
        raise BadRequest(f"{_too_deep_field(text)}: {exc}", field=_too_deep_field(text)) from None
    except json.JSONDecodeError:
        return
    problem = _not_portable(value)
    if problem:
        raise BadRequest(f"the request body holds {problem}", field="body")


class UnsupportedMediaType(DomainError):
    """A body in another format (Powertools would parse forms and multipart, and fail on a broken one)."""

    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


def _is_json(event: BaseProxyEvent) -> bool:
    content_type = (event.headers.get("content-type") or "").strip().lower()
    return not content_type or content_type.startswith("application/json")


def _not_portable(value: Any) -> str | None:
    """What Python's parser takes and JSON (RFC 8259) or a UTF-8 store does not: half a UTF-16 pair
    (``"\\ud800"``: moto answered 500 to every later read of the table, DynamoDB refuses the write) and
    ``NaN``/``Infinity`` (stored, they would make every later answer invalid JSON)."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode()
    except UnicodeEncodeError:
        return "a lone surrogate escape (\\ud800): not Unicode text"
    except ValueError:
        return "NaN or Infinity: not JSON numbers"
    return None


def _too_deep_field(text: str) -> str:
    """The top-level member that nests too deep (``inputData``), or ``body`` when the body itself does."""
    try:
        value: Any = json.loads(text)
    except (RecursionError, json.JSONDecodeError):
        return "body"
    if isinstance(value, dict):
        for name, member in value.items():
            if json_depth(member) >= MAX_JSON_DEPTH:
                return str(name)
    return "body"
