"""Job lists with filters, every page a bounded read (DESIGN.md §16).

A list is planned onto the one index partition keyed for its most selective filter — a tag (``job_tags``),
else a status (the owner's ``by_user_phase``, the admins' ``by_status``), else the owner's ``by_user`` or every
job's ``by_creation`` — with a created-at range as the key condition where that index sorts by it. Every filter is
then checked on the jobs themselves (BatchGet of the entries read), which also drops an entry that is stale or
whose job was never written.

A page reads at most :func:`read_budget` index entries (and BatchGets at most those): it ends when ``limit``
jobs matched or the budget ran out, and its ``nextToken`` (the last entry read) continues from there. A short or
empty page with a ``nextToken`` only means the budget ran out first; no ``nextToken`` means the end. So a rare
filter costs the caller more pages, never one request an unbounded read.

What the indexes cost a simple job (DESIGN.md §13): ``by_user_phase`` is entered at creation (1 write unit) and
its key moves once when the job settles (2); ``by_user`` and ``by_creation`` are written once; tag entries are 2
plain puts per tag. jobType, agentId and priority have no index of their own: each would be one more index write
per job (two with the admins' variant, and agentId's would move on every reassignment) for filters that select
few only in unusual data. They are checked within the bounded read, like every filter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition

from agent_jobs.models.job_filters import MAX_READ, MIN_READ, JobFilter
from agent_jobs.models.jobs import JobStatus, JobSummary
from agent_jobs.repositories import job_tags
from agent_jobs.repositories.paging import Page, decode_cursor, encode_cursor
from agent_jobs.repositories.records import to_entity
from agent_jobs.repositories.tables import ALL_JOBS_KEY, JobRecord, JobTagRecord

ACTIVE = "ACTIVE"  # the phase of a job that is still on its way: the owner's status index does not move meanwhile
ACTIVE_STATUSES = frozenset({JobStatus.PENDING, JobStatus.ASSIGNED, JobStatus.IN_PROGRESS})
BATCH_GET_MAX = 100  # DynamoDB's BatchGetItem limit
SUMMARY_ATTRIBUTES = [name for name in JobSummary.model_fields if name in JobRecord.get_attributes()]


def phase_of(status: JobStatus) -> str:
    """The owner's status index groups the running statuses, so its key moves once per settled job."""
    return ACTIVE if status in ACTIVE_STATUSES else status.value


def user_phase(user_id: str, status: JobStatus) -> str:
    """``by_user_phase``'s key of a job of ``user_id`` in ``status``."""
    return f"{user_id}#{phase_of(status)}"


def read_budget(limit: int) -> int:
    """The index entries a page of ``limit`` jobs may read."""
    return min(MAX_READ, max(MIN_READ, 5 * limit))


@dataclass(frozen=True)
class Plan:
    """One Query: the index (or table) and partition to read, newest first, and the range condition on it."""

    query: Callable[..., Iterator[Any]]
    hash_name: str
    hash_value: str
    key_names: frozenset[str]  # an entry's key: the cursor's shape
    range_condition: Condition | None
    job_id_of: Callable[[Any], str]


def _created_range(attribute: Attribute[Any], after: str | None, before: str | None) -> Condition | None:
    """``after <= key < before`` as a key condition; BETWEEN also lets ``key == before`` in, and on a plain
    ``created_at`` key :meth:`JobFilter.matches` drops it (on ``created_id`` it sorts after ``before`` anyway)."""
    if after and before:
        return attribute.between(after, before)
    if after:
        return attribute >= after
    if before:
        return attribute < before
    return None


def _job_index(index: Any, hash_name: str, hash_value: str, range_name: str, condition: Condition | None) -> Plan:
    return Plan(index.query, hash_name, hash_value, frozenset({"id", hash_name, range_name}), condition, _id)


def _tags(key: str, filters: JobFilter) -> Plan:
    condition = _created_range(JobTagRecord.created_id, filters.created_after, filters.created_before)
    return Plan(JobTagRecord.query, "tag_key", key, frozenset({"tag_key", "created_id"}), condition, _tag_job_id)


def plan_for_user(user_id: str, filters: JobFilter) -> Plan:
    if filters.tag is not None:
        return _tags(job_tags.owner_key(user_id, filters.tag), filters)
    created = _created_range(JobRecord.created_at, filters.created_after, filters.created_before)
    if filters.status is not None:
        key = user_phase(user_id, filters.status)
        return _job_index(JobRecord.by_user_phase, "user_phase", key, "created_at", created)
    return _job_index(JobRecord.by_user, "user_id", user_id, "created_at", created)


def plan_for_all(filters: JobFilter) -> Plan:
    if filters.tag is not None:
        return _tags(job_tags.admin_key(filters.tag), filters)
    if filters.status is not None:  # most recently changed first; a job changes after it is created
        changed = JobRecord.updated_at >= filters.created_after if filters.created_after else None
        return _job_index(JobRecord.by_status, "status", filters.status.value, "updated_at", changed)
    created = _created_range(JobRecord.created_at, filters.created_after, filters.created_before)
    return _job_index(JobRecord.by_creation, "all_jobs", ALL_JOBS_KEY, "created_at", created)


def read_page(plan: Plan, keep: Callable[[JobSummary], bool], *, limit: int, token: str | None) -> Page[JobSummary]:
    """Up to ``limit`` jobs that ``keep`` accepts, from at most :func:`read_budget` entries of ``plan``."""
    budget = read_budget(limit)
    start = decode_cursor(token, expected={plan.hash_name: plan.hash_value}, key_names=set(plan.key_names))
    entries = plan.query(
        plan.hash_value,
        range_key_condition=plan.range_condition,
        scan_index_forward=False,
        last_evaluated_key=start,
        limit=budget + 1,  # the budget and a peek: is there more to read?
        page_size=budget + 1,  # one Query: keys-only entries are small (101 of them are about 2 read units)
    )
    matched: list[JobSummary] = []
    read: list[Any] = []
    for chunk in chunks(entries, min(BATCH_GET_MAX, limit + 1)):
        jobs = summaries([plan.job_id_of(entry) for entry in chunk])
        for entry in chunk:
            if len(read) == budget or len(matched) == limit:  # an entry follows the page: continue after it
                return Page(
                    matched, encode_cursor({name: {"S": str(getattr(read[-1], name))} for name in plan.key_names})
                )
            read.append(entry)
            job = jobs.get(plan.job_id_of(entry))
            if job is not None and keep(job):
                matched.append(job)
    return Page(matched, None)


def chunks(entries: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def summaries(ids: list[str]) -> dict[str, JobSummary]:
    """The jobs of ``ids`` that exist, by id (one BatchGetItem of their summary attributes)."""
    records = JobRecord.batch_get(list(dict.fromkeys(ids)), attributes_to_get=SUMMARY_ATTRIBUTES)
    return {record.id: to_entity(record, JobSummary) for record in records}


def _id(entry: JobRecord) -> str:
    return str(entry.id)


def _tag_job_id(entry: JobTagRecord) -> str:
    return str(entry.job_id)
