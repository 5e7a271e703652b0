"""The webhook retry rules (domain/webhook_delivery.py), without AWS: exponential backoff with jitter, capped,
Retry-After honoured, and GAVE_UP when the next try would fall outside the 24 h window."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from agent_jobs.domain.webhook_delivery import backoff_seconds, outcome
from agent_jobs.integrations.webhook_sender import SendResult
from agent_jobs.models.webhooks import DeliveryStatus
from agent_jobs.settings import Settings

SETTINGS = Settings()  # base 5 s, cap 30 min, window 24 h
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_the_backoff_doubles_within_a_jittered_band_up_to_the_cap() -> None:
    rng = random.Random(7)
    for tries in range(1, 20):
        ceiling = min(SETTINGS.webhook_retry_cap_seconds, SETTINGS.webhook_retry_base_seconds * 2 ** (tries - 1))
        samples = [backoff_seconds(tries, SETTINGS, rng) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len({round(s, 3) for s in samples}) > 100  # jittered: receivers are not hit in lockstep
    assert backoff_seconds(1, SETTINGS, rng) <= 5 and backoff_seconds(30, SETTINGS, rng) <= 1800


def test_24_hours_of_retries_is_a_bounded_number_of_tries() -> None:
    rng = random.Random(1)
    elapsed, tries = 0.0, 0
    while elapsed < 24 * 3600:
        tries += 1
        elapsed += backoff_seconds(tries, SETTINGS, rng)
    assert 45 <= tries <= 110  # and models.webhooks keeps the newest 50 attempts in the log


def _result(status: int | None, *, retryable: bool, retry_after: float | None = None) -> SendResult:
    return SendResult(status, 12.0, None if status == 200 else "failed", retryable, retry_after)


def test_what_an_answer_means() -> None:
    decide = lambda result, tries=1, since=NOW: outcome(  # noqa: E731
        result, failed_tries=tries, window_from=since, now=NOW, settings=SETTINGS, rng=random.Random(3)
    )
    assert decide(_result(200, retryable=False)).status is DeliveryStatus.DELIVERED
    assert decide(_result(400, retryable=False)).status is DeliveryStatus.FAILED
    retrying = decide(_result(503, retryable=True))
    assert retrying.status is DeliveryStatus.RETRYING and 2.5 <= (retrying.retry_in_seconds or 0) <= 5
    assert decide(_result(None, retryable=True)).status is DeliveryStatus.RETRYING  # a timeout
    slow_down = decide(_result(429, retryable=True, retry_after=120))
    assert slow_down.retry_in_seconds == 120
    capped = decide(_result(429, retryable=True, retry_after=10**9))
    assert capped.retry_in_seconds == SETTINGS.webhook_retry_cap_seconds
    late = decide(_result(503, retryable=True), tries=20, since=NOW - timedelta(hours=23, minutes=50))
    assert late.status is DeliveryStatus.GAVE_UP and late.retry_in_seconds is None
