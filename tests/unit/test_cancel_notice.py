"""The cancel notice to an agent's ``cancelUrl`` is SSRF-guarded at call time, like every agent call: an unsafe
URL is refused before anything is sent, and the outcome is words for the job's log (never an exception)."""

from __future__ import annotations

import pytest

from agent_jobs.integrations.cancel_notice import CancelNotice, notify


@pytest.mark.parametrize(
    ("url", "allow_loopback"),
    [
        ("http://169.254.169.254/latest/meta-data/", True),  # link-local metadata service, even locally
        ("http://10.0.0.7/cancel", True),  # private, and http to a non-loopback host
        ("http://127.0.0.1:9/cancel", False),  # loopback only where the local stack allows it
        ("https://user:pw@example.com/cancel", False),  # credentials in the URL
        ("file:///etc/passwd", False),
    ],
)
def test_an_unsafe_cancel_url_is_refused_before_sending(url: str, allow_loopback: bool) -> None:
    outcome = notify(
        CancelNotice(url, "whsec-test-secret-0123456789", "job-1", 2, "why"), allow_loopback=allow_loopback
    )
    assert outcome.startswith("the agent was not told: unsafe cancelUrl"), outcome
    assert "pw" not in outcome


def test_an_unreachable_agent_is_reported_not_raised() -> None:
    outcome = notify(CancelNotice("http://127.0.0.1:9/cancel", "s" * 20, "job-1", 1, None), allow_loopback=True)
    assert outcome == "the agent was not told: ConnectError"
