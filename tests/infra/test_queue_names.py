"""Queues are named so the code can recognise a dead-letter queue (and find it from its queue)."""

from typing import Any

from agent_jobs.catalog import DLQ_SUFFIX, QUEUES
from tests.infra.helpers import of_type


def test_every_queue_and_dlq_is_named_by_the_catalog_convention(template: dict[str, Any]) -> None:
    names = {resource["Properties"]["QueueName"] for resource in of_type(template, "AWS::SQS::Queue").values()}
    suffixes = {name.split("-", 1)[1] for name in names}
    expected = {spec.key for spec in QUEUES} | {spec.key + DLQ_SUFFIX for spec in QUEUES}
    assert suffixes == expected
