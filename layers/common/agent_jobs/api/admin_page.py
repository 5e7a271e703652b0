"""The admin page (seed 004 "Review Checkpoints in Admin UI"): static files served by the checkpoints function.

``GET /admin`` answers ``index.html``; ``GET /admin/<file>`` answers only the page's own files (its stylesheet and
its ES modules, listed in ``STATIC_FILES``) and ``config.json`` (built from the environment, so the page needs no
build step). The routes are public; every data call the page makes carries the admin's Cognito IdToken.

Environment:
    ADMIN_CLIENT_ID         the user pool app client (public, ALLOW_USER_PASSWORD_AUTH)
    ADMIN_COGNITO_ENDPOINT  Cognito IdP endpoint; default ``https://cognito-idp.{AWS_REGION}.amazonaws.com/``
    ADMIN_API_BASE          where the API lives; default "" (same origin)
    ADMIN_REALTIME_URL      the WebSocket API (ws:// or wss://); default "": the page derives
                            ``ws(s)://<API host>/api/realtime`` (the local gateway upgrades on its own port)
    ADMIN_PAGE_DIR          folder holding the page's files; default: see ``page_dir()``
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import responses
from agent_jobs.api.responses import error

router = Router()

PAGE_FOLDER = "admin_page"
REPO_PAGE_PATH = Path("functions") / "checkpoints" / PAGE_FOLDER
JAVASCRIPT = "text/javascript; charset=utf-8"  # ES modules too: a module script needs a JavaScript MIME type
# app.js is the entry module; the others are the modules it imports (one per tab, plus the shared core)
PAGE_MODULES = (
    "app.js",
    "core.js",
    "render.js",
    "dialog.js",
    "checkpoints.js",
    "jobs.js",
    "agents.js",
    "worker.js",
    "stats.js",
    "dead-letters.js",
    "audit.js",
    "realtime.js",
)
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    **dict.fromkeys(PAGE_MODULES, JAVASCRIPT),
}
# Paths that open the page itself (seed 004 links to /admin/agent-checkpoints); the page picks the tab.
PAGE_ALIASES = frozenset(
    {"index.html", "agent-checkpoints", "checkpoints", "jobs", "agents", "worker", "stats", "dead-letters", "audit"}
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
    }


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


@router.get("/admin", summary="The admin page", tags=["docs"], responses=_answers("/admin", "text/html"))
def admin_index() -> Response[str]:
    return _serve("index.html")


FILE_TYPES = sorted({*(t.split(";")[0] for t in STATIC_FILES.values()), "application/json"})


@router.get(
    "/admin/<file>", summary="The admin page's files", tags=["docs"], responses=_answers("/admin/{file}", *FILE_TYPES)
)
def admin_file(file: str) -> Response[str]:
    return _serve("index.html" if file in PAGE_ALIASES else file)
