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
    agents_table: str = "agent-jobs-agents"
    checkpoints_table: str = "agent-jobs-checkpoints"

    execute_queue_url: str = ""
    execute_high_queue_url: str = ""
    validate_queue_url: str = ""
    checkpoint_queue_url: str = ""
    checkpoint_state_machine_arn: str = ""
    execute_function_name: str = "agent-jobs-execute_job"  # its event source mappings are the "worker"

    # Execution behaviour
    auto_start_on_assign: bool = True  # seeds 000 (start at once) vs 001 (manual execute)
    high_priority_threshold: int = Field(default=8, ge=1, le=10)
    default_max_attempts: int = Field(default=3, ge=1, le=10)
    checkpoint_timeout_seconds: int = Field(default=24 * 3600, ge=1)

    # Agent calls
    agent_default_timeout_seconds: float = Field(default=30.0, gt=0)
    agent_max_timeout_seconds: float = Field(default=120.0, gt=0)
    agent_max_retries: int = Field(default=2, ge=0, le=5)
    agent_retry_base_seconds: float = Field(default=0.5, ge=0)
    agent_max_response_bytes: int = Field(default=256 * 1024, gt=0)
    allow_loopback_http_agents: bool = False  # local stack only: http://127.0.0.1 agents

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
