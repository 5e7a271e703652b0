"""PynamoDB table models. Table names and endpoint are bound at run time by :func:`bind_tables`.

These classes are also the single definition of keys and indexes: ``infra/`` and the local stack
read them (``table_schema``) instead of keeping a second list.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from agent_jobs.settings import Settings

# What a job list shows; the list indexes project these and nothing else, so a job update that
# only touches big fields (input, result) does not rewrite the indexes' copies.
JOB_SUMMARY_ATTRIBUTES = [
    "name",
    "job_type",
    "status",
    "priority",
    "attempt",
    "assigned_agent_id",
    "user_id",
    "created_at",
    "updated_at",
]
ALL_JOBS_KEY = "JOB"


def _summary(*index_keys: str) -> list[str]:
    """The summary attributes an index must copy: its own keys (and the table's) come anyway."""
    return [name for name in JOB_SUMMARY_ATTRIBUTES if name not in index_keys]


class _Meta:
    table_name = ""
    region = "us-east-1"
    host: str | None = None
    billing_mode = "PAY_PER_REQUEST"


class JobsByUser(GlobalSecondaryIndex["JobRecord"]):
    """A user's jobs, newest first. Keys only: written once per job (list pages BatchGet their items)."""

    class Meta:
        index_name = "by_user"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class JobsByStatus(GlobalSecondaryIndex["JobRecord"]):
    """All jobs in one status, most recently changed first (admin lists, gauges, the sweeper)."""

    class Meta:
        index_name = "by_status"
        projection = IncludeProjection(_summary("status", "updated_at"))

    status = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class JobsByCreation(GlobalSecondaryIndex["JobRecord"]):
    """Every job, newest first (admin list without a status filter). Keys only: written once per job."""

    class Meta:
        index_name = "by_creation"
        projection = KeysOnlyProjection()

    all_jobs = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class JobRecord(Model):
    class Meta(_Meta):
        pass

    id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute()
    acceptance_criteria = UnicodeAttribute(default="")
    job_type = UnicodeAttribute()
    input_data = JSONAttribute(null=True)
    priority = NumberAttribute(default=5)
    status = UnicodeAttribute()
    result = JSONAttribute(null=True)
    assigned_agent_id = UnicodeAttribute(null=True)
    agent_inputs = JSONAttribute(null=True)
    attempt = NumberAttribute(default=0)
    max_attempts = NumberAttribute(default=3)
    auto_resubmit = BooleanAttribute(default=True)
    feedback = UnicodeAttribute(null=True)
    dispatched_attempt = NumberAttribute(default=0)  # execute idempotency: the attempt already sent
    all_jobs = UnicodeAttribute(default=ALL_JOBS_KEY)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    by_user = JobsByUser()
    by_status = JobsByStatus()
    by_creation = JobsByCreation()


class JobLogRecord(Model):
    """A job's history; the sort key is time-ordered so a Query returns it in order."""

    class Meta(_Meta):
        pass

    job_id = UnicodeAttribute(hash_key=True)
    log_id = UnicodeAttribute(range_key=True)  # "<createdAt>#<random>"
    status = UnicodeAttribute()
    message = UnicodeAttribute(null=True)
    request_payload = JSONAttribute(null=True)
    response_payload = JSONAttribute(null=True)
    agent_id = UnicodeAttribute(null=True)
    attempt = NumberAttribute(null=True)
    actor = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    latency_ms = NumberAttribute(null=True)  # AGENT_RESPONSE logs: the agent's answer time


class AgentsByStatus(GlobalSecondaryIndex["AgentRecord"]):
    """ACTIVE (or INACTIVE) agents by name: the registry list and the auto-assign shortlist."""

    class Meta:
        index_name = "by_status"
        projection = KeysOnlyProjection()

    status = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)


class AgentRecord(Model):
    class Meta(_Meta):
        pass

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    job_types = ListAttribute(of=UnicodeAttribute, default=list)
    skills = ListAttribute(of=UnicodeAttribute, default=list)
    endpoint_url = UnicodeAttribute()
    input_schema = JSONAttribute(null=True)
    output_schema = JSONAttribute(null=True)
    timeout_seconds = NumberAttribute(default=30)
    status = UnicodeAttribute()
    secret = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    by_status = AgentsByStatus()


class CheckpointsByJob(GlobalSecondaryIndex["CheckpointRecord"]):
    """A job's checkpoints in the order they were raised."""

    class Meta:
        index_name = "by_job"
        projection = KeysOnlyProjection()

    job_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class CheckpointsByStatus(GlobalSecondaryIndex["CheckpointRecord"]):
    """Checkpoints in one status, oldest first (the admin queue, the expiry sweep)."""

    class Meta:
        index_name = "by_status"
        projection = KeysOnlyProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class CheckpointRecord(Model):
    class Meta(_Meta):
        pass

    id = UnicodeAttribute(hash_key=True)
    job_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    job_type = UnicodeAttribute()
    stage = UnicodeAttribute()
    status = UnicodeAttribute()
    data = JSONAttribute(null=True)
    attempt = NumberAttribute(default=0)
    task_token = UnicodeAttribute()
    approved_by = UnicodeAttribute(null=True)
    approved_at = UnicodeAttribute(null=True)
    rejected_by = UnicodeAttribute(null=True)
    rejection_reason = UnicodeAttribute(null=True)
    expires_at = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    by_job = CheckpointsByJob()
    by_status = CheckpointsByStatus()


TABLES: dict[str, type[Model]] = {
    "jobs_table": JobRecord,
    "job_logs_table": JobLogRecord,
    "agents_table": AgentRecord,
    "checkpoints_table": CheckpointRecord,
}


def bind_tables(settings: Settings) -> None:
    """Point every model at the tables named by the settings (called once per process, lazily)."""
    for setting, model in TABLES.items():
        meta: Any = model.Meta
        meta.table_name = getattr(settings, setting)
        meta.region = settings.aws_region
        meta.host = settings.aws_endpoint_url
        model._connection = None  # drop a connection made for other settings


def table_schema(model: type[Model]) -> dict[str, Any]:
    """Keys, attribute types and indexes of a model, in CreateTable's shape (for infra/ and local/)."""
    schema: dict[str, Any] = dict(model._get_schema())
    return schema
