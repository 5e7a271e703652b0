"""Looking into dead-letter queues and replaying them (DESIGN.md §18), for admins.

**Peek without consuming**: SQS has no peek, so the messages are *received* with a short visibility timeout
(:data:`PEEK_VISIBILITY_SECONDS`, so one listing never sees a message twice) and made visible again at once
(ChangeMessageVisibility 0) — nothing is deleted. Two side effects, both honest: each peek adds one to a
message's receive count, and for the few seconds of the listing the DLQ's own consumer (which settles the job)
cannot take them. Each message is shown with its kind, job, attempt, the job's status and its last history
entry (why it stopped); a task token inside the body is never shown.

**Replay** sends the chosen messages (by message id, or all that are there, at most :data:`MAX_MESSAGES`)
back to the queue they died on, then deletes them from the DLQ; the rest are made visible again. Every replay
is audited. A consumer drops a replayed message whose job has moved on (its DLQ consumer already failed the
job, say): resubmit such a job instead — the listing shows its status for that reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agent_jobs.catalog import QUEUES
from agent_jobs.domain import audit
from agent_jobs.domain.auth import Principal
from agent_jobs.domain.gauges import dlq_url
from agent_jobs.errors import ServiceUnavailable
from agent_jobs.integrations.aws import client
from agent_jobs.models.base import loads_bounded
from agent_jobs.models.registry import DeadLetter, ReplayRequest
from agent_jobs.observability import logger
from agent_jobs.services import Services

PEEK_VISIBILITY_SECONDS = 30
MAX_MESSAGES = 50
HIDDEN = "(hidden)"
PEEK_METHOD = (
    f"received with a {PEEK_VISIBILITY_SECONDS} s visibility timeout, then made visible again at once "
    "(nothing deleted; each peek adds one to a message's receive count)"
)


def queue_urls(services: Services, key: str) -> tuple[str, str]:
    """(queue URL, its DLQ URL) for a catalog queue key."""
    spec = next(spec for spec in QUEUES if spec.key == key)
    url = str(getattr(services.settings, spec.setting))
    if not url:
        raise ServiceUnavailable(f"queue {key} is not configured here")
    return url, dlq_url(url)


def _receive(url: str, limit: int) -> list[dict[str, Any]]:
    sqs = client("sqs")
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    while len(found) < limit:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, limit - len(found)),
            VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        fresh = [m for m in got if m["MessageId"] not in seen]
        if not fresh:
            return found
        seen.update(m["MessageId"] for m in fresh)
        found += fresh
    return found


def _make_visible(url: str, messages: Iterable[dict[str, Any]]) -> None:
    pending = list(messages)
    for start in range(0, len(pending), 10):
        batch = pending[start : start + 10]
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(batch)
        ]
        try:
            client("sqs").change_message_visibility_batch(QueueUrl=url, Entries=entries)
        except Exception:  # they become visible by themselves after the short timeout
            logger.exception("could not make peeked dead letters visible again", extra={"queue_url": url})


def _body(message: dict[str, Any]) -> Any:
    try:
        body = loads_bounded(message.get("Body") or "")
    except ValueError:
        return (message.get("Body") or "")[:2000]
    if isinstance(body, dict) and body.get("taskToken"):
        body = {**body, "taskToken": HIDDEN}
    return body


def describe(services: Services, key: str, message: dict[str, Any]) -> DeadLetter:
    """What a dead letter is: its message, its job, and the job's last word on why."""
    body = _body(message)
    fields = body if isinstance(body, dict) else {}
    job_id = fields.get("jobId") if isinstance(fields.get("jobId"), str) else None
    attributes = message.get("Attributes") or {}
    letter = DeadLetter(
        message_id=message["MessageId"],
        queue=key,
        kind=str(fields["kind"]) if "kind" in fields else None,
        job_id=job_id,
        attempt=fields.get("attempt") if isinstance(fields.get("attempt"), int) else None,
        receive_count=int(attributes["ApproximateReceiveCount"]) if "ApproximateReceiveCount" in attributes else None,
        sent_at=attributes.get("SentTimestamp"),
        body=body,
    )
    job = services.jobs.get(job_id) if job_id and len(job_id) <= 64 else None
    if job is None:
        return letter.model_copy(update={"reason": "no such job" if job_id else "not a job message"})
    newest = services.jobs.log_page(job.id, limit=1).items
    return letter.model_copy(update={"job_status": job.status.value, "reason": newest[-1].message if newest else None})


def peek(services: Services, principal: Principal, key: str) -> list[DeadLetter]:
    principal.require_admin()
    _, dead = queue_urls(services, key)
    messages = _receive(dead, MAX_MESSAGES)
    try:
        return [describe(services, key, message) for message in messages]
    finally:
        _make_visible(dead, messages)


def replay(services: Services, principal: Principal, request: ReplayRequest) -> tuple[list[DeadLetter], list[str]]:
    """Sends the chosen dead letters back to their queue; (what was replayed, ids not found on the DLQ)."""
    principal.require_admin()
    queue, dead = queue_urls(services, request.queue)
    messages = _receive(dead, MAX_MESSAGES)
    wanted = set(request.ids) if request.ids is not None else {m["MessageId"] for m in messages}
    chosen = [m for m in messages if m["MessageId"] in wanted]
    _make_visible(dead, [m for m in messages if m["MessageId"] not in wanted])
    sqs, replayed = client("sqs"), []
    try:
        for message in chosen:
            letter = describe(services, request.queue, message)
            attributes = message.get("MessageAttributes")
            sqs.send_message(
                QueueUrl=queue, MessageBody=message["Body"], **({"MessageAttributes": attributes} if attributes else {})
            )
            sqs.delete_message(QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"])
            replayed.append(letter)
    finally:
        done = {letter.message_id for letter in replayed}
        _make_visible(dead, [m for m in chosen if m["MessageId"] not in done])
        not_found = sorted(wanted - {m["MessageId"] for m in messages}) if request.ids is not None else []
        audit.record(
            principal,
            "dead_letters.replayed",
            f"queue:{request.queue}",
            {
                "replayed": [{"messageId": x.message_id, "jobId": x.job_id, "kind": x.kind} for x in replayed],
                "notFound": not_found,
            },
        )
    return replayed, not_found
