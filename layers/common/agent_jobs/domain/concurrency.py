"""Per-agent ``maxConcurrency`` and per-user fairness for the execute step (DESIGN.md §18, issue 18 item 4).

Both are pools of lease slots (``repositories/slots.py``): a conditional put takes a slot only while fewer than
the pool's capacity are live, and every slot carries an expiry, so the count stays right under at-least-once
delivery and crashes without a janitor.

**Agent pool** (``agent#<id>``, capacity ``maxConcurrency``; agents without one have no pool): one slot per
attempt in flight to the agent, held by ``<jobId>#<attempt>``. A sync call holds it for the call; its expiry is
the claim's lease, so a crashed invocation's slot frees when the sweeper would call the attempt dead. An async
attempt the agent accepted (202) keeps it until the attempt settles — its completion callback
(:func:`~agent_jobs.domain.execution.hand_to_judge`) or any transition that ends the parked attempt
(:func:`attempt_ended`, called by ``lifecycle.apply``: a failed callback, the sweeper, a deadline, a cancel, an
admin) — and at the latest at the end of its run (``claimedAt + maxRunSeconds``).

**User pool** (``user#<id>``, capacity ``MAX_INVOCATIONS_PER_USER``, default half the execute mapping's maximum
concurrency): one slot per execute *invocation* that runs any of the user's calls, held by the invocation's
request id until the invocation ends (at the latest the function's timeout). Invocations, not calls, because an
invocation lasts as long as the slowest record of its batch: one running call holds the whole invocation, so a
cap on calls would let one user's calls spread over every invocation. The guarantee: one user's calls run in at
most that many invocations at once, so at least ``maximum concurrency - cap`` invocations of each execute
mapping keep polling for everybody else; a message beyond the cap costs a Query and a re-send, not a slot, and
another user's job is received as soon as those invocations reach it, and runs at once unless its own user
is at the cap or its agent is busy. (Within the cap a user still gets a whole batch — ten calls — per
invocation.)

A message that finds its agent or its user at capacity is not failed: :class:`Deferred` tells the handler to
send it again with ``DelaySeconds`` (backoff with jitter, up to ``CONCURRENCY_WAIT_CAP_SECONDS``) and a wait
count, and to let the original be deleted. A fresh message starts at receive count 1, so waiting never counts
toward the DLQ's ``maxReceiveCount`` and never ages out of retention; queue time never fails a job.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from agent_jobs.catalog import QUEUES
from agent_jobs.integrations.requeue import WAITS_ATTRIBUTE, send_again
from agent_jobs.models.agents import Agent
from agent_jobs.models.base import parse_time
from agent_jobs.models.jobs import Job, JobStatus
from agent_jobs.observability import logger
from agent_jobs.repositories.slots import Slot, SlotRepository
from agent_jobs.settings import Settings

TRIES = 3  # a take that lost a race to another taker reads the pool again
INVOCATION_MARGIN_SECONDS = 5.0  # a user slot outlives its invocation's deadline by this much


def agent_pool(agent_id: str) -> str:
    return f"agent#{agent_id}"


def user_pool(user_id: str) -> str:
    return f"user#{user_id}"


def holder_of(job: Job) -> str:
    """Who holds an agent slot: the attempt (a redelivery of its message is the same holder)."""
    return f"{job.id}#{job.attempt}"


def user_capacity(settings: Settings) -> int:
    """How many execute invocations one user's calls may run in at once."""
    if settings.max_invocations_per_user:
        return settings.max_invocations_per_user
    execute = next(spec for spec in QUEUES if spec.key == "execute")
    return max(1, execute.max_concurrency // 2)


@dataclass(frozen=True)
class Hold:
    """An attempt's agent slot (``slot`` None: the agent has no limit). ``fresh``: taken by this delivery
    (False: the attempt already held it — a redelivery after a crash, or a duplicate of a running attempt)."""

    slot: Slot | None
    fresh: bool = False


@dataclass(frozen=True)
class Deferred:
    """The message must wait: its agent or its user is at capacity."""

    why: str


def _take(pool: str, capacity: int, holder: str, expires: float) -> Hold | None:
    """A slot of ``pool`` for ``holder``: the one it holds already, or a free or expired one; None when full."""
    repository = SlotRepository()
    for _ in range(TRIES):
        now = time.time()
        slots = repository.held(pool)
        mine = next((s for s in slots if s.holder == holder and s.expires >= now), None)
        if mine is not None:
            return Hold(mine)
        live = {s.index for s in slots if s.expires >= now}
        if len(live) >= capacity:
            return None
        free = [index for index in range(capacity) if index not in live]
        slot = Slot(pool, random.choice(free), holder, expires)  # noqa: S311 - spreads takers, not a secret
        if repository.take(slot, now=now):
            return Hold(slot, fresh=True)
    return None


def acquire_agent_slot(agent: Agent, job: Job, lease_seconds: float) -> Hold | None:
    """The attempt's slot with its agent until ``lease_seconds`` from now; None when the agent is busy."""
    if not agent.max_concurrency:
        return Hold(None)
    return _take(agent_pool(agent.id), agent.max_concurrency, holder_of(job), time.time() + lease_seconds)


def keep_for_run(hold: Hold, agent: Agent, claimed_at: str | None) -> bool:
    """An accepted async attempt keeps its slot until the end of its run (it settles sooner, and frees it then).
    False: the slot was given back meanwhile (its callback was faster than this)."""
    if hold.slot is None:
        return True
    start = parse_time(claimed_at).timestamp() if claimed_at else time.time()
    return SlotRepository().extend(hold.slot, start + agent.max_run_seconds)


def release(hold: Hold) -> None:
    """Gives the attempt's slot back. Never raises: a slot that could not be given back frees at its lease."""
    if hold.slot is None:
        return
    try:
        SlotRepository().give_back(hold.slot)
    except Exception:
        logger.exception("giving an agent slot back failed; it frees at its lease", extra={"pool": hold.slot.pool})


def release_attempt(job: Job) -> None:
    """Frees whatever agent slot the job's current attempt holds (an async attempt that settled). Never raises."""
    if not job.assigned_agent_id:
        return
    try:
        repository, holder = SlotRepository(), holder_of(job)
        for slot in repository.held(agent_pool(job.assigned_agent_id)):
            if slot.holder == holder:
                repository.give_back(slot)
    except Exception:
        logger.exception(
            "freeing a settled attempt's agent slot failed; it frees at its lease", extra={"job_id": job.id}
        )


def attempt_ended(before: Job, after: Job) -> None:
    """Called for every transition: a parked async attempt that the transition ends (FAILED, CANCELLED, a new
    attempt, …) gives its agent slot back. Sync attempts give theirs back when their call returns."""
    ended = after.status != JobStatus.IN_PROGRESS or after.attempt != before.attempt
    if ended and before.status == JobStatus.IN_PROGRESS and before.waiting_for == "agent":
        release_attempt(before)


@dataclass
class UserGate:
    """The user pool's side of one execute invocation: which users' calls it runs (each holding one of their
    user slots until :meth:`close`), and which it found at their cap."""

    holder: str  # the invocation's request id
    expires: float  # epoch seconds: the invocation's deadline plus a margin
    capacity: int
    admitted: dict[str, Hold] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def admit(self, user_id: str) -> bool:
        """Whether this invocation may run a call of ``user_id`` (taking a user slot on the first one)."""
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:  # a batch's records run concurrently: one take per user and invocation
            if user_id in self.admitted:
                return True
            if user_id in self.refused:
                return False
            hold = await asyncio.to_thread(_take, user_pool(user_id), self.capacity, self.holder, self.expires)
            if hold is None:
                self.refused.add(user_id)
                return False
            self.admitted[user_id] = hold
            return True

    def close(self) -> None:
        """The invocation is over: every user slot it took is given back. Never raises."""
        for hold in self.admitted.values():
            if hold.fresh:
                release(hold)
        self.admitted.clear()


def user_gate(settings: Settings, request_id: str, remaining_millis: int) -> UserGate:
    expires = time.time() + remaining_millis / 1000 + INVOCATION_MARGIN_SECONDS
    return UserGate(request_id, expires, user_capacity(settings))


def waits_of(record: SQSRecord) -> int:
    """How often the message already waited for a busy agent or user (the attribute its re-sends carry)."""
    attributes: dict[str, Any] = record.raw_event.get("messageAttributes") or {}
    value = str((attributes.get(WAITS_ATTRIBUTE) or {}).get("stringValue") or "0")
    return int(value) if value.isdigit() else 0


def wait_seconds(waits: int, cap: int) -> int:
    """Whole seconds (SQS's ``DelaySeconds``) before the next try: full jitter over ``1 … min(cap, 2**waits)``."""
    return random.randint(1, max(1, min(cap, 2 ** min(waits, 10))))  # noqa: S311 - jitter, not a secret


def wait_again(settings: Settings, record: SQSRecord, deferred: Deferred) -> None:
    """Sends the record's message again, delayed, with its wait count; the original is then deleted as done."""
    waits = waits_of(record)
    delay = wait_seconds(waits, settings.concurrency_wait_cap_seconds)
    send_again(_queue_url(settings, record.event_source_arn), record.body, delay_seconds=delay, waits=waits + 1)
    logger.info(f"execute message waits {delay} s: {deferred.why}", extra={"waits": waits + 1})


def _queue_url(settings: Settings, queue_arn: str) -> str:
    name = queue_arn.rsplit(":", 1)[-1]
    for url in (settings.execute_queue_url, settings.execute_high_queue_url):
        if url and url.rstrip("/").rsplit("/", 1)[-1] == name:
            return url
    raise LookupError(f"no execute queue is named {name}")
