"""The environment as one validated pydantic model, read once per process."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Every setting the code reads. Names are the environment variables, upper-cased."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None  # moto server / local stack; None on AWS

    jobs_table: str = "agent-jobs-jobs"
    job_logs_table: str = "agent-jobs-job-logs"
    job_tags_table: str = "agent-jobs-job-tags"  # each job tag, per owner and for admins (the ?tag= filter)
    agents_table: str = "agent-jobs-agents"
    checkpoints_table: str = "agent-jobs-checkpoints"
    agent_scores_table: str = "agent-jobs-agent-scores"  # per-agent hourly counters (scorecards)
    audit_table: str = "agent-jobs-audit"  # who changed the registry or the worker, when, and what
    webhooks_table: str = "agent-jobs-webhooks"  # webhook subscriptions (DESIGN.md §15)
    webhook_deliveries_table: str = "agent-jobs-webhook-deliveries"  # every delivery and its attempts
    realtime_table: str = "agent-jobs-realtime"  # WebSocket connections and their subscriptions (TTL)
    templates_table: str = "agent-jobs-templates"  # job templates (DESIGN.md §16)
    idempotency_table: str = "agent-jobs-idempotency"  # Powertools' idempotency records (Idempotency-Key, §15)
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=1)  # how long a key's first answer is replayed
    events_bus_name: str = "agent-jobs-events"  # the EventBridge bus job events are put on (DESIGN.md §15)

    execute_queue_url: str = ""
    execute_high_queue_url: str = ""
    validate_queue_url: str = ""
    checkpoint_queue_url: str = ""
    webhooks_queue_url: str = ""
    checkpoint_state_machine_arn: str = ""
    execute_function_name: str = "agent-jobs-execute_job"  # its event source mappings are the "worker"

    # Execution behaviour
    auto_start_on_assign: bool = True  # seeds 000 (start at once) vs 001 (manual execute)
    high_priority_threshold: int = Field(default=8, ge=1, le=10)
    # Fairness (domain/concurrency.py): the execute invocations one user's calls may run in at once (None: half
    # the execute mapping's maximum concurrency), and the longest a message for a busy agent or user waits
    max_invocations_per_user: int | None = Field(default=None, ge=1, le=1000)
    concurrency_wait_cap_seconds: int = Field(default=30, ge=1, le=900)
    default_max_attempts: int = Field(default=3, ge=1, le=10)
    checkpoint_timeout_seconds: int = Field(default=24 * 3600, ge=1)

    # Agent calls
    agent_default_timeout_seconds: float = Field(default=30.0, gt=0)
    agent_max_timeout_seconds: float = Field(default=120.0, gt=0)
    agent_max_retries: int = Field(default=2, ge=0, le=5)
    agent_retry_base_seconds: float = Field(default=0.5, ge=0)
    agent_max_response_bytes: int = Field(default=256 * 1024, gt=0)
    allow_loopback_http_agents: bool = False  # local stack only: http://127.0.0.1 agents
    agent_check_timeout_seconds: float = Field(default=10.0, gt=0, le=25)  # onboarding check: one try, in the request
    # Async agents (DESIGN.md §14): where they call back, and how old a callback's signature may be
    public_api_url: str | None = None  # the API's public base URL (in the cloud the API's, locally the gateway's)
    callback_tolerance_seconds: int = Field(default=300, ge=1, le=3600)

    # Webhooks and real time (DESIGN.md §15)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=30)  # one delivery attempt, connect included
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0)  # the first retry's delay; doubles per attempt
    webhook_retry_cap_seconds: float = Field(default=1800.0, gt=0)  # no retry waits longer than this
    webhook_retry_window_seconds: int = Field(default=24 * 3600, ge=1)  # retried this long after the first try
    webhook_max_subscriptions: int = Field(default=20, ge=1, le=1000)  # per user
    realtime_callback_url: str | None = None  # the WebSocket API's management endpoint (post_to_connection)
    realtime_connection_seconds: int = Field(default=2 * 3600, ge=60)  # API Gateway's limit: records expire then
    cognito_user_pool_id: str | None = None  # the $connect authorizer verifies tokens of this pool...
    cognito_client_ids: str = ""  # ...issued to these app clients (comma-separated)
    cognito_issuer_url: str | None = None  # the pool's issuer when it is not Cognito's own URL (moto's, a test's)

    # Judge (any OpenAI-compatible server)
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = None
    openai_api_key: str | None = None  # local; in the cloud the key comes from Secrets Manager
    openai_api_key_secret_name: str | None = None
    openai_timeout_seconds: float = Field(default=30.0, gt=0)
    openai_max_retries: int = Field(default=2, ge=0, le=5)

    # API limits
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    stuck_job_margin_seconds: int = Field(default=300, ge=0)

    # Operations (functions/metrics): bounded reads, whatever the table's size
    status_count_cap: int = Field(default=10_000, ge=1)  # a COUNT query stops here ("at least N")
    stats_window_jobs: int = Field(default=200, ge=1, le=1000)  # newest jobs behind jobsByType
    stats_agent_window_jobs: int = Field(default=50, ge=0, le=500)  # newest jobs whose logs feed per-agent figures
    sweeper_max_jobs_per_run: int = Field(default=100, ge=1)  # stuck jobs handled per scheduled run
    sweeper_max_resends: int = Field(default=3, ge=0, le=10)  # re-sends of one attempt's lost message

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        fields = cls.model_fields
        values = {name: env[name.upper()] for name in fields if name.upper() in env and env[name.upper()] != ""}
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    return Settings.from_env()
