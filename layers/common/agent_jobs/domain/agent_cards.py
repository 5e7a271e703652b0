"""A2A agent cards → registry fields (DESIGN.md §18). Pure: the fetch is ``integrations/card_fetch.py``.

What a card gives: ``name``, ``description``, ``skills`` (each ``{id, name, description, tags, …}``: we keep
each skill's name, or its id), and the endpoint — ``url`` (A2A ≤ 0.3) or the first of ``supportedInterfaces``
(1.0). A2A has no JSON Schemas of its own: ``inputSchema``/``outputSchema`` are taken from the card's top level
or from the first skill that declares them, when present. What a card cannot say (``jobTypes``, the timeout,
``maxConcurrency``) comes from the import request; the signing secret always does.
"""

from __future__ import annotations

from typing import Any

from agent_jobs.errors import BadRequest
from agent_jobs.integrations.card_fetch import fetch_card as _fetch
from agent_jobs.settings import Settings

MAX_SKILLS = 100


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _endpoint(card: dict[str, Any]) -> str | None:
    url = _text(card.get("url"))
    if url:
        return url
    interfaces = card.get("supportedInterfaces") or card.get("additionalInterfaces") or []
    for interface in interfaces if isinstance(interfaces, list) else []:
        if isinstance(interface, dict) and _text(interface.get("url")):
            return _text(interface.get("url"))
    return None


def _skills(card: dict[str, Any]) -> list[dict[str, Any]]:
    skills = card.get("skills")
    return [skill for skill in skills if isinstance(skill, dict)][:MAX_SKILLS] if isinstance(skills, list) else []


def _schema(card: dict[str, Any], key: str) -> dict[str, Any] | None:
    for holder in (card, *_skills(card)):
        value = holder.get(key)
        if isinstance(value, dict):
            return value
    return None


def agent_values(card: dict[str, Any]) -> dict[str, Any]:
    """The registry fields a card gives (snake_case); 400 naming ``card`` when it lacks a name or endpoint."""
    name, url = _text(card.get("name")), _endpoint(card)
    if not name:
        raise BadRequest("card: an agent card needs a name", field="card")
    if not url:
        raise BadRequest("card: an agent card needs a url (or supportedInterfaces[].url)", field="card")
    skill_names = [(_text(s.get("name")) or _text(s.get("id")) or "")[:100] for s in _skills(card)]
    values: dict[str, Any] = {
        "name": name[:200],
        "description": (_text(card.get("description")) or "")[:4000],
        "skills": [skill for skill in dict.fromkeys(skill_names) if skill],
        "endpoint_url": url,
    }
    for key, field in (("inputSchema", "input_schema"), ("outputSchema", "output_schema")):
        schema = _schema(card, key)
        if schema is not None:
            values[field] = schema
    return values


def fetch_card(url: str, settings: Settings) -> dict[str, Any]:
    return _fetch(url, allow_loopback=settings.allow_loopback_http_agents)
