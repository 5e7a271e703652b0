"""PynamoDB table models. Table names and endpoint are bound at run time by :func:`bind_tables`.

These classes are also the single definition of keys and indexes: ``infra/`` and the local stack
read them (``table_schema``) instead of keeping a second list.
"""

from __future__ import annotations

from typing import Any

from pynamodb import attributes
from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from agent_jobs.repositories.records import stored_json
from agent_jobs.settings import Settings


class JSONAttribute(attributes.JSONAttribute):
    """Every JSON attribute of these tables: stored as compact UTF-8 (``records.stored_json``), so what a value
    costs in an item is what ``records.stored_size`` measures (PynamoDB's own escapes all non-ASCII)."""

    def serialize(self, value: Any) -> str | None:
        return None if value is None else stored_json(value)


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


class JobsByUserPhase(GlobalSecondaryIndex["JobRecord"]):
    """A user's jobs in one phase, newest first: the owner's ``?status=`` filter (``repositories/job_lists.py``).
    ``user_phase`` = ``<userId>#<phase>``, the phase being ACTIVE for PENDING/ASSIGNED/IN_PROGRESS and the status
    itself otherwise, so the key moves when a job settles (COMPLETED, FAILED, ...), never between its running
    steps. Keys only: the list BatchGets its items."""

    class Meta:
        index_name = "by_user_phase"
        projection = KeysOnlyProjection()

    user_phase = UnicodeAttribute(hash_key=True)
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
    result = JSONAttribute(null=True)  # small results only; a large one is a job_logs item (result_ref)
    result_ref = UnicodeAttribute(null=True)  # the job_logs sort key holding a result too large to inline
    assigned_agent_id = UnicodeAttribute(null=True)
    agent_inputs = JSONAttribute(null=True)
    attempt = NumberAttribute(default=0)
    max_attempts = NumberAttribute(default=3)
    auto_resubmit = BooleanAttribute(default=True)
    feedback = UnicodeAttribute(null=True)
    pass_score = NumberAttribute(null=True)  # None on older items: the default applies
    usage = JSONAttribute(null=True)  # JobUsage: the judge's tokens and cost, set with each verdict
    dispatched_attempt = NumberAttribute(default=0)  # execute idempotency: the attempt already sent
    # the attempt's lease and the sweeper's bounded re-sends: in no index, so writing them moves no index key
    claimed_at = UnicodeAttribute(null=True)
    deadline = UnicodeAttribute(null=True)
    resent_attempt = NumberAttribute(default=0)
    resends = NumberAttribute(default=0)
    # async agents (DESIGN.md §14), in no index: the attempt that answered 202, the attempt whose answer came by
    # callback (a second completion is a duplicate), the last progress report, the owner's deadline
    waiting_attempt = NumberAttribute(default=0)
    answered_attempt = NumberAttribute(default=0)
    progress_report = JSONAttribute(null=True)
    deadline_seconds = NumberAttribute(null=True)
    template_id = UnicodeAttribute(null=True)  # the template it was created from (DESIGN.md §16), in no index
    tags = ListAttribute(of=UnicodeAttribute, null=True)  # set once at creation; JobTagRecord indexes them
    history = ListAttribute(of=UnicodeAttribute, null=True)  # compact log entries, one per log (job_history.py)
    user_phase = UnicodeAttribute(null=True)  # by_user_phase's key, kept by repositories/jobs.py with the status
    all_jobs = UnicodeAttribute(default=ALL_JOBS_KEY)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    by_user = JobsByUser()
    by_status = JobsByStatus()
    by_creation = JobsByCreation()
    by_user_phase = JobsByUserPhase()


class JobTagRecord(Model):
    """One tag of one job in one scope: ``tag_key`` = ``u#<userId>#<tag>`` (the owner's ``?tag=``) or ``a#<tag>``
    (the admins'); ``created_id`` = ``<createdAt>#<jobId>`` sorts newest first with createdAfter/Before as key
    conditions. Written once, before the job itself (tags never change, ``repositories/job_tags.py``): an entry
    whose job was never written is skipped when read."""

    class Meta(_Meta):
        pass

    tag_key = UnicodeAttribute(hash_key=True)
    created_id = UnicodeAttribute(range_key=True)
    job_id = UnicodeAttribute()


class JobLogRecord(Model):
    """A job's history, and the payloads too large for the job item.

    Sort keys (``repositories/jobs.py`` makes them): history entries are ``a<attempt:06d>#<createdAt>#<seq>``,
    so a Query returns them in order and one attempt's entries (its agent answer) are a key prefix away;
    a job's large result is the ``~result`` item, sorted after every history entry.
    """

    class Meta(_Meta):
        pass

    job_id = UnicodeAttribute(hash_key=True)
    log_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    message = UnicodeAttribute(null=True)
    request_payload = JSONAttribute(null=True)
    response_payload = JSONAttribute(null=True)
    agent_id = UnicodeAttribute(null=True)
    attempt = NumberAttribute(null=True)
    actor = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    latency_ms = NumberAttribute(null=True)  # AGENT_RESPONSE logs: the agent's answer time
    history_detail = BooleanAttribute(null=True)  # the detail of an entry in the job item's history (job_history)


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
    cancel_url = UnicodeAttribute(null=True)  # told (signed POST) when a job of this agent is cancelled
    input_schema = JSONAttribute(null=True)
    output_schema = JSONAttribute(null=True)
    timeout_seconds = NumberAttribute(default=30)
    status = UnicodeAttribute()
    secret = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()
    # What judging this agent's outputs cost, added atomically per verdict (AgentRepository.add_judge_usage)
    # without touching ``version``: the registry's scorecard reads them; the Agent entity does not carry them.
    judged_outputs = NumberAttribute(null=True)
    judge_prompt_tokens = NumberAttribute(null=True)
    judge_completion_tokens = NumberAttribute(null=True)
    judge_cost_usd = NumberAttribute(null=True)
    max_concurrency = NumberAttribute(null=True)  # calls in flight at once (None: no per-agent limit)
    check = JSONAttribute(null=True)  # the last onboarding check (AgentCheck), written by repositories/registry.py
    mode = UnicodeAttribute(null=True)  # sync (None on older items) or async
    max_run_seconds = NumberAttribute(null=True)
    heartbeat_seconds = NumberAttribute(null=True)

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


class CheckpointsByDelivery(GlobalSecondaryIndex["CheckpointRecord"]):
    """Decisions Step Functions has not been told yet, oldest first (the sweeper delivers them). Sparse: a
    checkpoint is in it only while its ``delivery`` is set, so the index stays as small as the backlog."""

    class Meta:
        index_name = "by_delivery"
        projection = KeysOnlyProjection()

    delivery = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


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
    # "decided, not delivered": set with a decision, removed once Step Functions has it (sparse by_delivery)
    delivery = UnicodeAttribute(null=True)
    delivered_at = UnicodeAttribute(null=True)
    approved_at = UnicodeAttribute(null=True)
    rejected_by = UnicodeAttribute(null=True)
    rejection_reason = UnicodeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)  # every decision: who, when, and its text (DESIGN.md §14)
    decided_at = UnicodeAttribute(null=True)
    comment = UnicodeAttribute(null=True)
    feedback = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    expires_at = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    by_job = CheckpointsByJob()
    by_status = CheckpointsByStatus()
    by_delivery = CheckpointsByDelivery()


class AgentScoreRecord(Model):
    """One agent's counters for one UTC hour (``hour`` = ``YYYY-MM-DDTHH``), added to with ADD as its jobs settle.

    Only the keys are declared: the counters are flat number attributes named by ``domain/scorecards.py``
    (``attempts``, ``fail_timeout``, ``lat_3``, ...) and read raw, so a new counter needs no schema change.
    A scorecard over a window is one Query of at most ``hours`` small items."""

    class Meta(_Meta):
        pass

    agent_id = UnicodeAttribute(hash_key=True)
    hour = UnicodeAttribute(range_key=True)


class AuditRecord(Model):
    """One change to the registry or the worker (who, when, what), partitioned by UTC month so the newest
    entries are one Query away; ``entry_id`` = ``<at>#<random>`` sorts in time order."""

    class Meta(_Meta):
        pass

    month = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    changes = JSONAttribute(null=True)


class IdempotencyRecord(Model):
    """One Idempotency-Key's first answer (DESIGN.md §15). Powertools' idempotency utility writes and reads these
    items (``api/idempotency.py``); declared here so that infra/ and the local stack make the table like any
    other. ``id`` is the hash of user + method + path + key; DynamoDB's TTL drops an item after ``expiration``
    (Powertools itself treats an expired item as absent, so the TTL's lag never replays a stale answer)."""

    class Meta(_Meta):
        pass

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute()
    in_progress_expiration = NumberAttribute(null=True)
    status = UnicodeAttribute()
    data = UnicodeAttribute(null=True)  # the first answer (status code, body), as JSON text
    validation = UnicodeAttribute(null=True)  # the hash of the first request's body


class WebhooksByOwner(GlobalSecondaryIndex["WebhookRecord"]):
    """A user's subscriptions (the list and the cap), and with ``owner`` = ``ALL_WEBHOOKS`` the admins' ``scope:
    all`` ones. Sparse: one-off job webhooks and the signing-secret holders never set ``owner``."""

    class Meta:
        index_name = "by_owner"
        projection = KeysOnlyProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class WebhookRecord(Model):
    """A webhook subscription (DESIGN.md §15). ``kind``: ``subscription`` (the API's), ``job`` (a job's one-off
    ``webhookUrl``, id ``job-<jobId>``, expiring with ``expires_at``) or ``default`` (a user's default signing
    secret, id ``default-<userId>``, no URL). The secret is write-only: no API model carries it back."""

    class Meta(_Meta):
        pass

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    user_id = UnicodeAttribute()
    owner = UnicodeAttribute(null=True)  # by_owner: user id, or ALL_WEBHOOKS for scope all (sparse)
    url = UnicodeAttribute(null=True)
    events = ListAttribute(of=UnicodeAttribute, default=list)  # empty: every event type
    description = UnicodeAttribute(default="")
    scope = UnicodeAttribute(default="mine")
    job_id = UnicodeAttribute(null=True)
    secret = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    expires_at = TTLAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    by_owner = WebhooksByOwner()


class DeliveriesByStream(GlobalSecondaryIndex["WebhookDeliveryRecord"]):
    """The open (not yet settled) deliveries of one job to one subscription, oldest first: a delivery waits
    behind an older open one, so a receiver gets one job's events in order. Sparse: ``stream`` is removed when a
    delivery settles."""

    class Meta:
        index_name = "by_stream"
        projection = KeysOnlyProjection()

    stream = UnicodeAttribute(hash_key=True)  # "<webhookId>#<jobId>"
    delivery_id = UnicodeAttribute(range_key=True)


class WebhookDeliveryRecord(Model):
    """One event for one subscription and every attempt to deliver it. ``delivery_id`` = ``<time>_<hash>`` sorts
    in event time and is the same for the same (event, subscription), so a repeated event is one delivery."""

    class Meta(_Meta):
        pass

    webhook_id = UnicodeAttribute(hash_key=True)
    delivery_id = UnicodeAttribute(range_key=True)
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    job_id = UnicodeAttribute()
    payload = UnicodeAttribute()  # the exact body sent (and signed), JSON text
    status = UnicodeAttribute()
    attempts = JSONAttribute(default=list)  # [{at, statusCode, latencyMs, error}], newest last, capped
    attempt_count = NumberAttribute(default=0)
    first_attempt_at = UnicodeAttribute(null=True)
    next_retry_at = UnicodeAttribute(null=True)
    window_from = UnicodeAttribute(null=True)  # retried until 24 h after this (the event, or a redelivery)
    stream = UnicodeAttribute(null=True)  # by_stream while open
    expires_at = TTLAttribute(null=True)  # the log is kept 30 days
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    by_stream = DeliveriesByStream()


class RealtimeRecord(Model):
    """WebSocket connections and their subscriptions in one table (TTL: API Gateway ends a connection after 2 h).

    ``topic`` = ``connection#<id>`` is the connection itself (who, admin, the token's expiry, its topics);
    ``topic`` = ``job#<id>`` / ``user#<id>`` / ``all`` / ``checkpoints`` with ``connection_id`` is one
    subscription: the fan-out reads an event's few topics with one Query each."""

    class Meta(_Meta):
        pass

    topic = UnicodeAttribute(hash_key=True)
    connection_id = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute()
    admin = BooleanAttribute(default=False)
    token_expires = NumberAttribute(null=True)  # epoch seconds: no frame after the token's expiry
    topics = ListAttribute(of=UnicodeAttribute, default=list)
    expires_at = TTLAttribute()


class TemplatesByListing(GlobalSecondaryIndex["TemplateRecord"]):
    """The templates a user lists, newest first: ``listing`` is the owner's id, or ``SHARED_TEMPLATES`` for the
    shared ones (so the two partitions never hold the same template). Keys only: pages BatchGet their items."""

    class Meta:
        index_name = "by_listing"
        projection = KeysOnlyProjection()

    listing = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class TemplateRecord(Model):
    """A job template (DESIGN.md §16): a create body with ``{{variable}}`` placeholders."""

    class Meta(_Meta):
        pass

    id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    body = JSONAttribute()
    shared = BooleanAttribute(default=False)
    variables = ListAttribute(of=UnicodeAttribute, default=list)
    listing = UnicodeAttribute()  # by_listing: user_id, or SHARED_TEMPLATES while shared
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    by_listing = TemplatesByListing()


TABLES: dict[str, type[Model]] = {
    "jobs_table": JobRecord,
    "job_logs_table": JobLogRecord,
    "job_tags_table": JobTagRecord,
    "agents_table": AgentRecord,
    "checkpoints_table": CheckpointRecord,
    "agent_scores_table": AgentScoreRecord,
    "audit_table": AuditRecord,
    "idempotency_table": IdempotencyRecord,
    "webhooks_table": WebhookRecord,
    "webhook_deliveries_table": WebhookDeliveryRecord,
    "realtime_table": RealtimeRecord,
    "templates_table": TemplateRecord,
}


def bind_tables(settings: Settings) -> None:
    """Point every model at the tables named by the settings (called once per process, lazily)."""
    for setting, model in TABLES.items():
        meta: Any = model.Meta
        meta.table_name = getattr(settings, setting)
        meta.region = settings.aws_region
        meta.host = settings.aws_endpoint_url
        model._connection = None  # drop a connection made for other settings


def ttl_attribute(model: type[Model]) -> str | None:
    """The attribute DynamoDB's time to live reads on this table (its ``TTLAttribute``), if it has one."""
    found = model._ttl_attribute()
    return None if found is None else str(found.attr_name)


def table_schema(model: type[Model]) -> dict[str, Any]:
    """Keys, attribute types and indexes of a model, in CreateTable's shape (for infra/ and local/)."""
    schema: dict[str, Any] = dict(model._get_schema())
    return schema
