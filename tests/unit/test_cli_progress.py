"""What ``watch`` shows and how it waits: the progress bar, plain lines off a terminal, escaped control characters,
polling with backoff, and the WebSocket feed between re-reads."""

from __future__ import annotations

import io
from typing import Any

import pytest

from agent_jobs_cli import render
from agent_jobs_cli.watch import FIRST_POLL_SECONDS, MAX_POLL_SECONDS, RESYNC_SECONDS, Display, follow, next_poll


def job(status: str, **fields: Any) -> dict[str, Any]:
    return {"id": "j-1", "status": status, "attempt": 1, "maxAttempts": 3, **fields}


def test_the_bar_follows_the_agents_progress_then_fills_when_done() -> None:
    assert render.progress_bar(job("IN_PROGRESS", progress=0.4, progressMessage="indexing"), width=10) == (
        "[####......]   40%  IN_PROGRESS  attempt 1/3  indexing"
    )
    assert render.fraction(job("PENDING")) < render.fraction(job("ASSIGNED")) < render.fraction(job("IN_PROGRESS"))
    assert render.fraction(job("IN_PROGRESS", progress=True)) == 0.5  # not a number: the stage's step
    assert render.fraction(job("IN_PROGRESS", progress=7)) == 0.5  # out of range: ignored
    assert render.progress_bar(job("COMPLETED"), width=4).startswith("[####]  100%")


def test_terminal_escapes_in_api_text_are_shown_escaped() -> None:
    hostile = job("IN_PROGRESS", progressMessage="\x1b[2J\x1b]0;pwned\x07 ok \u202e")
    for line in (render.progress_bar(hostile), render.status_line(hostile)):
        assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line
        assert "\\x1b[2J" in line
    detail = render.job_detail({"job": {**hostile, "name": "a\nb", "result": "line\x1b[31m"}})
    assert "\x1b" not in detail and "a\\nb" in detail


def test_off_a_terminal_each_change_is_one_plain_line() -> None:
    stream = io.StringIO()
    display = Display(stream, tty=False)
    for status in ("PENDING", "PENDING", "IN_PROGRESS", "COMPLETED"):
        display.show(job(status))
    display.end()
    assert stream.getvalue().splitlines() == [
        "j-1 PENDING attempt 1/3",
        "j-1 IN_PROGRESS attempt 1/3",
        "j-1 COMPLETED attempt 1/3",
    ]


def test_on_a_terminal_the_bar_is_redrawn_in_place() -> None:
    stream = io.StringIO()
    display = Display(stream, tty=True)
    display.show(job("IN_PROGRESS", progress=0.5))
    display.show(job("COMPLETED"))
    display.end()
    text = stream.getvalue()
    assert text.count("\r\x1b[2K") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "100%" in text


def test_polling_backs_off_while_nothing_changes_and_restarts_after_a_change() -> None:
    assert next_poll(FIRST_POLL_SECONDS, changed=True) == FIRST_POLL_SECONDS
    assert next_poll(FIRST_POLL_SECONDS, changed=False) > FIRST_POLL_SECONDS
    assert next_poll(MAX_POLL_SECONDS, changed=False) == MAX_POLL_SECONDS


def answers(*statuses: str) -> list[dict[str, Any]]:
    return [{"job": job(status)} for status in statuses]


def test_follow_polls_until_a_terminal_status() -> None:
    queue = answers("PENDING", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "RESUBMISSION_REQUIRED", "COMPLETED")
    shown: list[str] = []
    slept: list[float] = []
    final = follow(lambda: queue.pop(0), lambda j: shown.append(j["status"]), None, slept.append)
    assert final["job"]["status"] == "RESUBMISSION_REQUIRED"  # terminal for watch: the owner must act
    assert shown == ["PENDING", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "RESUBMISSION_REQUIRED"]
    assert slept[0] == slept[1] == FIRST_POLL_SECONDS  # after each change: the first interval
    assert slept[1] < slept[2] < slept[3]  # nothing changed: longer and longer


class FakeFeed:
    def __init__(self, events: int) -> None:
        self.events = events
        self.alive = True
        self.waits: list[float] = []

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        if self.events:
            self.events -= 1
            return True
        self.alive = False  # the socket closed: polling from here on
        return False

    def close(self) -> None:
        self.alive = False


def test_follow_waits_on_the_feed_and_falls_back_to_polling_when_it_closes() -> None:
    queue = answers("PENDING", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "CANCELLED")
    feed = FakeFeed(events=2)
    slept: list[float] = []
    final = follow(lambda: queue.pop(0), lambda _j: None, feed, slept.append)
    assert final["job"]["status"] == "CANCELLED"
    assert feed.waits == [RESYNC_SECONDS] * 3  # two events, then the close
    assert len(slept) == 1  # after the close: one poll interval, then the terminal answer


@pytest.mark.parametrize("status", ["PENDING", "ASSIGNED", "IN_PROGRESS"])
def test_a_job_on_its_way_is_not_terminal(status: str) -> None:
    from agent_jobs_cli.outcomes import outcome_of

    assert outcome_of(status) is None
