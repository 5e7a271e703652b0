"""The ``?tag=`` index: each tag of a job as two small items of the job_tags table, one for its owner's lists and
one for the admins'. Tags never change, so the entries are written once, at creation, as plain puts (1 write unit
each) and *before* the job: a failure in between leaves an entry whose
job does not exist, which a list read skips, never a tagged job that a tag filter cannot find."""

from __future__ import annotations

from agent_jobs.models.jobs import Job
from agent_jobs.repositories.tables import JobTagRecord

OWNER_PREFIX = "u#"
ADMIN_PREFIX = "a#"


def owner_key(user_id: str, tag: str) -> str:
    return f"{OWNER_PREFIX}{user_id}#{tag}"


def admin_key(tag: str) -> str:
    return f"{ADMIN_PREFIX}{tag}"


def created_id(job: Job) -> str:
    """The entries' sort key: newest first, and a created-at range is a key condition on it."""
    return f"{job.created_at}#{job.id}"


def write_entries(job: Job) -> None:
    """The entries of every tag of ``job`` (none when it has no tags), in BatchWriteItem calls."""
    if not job.tags:
        return
    with JobTagRecord.batch_write() as batch:
        for tag in job.tags:
            for key in (owner_key(job.user_id, tag), admin_key(tag)):
                batch.save(JobTagRecord(key, created_id(job), job_id=job.id))
