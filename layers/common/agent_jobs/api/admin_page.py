"""The console (DESIGN.md §17; seed 004's admin page grown into one for every user): static files served by the
checkpoints function.

``GET /app`` and ``GET /app/jobs/<id>`` (a job's deep link) answer ``index.html``, as do the console's other view
paths (``PAGE_ALIASES``); ``GET /app/<file>`` answers only the page's own files (its stylesheet and its ES modules,
listed in ``STATIC_FILES``) and ``config.json`` (built from the environment, so the page needs no build step).
``/admin`` and ``/admin/<file>`` stay the admins' way in and answer the same files; the page rewrites them to
``/app`` addresses. The page refers to its files by absolute ``/app/…`` paths, so a deep link two segments down
loads them too. The routes are public; every data call the page makes carries the person's Cognito IdToken.

Environment:
    ADMIN_CLIENT_ID         the user pool app client (public, ALLOW_USER_PASSWORD_AUTH)
    ADMIN_COGNITO_ENDPOINT  Cognito IdP endpoint; default ``https://cognito-idp.{AWS_REGION}.amazonaws.com/``
    ADMIN_API_BASE          where the API lives; default "" (same origin)
    ADMIN_REALTIME_URL      the WebSocket API (ws:// or wss://); default "": the page derives
                            ``ws(s)://<API host>/api/realtime`` (the local gateway upgrades on its own port)
    ADMIN_COGNITO_DOMAIN    the hosted UI domain (cloud): ``tokenUrl`` for machine clients (the CLI)
    ADMIN_PAGE_DIR          folder holding the page's files; default: see ``page_dir()``
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import responses
from agent_jobs.api.responses import error
from agent_jobs.models.base import ID_PATTERN

router = Router()

PAGE_FOLDER = "admin_page"
REPO_PAGE_PATH = Path("functions") / "checkpoints" / PAGE_FOLDER
MAX_ID_CHARS = 128  # as api.params.ResourceId
JAVASCRIPT = "text/javascript; charset=utf-8"  # ES modules too: a module script needs a JavaScript MIME type
# app.js is the entry module; the others are the modules it imports (one per view, plus the shared core)
PAGE_MODULES = (
    "app.js",
    "core.js",
    "router.js",
    "session.js",
    "signin.js",
    "render.js",
    "dialog.js",
    "job-list.js",
    "mine.js",
    "new-job.js",
    "job.js",
    "checkpoints.js",
    "jobs.js",
    "agents.js",
    "worker.js",
    "stats.js",
    "charts.js",
    "dead-letters.js",
    "audit.js",
    "realtime.js",
)
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    **dict.fromkeys(PAGE_MODULES, JAVASCRIPT),
}
# Paths that open the page itself, /app/<view> and /admin/<tab> (seed 004 links to /admin/agent-checkpoints);
# the page's router (router.js) picks the view from the path.
PAGE_ALIASES = frozenset(
    {
        "index.html",
        "jobs",
        "new",
        "all-jobs",
        "agent-checkpoints",
        "checkpoints",
        "agents",
        "worker",
        "stats",
        "dead-letters",
        "audit",
    }
)


def page_dir() -> Path:
    """The folder with the page's files: $ADMIN_PAGE_DIR, the Lambda task root, or the repository's copy."""
    configured = os.environ.get("ADMIN_PAGE_DIR")
    if configured:
        return Path(configured)
    task_root = os.environ.get("LAMBDA_TASK_ROOT")
    if task_root and (Path(task_root) / PAGE_FOLDER).is_dir():
        return Path(task_root) / PAGE_FOLDER
    for parent in Path(__file__).resolve().parents:
        candidate = parent / REPO_PAGE_PATH
        if candidate.is_dir():
            return candidate
    return Path(task_root or ".") / PAGE_FOLDER


def cognito_endpoint() -> str:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return os.environ.get("ADMIN_COGNITO_ENDPOINT") or f"https://cognito-idp.{region}.amazonaws.com/"


def page_config() -> dict[str, str]:
    return {
        "apiBase": os.environ.get("ADMIN_API_BASE", "").rstrip("/"),
        "cognitoEndpoint": cognito_endpoint(),
        "clientId": os.environ.get("ADMIN_CLIENT_ID", ""),
        "realtimeUrl": os.environ.get("ADMIN_REALTIME_URL", "").rstrip("/"),
        "tokenUrl": token_url(),
    }


def token_url() -> str:
    """Where machine clients get tokens (client-credentials grant): the Cognito hosted UI domain's token
    endpoint in the cloud (``ADMIN_COGNITO_DOMAIN``); "" locally, where the CLI uses ``<api>/oauth2/token``."""
    domain = os.environ.get("ADMIN_COGNITO_DOMAIN", "").rstrip("/")
    return f"{domain}/oauth2/token" if domain else ""


def _origin(url: str, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """``scheme://host[:port]`` of a URL, or None when its scheme is not one of ``schemes`` (kept out of the CSP)."""
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.netloc:
        return None
    if any(char in parts.netloc for char in " ;,'\"\\"):
        return None
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(config: dict[str, str]) -> dict[str, str]:
    connect = ["'self'"]
    for url in (config["cognitoEndpoint"], config["apiBase"]):
        origin = _origin(url) if url else None
        if origin and origin not in connect:
            connect.append(origin)
    # The page's WebSocket: its exact origin when configured; a derived same-host URL is covered by 'self'.
    realtime = _origin(config["realtimeUrl"], ("ws", "wss")) if config["realtimeUrl"] else None
    if realtime:
        connect.append(realtime)
    policy = (
        f"default-src 'self'; connect-src {' '.join(connect)}; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-cache",
    }


def _serve(name: str) -> Response[str]:
    config = page_config()
    headers = security_headers(config)
    if name == "config.json":
        headers["Cache-Control"] = "no-store"
        return Response(200, "application/json", json.dumps(config), headers)
    content_type = STATIC_FILES.get(name)
    if content_type is None:
        return error(404, "NOT_FOUND", "no such file")
    try:
        body = (page_dir() / name).read_text(encoding="utf-8")  # small files: read per request
    except OSError:
        return error(404, "NOT_FOUND", "admin page files are not installed")
    return Response(200, content_type, body, headers)


def _answers(path: str, *types: str) -> dict[int, Any]:
    documented: dict[int, Any] = dict(responses("GET", path, 200, None))
    documented[200] = {"description": "The page's file", "content": {t: {"schema": {"type": "string"}} for t in types}}
    return documented


@router.get("/app", summary="The console", tags=["docs"], responses=_answers("/app", "text/html"))
def console_index() -> Response[str]:
    return _serve("index.html")


@router.get(
    "/admin", summary="The console, entered as an admin", tags=["docs"], responses=_answers("/admin", "text/html")
)
def admin_index() -> Response[str]:
    return _serve("index.html")


FILE_TYPES = sorted({*(t.split(";")[0] for t in STATIC_FILES.values()), "application/json"})


def _page_file(file: str) -> Response[str]:
    return _serve("index.html" if file in PAGE_ALIASES else file)


@router.get(
    "/app/<file>",
    summary="The console's files and view paths",
    tags=["docs"],
    responses=_answers("/app/{file}", *FILE_TYPES),
)
def console_file(file: str) -> Response[str]:
    return _page_file(file)


@router.get(
    "/admin/<file>",
    summary="The console's files, under /admin",
    tags=["docs"],
    responses=_answers("/admin/{file}", *FILE_TYPES),
)
def admin_file(file: str) -> Response[str]:
    return _page_file(file)


JOB_ID = re.compile(ID_PATTERN)


@router.get(
    "/app/jobs/<id>",
    summary="A job's page in the console",
    tags=["docs"],
    responses=_answers("/app/jobs/{id}", "text/html"),
)
def console_job(id: str) -> Response[str]:
    """Any well-formed id opens the page (which asks the API, so another user's job shows as not found there)."""
    if len(id) > MAX_ID_CHARS or not JOB_ID.fullmatch(id):
        return error(404, "NOT_FOUND", "no such page")
    return _serve("index.html")
