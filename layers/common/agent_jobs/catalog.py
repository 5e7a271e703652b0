"""The platform's resources as data: functions, queues and HTTP routes.

``infra/`` deploys exactly these and the local stack runs exactly these, so the two cannot drift.
Table keys and indexes live with the table models (``repositories/tables.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Access(StrEnum):
    PUBLIC = "public"  # no token (docs, the admin page's static files)
    USER = "user"  # any signed-in user; ownership is checked by the domain
    ADMIN = "admin"  # the `admins` group


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # folder under functions/
    timeout_seconds: int
    memory_mb: int
    description: str


@dataclass(frozen=True)
class QueueSpec:
    key: str  # the queue's short name; settings read "<KEY>_QUEUE_URL"
    consumer: str  # function that consumes it (and its DLQ)
    batch_size: int
    max_concurrency: int  # event source mapping's maximum concurrency (>= 2)
    max_receive_count: int = 3  # deliveries before the DLQ

    @property
    def setting(self) -> str:
        return f"{self.key.replace('-', '_')}_queue_url"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway syntax: /api/jobs/{id}
    function: str
    access: Access


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("create_job", 29, 512, "Jobs, agents and admin job API"),
        FunctionSpec("execute_job", 180, 512, "Execute queue consumer: calls agents"),  # 512: a batch of 10 in ~1.4 s
        FunctionSpec("validate", 120, 512, "Validate queue consumer: the LLM judge and auto-assign"),
        FunctionSpec("checkpoints", 29, 256, "Checkpoint API, checkpoint queue consumer, admin page"),
        FunctionSpec("metrics", 60, 256, "Worker control, stats, scheduled gauges and sweeper"),
    )
}

QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("execute", "execute_job", batch_size=10, max_concurrency=5),
    QueueSpec("execute-high", "execute_job", batch_size=10, max_concurrency=5),
    QueueSpec("validate", "validate", batch_size=10, max_concurrency=5),
    QueueSpec("checkpoint", "checkpoints", batch_size=10, max_concurrency=2),
)
EXECUTE_QUEUE_KEYS = ("execute", "execute-high")  # the "worker" of seed 004
DLQ_SUFFIX = "-dlq"
DLQ_BATCH_SIZE = 10  # a DLQ is drained by its queue's consumer (which fails the job), a few at a time
DLQ_MAX_CONCURRENCY = 2  # the minimum Lambda allows; DLQ traffic is rare  # a queue's dead-letter queue has its name plus this (infra/ and local/ name them so)


def _route(method: str, path: str, function: str, access: Access = Access.USER) -> Route:
    return Route(method, path, function, access)


JOB_PREFIXES = ("/api/jobs", "/api/agent-jobs")  # seed 004's paths answer exactly like /api/jobs


def _job_routes() -> list[Route]:
    routes: list[Route] = []
    for prefix in JOB_PREFIXES:
        routes += [
            _route("POST", prefix, "create_job"),
            _route("GET", prefix, "create_job"),
            _route("GET", f"{prefix}/{{id}}", "create_job"),
            _route("GET", f"{prefix}/{{id}}/logs", "create_job"),
            _route("GET", f"{prefix}/{{id}}/checkpoints", "checkpoints"),
        ]
        routes += [
            _route("POST", f"{prefix}/{{id}}/{action}", "create_job")
            for action in ("assign", "auto-assign", "cancel", "execute", "resubmit")
        ]
    return routes


ADMIN = Access.ADMIN
ROUTES: tuple[Route, ...] = (
    *_job_routes(),
    _route("GET", "/api/agents", "create_job"),
    _route("GET", "/api/agents/{id}", "create_job"),
    _route("GET", "/api/admin/agents", "create_job", ADMIN),
    _route("POST", "/api/admin/agents", "create_job", ADMIN),
    _route("PUT", "/api/admin/agents/{id}", "create_job", ADMIN),
    _route("DELETE", "/api/admin/agents/{id}", "create_job", ADMIN),
    _route("GET", "/api/admin/jobs", "create_job", ADMIN),
    _route("GET", "/api/admin/jobs/{id}", "create_job", ADMIN),
    _route("POST", "/api/admin/jobs/{id}/resubmit", "create_job", ADMIN),
    _route("POST", "/api/admin/jobs/{id}/complete", "create_job", ADMIN),
    _route("POST", "/api/admin/jobs/{id}/reassign", "create_job", ADMIN),
    _route("POST", "/api/admin/jobs/{id}/recheck", "validate", ADMIN),
    _route("POST", "/api/admin/validate", "validate", ADMIN),
    _route("GET", "/api/admin/agent-checkpoints", "checkpoints", ADMIN),
    _route("GET", "/api/admin/agent-checkpoints/{id}", "checkpoints", ADMIN),
    _route("POST", "/api/admin/agent-checkpoints/{id}", "checkpoints", ADMIN),
    _route("DELETE", "/api/admin/agent-checkpoints/{id}", "checkpoints", ADMIN),
    _route("GET", "/api/admin/agent-worker", "metrics", ADMIN),
    _route("POST", "/api/admin/agent-worker", "metrics", ADMIN),
    _route("PUT", "/api/admin/agent-worker", "metrics", ADMIN),
    _route("DELETE", "/api/admin/agent-worker", "metrics", ADMIN),
    _route("GET", "/api/admin/stats", "metrics", ADMIN),
    _route("GET", "/api/openapi.json", "create_job", Access.PUBLIC),
    _route("GET", "/api/docs", "create_job", Access.PUBLIC),
    _route("GET", "/admin", "checkpoints", Access.PUBLIC),
    _route("GET", "/admin/{file}", "checkpoints", Access.PUBLIC),
)


def routes_of(function: str) -> list[Route]:
    return [route for route in ROUTES if route.function == function]


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route table entry for a concrete request path, with its path parameters."""
    parts = path.rstrip("/").split("/") if path != "/" else [""]
    for candidate in ROUTES:
        if candidate.method != method:
            continue
        pattern = candidate.path.split("/")
        if len(pattern) != len(parts):
            continue
        params: dict[str, str] = {}
        for expected, actual in zip(pattern, parts, strict=True):
            if expected.startswith("{") and expected.endswith("}"):
                if not actual:
                    break
                params[expected[1:-1]] = actual
            elif expected != actual:
                break
        else:
            return candidate, params
    return None
