"""Items as a table's stream carries them (DynamoDB JSON images), read back into entities by the same table
models that wrote them — so a stream consumer never parses an item by hand."""

from __future__ import annotations

from typing import Any

from agent_jobs.models.checkpoints import Checkpoint
from agent_jobs.models.jobs import Job
from agent_jobs.repositories.records import to_entity
from agent_jobs.repositories.tables import CheckpointRecord, JobRecord

Image = dict[str, Any]  # a stream record's NewImage or OldImage: {"status": {"S": "PENDING"}, ...}


def job_of(image: Image) -> Job:
    """The job in an image of the jobs table (a large result stays in its own item: never in an event)."""
    return to_entity(JobRecord.from_raw_data(image), Job)


def checkpoint_of(image: Image) -> Checkpoint:
    return to_entity(CheckpointRecord.from_raw_data(image), Checkpoint)
