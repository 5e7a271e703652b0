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
    # X-Ray (tracing=ACTIVE), except on the functions every job passes through by queue or stream (execute_job,
    # validate, events; validate's two admin routes go untraced with it): at low traffic the default rule
    # (1/s + 5 %) records nearly every invocation, and those three made 3.8 of a simple job's 5.2 traces at 1M
    # jobs a month. Their spans are the agent's and the judge's waits, which the job's log and the latency
    # metrics already give.
    traced: bool = True


TRACE_DISABLED_ENV = "POWERTOOLS_TRACE_DISABLED"  # what an untraced function is deployed with (Powertools' name)
# "true": every log line also carries the Lambda context (cold_start, function_name, function_arn,
# function_memory_size, xray_trace_id); unset, a line has the request id only (observability.invocation)
LOG_LAMBDA_CONTEXT_ENV = "LOG_LAMBDA_CONTEXT"


@dataclass(frozen=True)
class QueueSpec:
    key: str  # the queue's short name; settings read "<KEY>_QUEUE_URL"
    consumer: str  # function that consumes it (and its DLQ)
    batch_size: int
    max_concurrency: int  # event source mapping's maximum concurrency (>= 2)
    max_receive_count: int = 3  # deliveries before the DLQ
    # how long Lambda gathers a batch after its first message (0: invoke at once; whole seconds, as
    # CloudFormation takes it). On execute, 1 s: below ~10 jobs a second a batch of ~1 paid the agent's whole
    # wait in its own invocation; gathered, one invocation waits for several (bench: batches of 1.2 -> 4.8 at
    # 10M jobs a month). It adds at most the window to a job's latency (p50 +1.0 s at 1M jobs a month, +0.6 s at
    # 10M, +0.2 s at 50M), so validate keeps 0 (a second window would add another second) and so does the
    # high-priority lane. The local stack does not wait.
    max_batching_window_seconds: int = 0

    @property
    def setting(self) -> str:
        return f"{self.key.replace('-', '_')}_queue_url"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway syntax: /api/jobs/{id}
    function: str
    access: Access
    idempotent: bool = False  # honours an Idempotency-Key header (DESIGN.md §15; api/idempotency.py)

    @property
    def scope(self) -> Scope | None:
        """The OAuth scope a machine client's token needs here (a person's token is judged by ``access``)."""
        if self.access is Access.PUBLIC:
            return None
        if self.access is Access.ADMIN:
            return Scope.ADMIN
        return Scope.READ if self.method in ("GET", "HEAD") else Scope.WRITE


RESOURCE_SERVER = "agent-jobs"  # the Cognito resource server's identifier: scopes are "<identifier>/<name>"


class Scope(StrEnum):
    """Machine credentials' scopes (client-credentials grant, DESIGN.md §18), enforced by the route table."""

    READ = f"{RESOURCE_SERVER}/jobs.read"  # user routes that read
    WRITE = f"{RESOURCE_SERVER}/jobs.write"  # user routes that change something
    ADMIN = f"{RESOURCE_SERVER}/admin"  # admin routes (the client acts as an admin)

    @property
    def short_name(self) -> str:
        return self.value.removeprefix(f"{RESOURCE_SERVER}/")


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("create_job", 29, 512, "Jobs, agents and admin job API"),
        # 512: a batch of 10 in ~1.4 s
        FunctionSpec("execute_job", 180, 512, "Execute queue consumer: calls agents", traced=False),
        FunctionSpec("validate", 120, 512, "Validate queue consumer: the LLM judge and auto-assign", traced=False),
        FunctionSpec("checkpoints", 29, 256, "Checkpoint API, checkpoint queue consumer, admin page"),
        FunctionSpec("metrics", 60, 256, "Worker control, stats, scheduled gauges and sweeper"),
        FunctionSpec(
            "events", 30, 256, "Jobs and checkpoints streams: job events to EventBridge and subscribers", traced=False
        ),
        FunctionSpec("webhooks", 60, 256, "Webhook subscriptions API and the webhooks queue consumer (deliveries)"),
        FunctionSpec("realtime", 29, 256, "WebSocket API: the $connect authorizer, connect, disconnect, subscribe"),
    )
}

QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("execute", "execute_job", batch_size=10, max_concurrency=5, max_batching_window_seconds=1),
    QueueSpec("execute-high", "execute_job", batch_size=10, max_concurrency=5),
    QueueSpec("validate", "validate", batch_size=10, max_concurrency=5),
    QueueSpec("checkpoint", "checkpoints", batch_size=10, max_concurrency=2),
    # one message per (event, subscription) and per retry (DelaySeconds); deliveries never block a job's path
    QueueSpec("webhooks", "webhooks", batch_size=10, max_concurrency=5),
)
EXECUTE_QUEUE_KEYS = ("execute", "execute-high")  # the "worker" of seed 004
DLQ_SUFFIX = "-dlq"
DLQ_BATCH_SIZE = 10  # a DLQ is drained by its queue's consumer (which fails the job), a few at a time
DLQ_MAX_CONCURRENCY = 2  # the minimum Lambda allows; DLQ traffic is rare  # a queue's dead-letter queue has its name plus this (infra/ and local/ name them so)


@dataclass(frozen=True)
class StreamSpec:
    """A table's DynamoDB stream (new and old images) and the event source mapping that consumes it."""

    table: str  # the Settings field of the table, e.g. "jobs_table"
    consumer: str  # function that consumes it
    batch_size: int
    max_batching_window_seconds: int  # how long Lambda gathers a batch: latency against invocations
    retry_attempts: int  # then the batch (bisected down to the failing record) goes to the on-failure queue


# Every job event (DESIGN.md §15) comes from these streams, so it is made once per write (domain/event_stream.py)
STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("jobs_table", "events", batch_size=100, max_batching_window_seconds=0, retry_attempts=10),
    StreamSpec("checkpoints_table", "events", batch_size=100, max_batching_window_seconds=0, retry_attempts=10),
)


def _route(method: str, path: str, function: str, access: Access = Access.USER, *, idempotent: bool = False) -> Route:
    return Route(method, path, function, access, idempotent)


JOB_PREFIXES = ("/api/jobs", "/api/agent-jobs")  # seed 004's paths answer exactly like /api/jobs


def _job_routes() -> list[Route]:
    routes: list[Route] = []
    for prefix in JOB_PREFIXES:
        routes += [
            _route("POST", prefix, "create_job", idempotent=True),
            _route("POST", f"{prefix}/batch", "create_job", idempotent=True),  # DESIGN.md §16
            _route("GET", prefix, "create_job"),
            _route("GET", f"{prefix}/{{id}}", "create_job"),
            _route("GET", f"{prefix}/{{id}}/logs", "create_job"),
            _route("GET", f"{prefix}/{{id}}/checkpoints", "checkpoints"),
        ]
        routes += [
            _route("POST", f"{prefix}/{{id}}/{action}", "create_job", idempotent=True)
            for action in ("assign", "auto-assign", "cancel", "execute", "resubmit")
        ]
        routes += [  # bulk actions by ids (DESIGN.md §16): the literal "bulk" wins over {id} (match_route)
            _route("POST", f"{prefix}/bulk/{action}", "create_job", idempotent=True)
            for action in ("cancel", "resubmit")
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
    _route("GET", "/api/admin/agents/{id}/scorecard", "create_job", ADMIN),
    _route("POST", "/api/admin/agents/{id}/check", "create_job", ADMIN),
    _route("POST", "/api/admin/agents/import", "create_job", ADMIN),
    _route("GET", "/api/admin/jobs", "create_job", ADMIN),
    _route("GET", "/api/admin/jobs/{id}", "create_job", ADMIN),
    _route("POST", "/api/admin/jobs/{id}/resubmit", "create_job", ADMIN, idempotent=True),
    _route("POST", "/api/admin/jobs/{id}/complete", "create_job", ADMIN, idempotent=True),
    _route("POST", "/api/admin/jobs/{id}/reassign", "create_job", ADMIN, idempotent=True),
    _route("POST", "/api/admin/jobs/{id}/recheck", "validate", ADMIN, idempotent=True),
    *(
        _route("POST", f"/api/admin/jobs/bulk/{action}", "create_job", ADMIN, idempotent=True)
        for action in ("cancel", "resubmit", "complete", "reassign")
    ),
    _route("POST", "/api/admin/validate", "validate", ADMIN),
    _route("GET", "/api/admin/agent-checkpoints", "checkpoints", ADMIN),
    _route("GET", "/api/admin/agent-checkpoints/{id}", "checkpoints", ADMIN),
    _route("POST", "/api/admin/agent-checkpoints/{id}", "checkpoints", ADMIN, idempotent=True),
    _route("POST", "/api/admin/agent-checkpoints/{id}/request-changes", "checkpoints", ADMIN, idempotent=True),
    _route("DELETE", "/api/admin/agent-checkpoints/{id}", "checkpoints", ADMIN, idempotent=True),
    _route("GET", "/api/admin/agent-worker", "metrics", ADMIN),
    _route("POST", "/api/admin/agent-worker", "metrics", ADMIN),
    _route("PUT", "/api/admin/agent-worker", "metrics", ADMIN),
    _route("DELETE", "/api/admin/agent-worker", "metrics", ADMIN),
    _route("GET", "/api/admin/stats", "metrics", ADMIN),
    _route("GET", "/api/admin/dead-letters", "metrics", ADMIN),
    _route("POST", "/api/admin/dead-letters/replay", "metrics", ADMIN),
    _route("GET", "/api/admin/audit", "metrics", ADMIN),
    _route("POST", "/api/templates", "create_job"),
    _route("GET", "/api/templates", "create_job"),
    _route("GET", "/api/templates/{id}", "create_job"),
    _route("PUT", "/api/templates/{id}", "create_job"),
    _route("DELETE", "/api/templates/{id}", "create_job"),
    _route("POST", "/api/webhooks", "webhooks"),
    _route("GET", "/api/webhooks", "webhooks"),
    _route("GET", "/api/webhooks/{id}", "webhooks"),
    _route("PATCH", "/api/webhooks/{id}", "webhooks"),
    _route("DELETE", "/api/webhooks/{id}", "webhooks"),
    _route("GET", "/api/webhooks/{id}/deliveries", "webhooks"),
    _route("POST", "/api/webhooks/{id}/deliveries/{deliveryId}/redeliver", "webhooks"),
    _route("GET", "/api/openapi.json", "create_job", Access.PUBLIC),
    _route("GET", "/api/docs", "create_job", Access.PUBLIC),
    # an async agent's callbacks: no JWT, signed with the agent's own secret; served with the other waits
    # (checkpoint decisions) that hand a job on (DESIGN.md §14)
    _route("POST", "/api/agent-callbacks/{jobId}/{attempt}", "checkpoints", Access.PUBLIC),
    # the console's static files (DESIGN.md §17): /app for everyone, a job's deep link, /admin the admins' way in
    _route("GET", "/app", "checkpoints", Access.PUBLIC),
    _route("GET", "/app/{file}", "checkpoints", Access.PUBLIC),
    _route("GET", "/app/jobs/{id}", "checkpoints", Access.PUBLIC),
    _route("GET", "/admin", "checkpoints", Access.PUBLIC),
    _route("GET", "/admin/{file}", "checkpoints", Access.PUBLIC),
)


# The WebSocket API (DESIGN.md §15): not an HTTP route. In the cloud its own API Gateway WebSocket API (the
# $connect route carries the JWT authorizer; a frame's "action" picks the route); locally the gateway upgrades
# GET REALTIME_PATH on its own port. Every route is served by REALTIME_FUNCTION.
REALTIME_PATH = "/api/realtime"
REALTIME_FUNCTION = "realtime"
REALTIME_ROUTES = ("$connect", "$disconnect", "$default", "subscribe")


def routes_of(function: str) -> list[Route]:
    return [route for route in ROUTES if route.function == function]


def _path_params(pattern: str, path: str) -> dict[str, str] | None:
    """The path parameters when a concrete path fits a route's pattern (``/api/jobs/{id}``), else None."""
    parts = path.rstrip("/").split("/") if path != "/" else [""]
    expected_parts = pattern.split("/")
    if len(expected_parts) != len(parts):
        return None
    params: dict[str, str] = {}
    for expected, actual in zip(expected_parts, parts, strict=True):
        if expected.startswith("{") and expected.endswith("}"):
            if not actual:
                return None
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params


def _specificity(pattern: str) -> tuple[bool, ...]:
    """Orders the patterns one path fits, most specific first: a literal segment beats a ``{param}`` in the
    same place, earlier segments first (``/api/jobs/bulk/cancel`` before ``/api/jobs/{id}/cancel``), as API
    Gateway and Powertools' resolver (static routes before dynamic ones) choose."""
    return tuple(part.startswith("{") for part in pattern.split("/"))


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route table entry for a concrete request path, with its path parameters: of the routes with this
    method the path fits, the most specific (:func:`_specificity`), whatever their order in the table."""
    fitting = [
        (route, params)
        for route in ROUTES
        if route.method == method
        if (params := _path_params(route.path, path)) is not None
    ]
    return min(fitting, key=lambda found: _specificity(found[0].path), default=None)


def methods_of(path: str) -> list[str]:
    """The methods the route table declares for a concrete path (none: no such path), from its most specific
    pattern(s): ``/api/admin/agents/import`` is that path's, not ``/api/admin/agents/{id}``'s, as the document
    says. A request with another method answers 405 with these in ``Allow``."""
    fitting = [route for route in ROUTES if _path_params(route.path, path) is not None]
    best = min((_specificity(route.path) for route in fitting), default=())
    return sorted({route.method for route in fitting if _specificity(route.path) == best})
