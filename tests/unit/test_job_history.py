"""The job item's compact history (repositories/job_history.py): what an entry keeps, what goes to its detail,
and how entries and job_logs items merge into one history."""

from __future__ import annotations

from typing import Any

from agent_jobs.models.jobs import JobLog, LogKind
from agent_jobs.repositories import job_history
from agent_jobs.repositories.job_logs import log_record, new_log_id


def log(at: str, kind: LogKind = LogKind.IN_PROGRESS, message: str = "m", attempt: int = 1, **fields: Any) -> JobLog:
    return JobLog(
        id=new_log_id(attempt, at),
        job_id="job",
        status=kind,
        message=message,
        attempt=attempt,
        created_at=at,
        **fields,
    )


def test_an_entry_keeps_what_the_api_shows_of_a_log_without_payloads() -> None:
    original = log("2026-12-02T10:00:00.000Z", LogKind.ASSIGNED, "assigned", attempt=0, agent_id="a1", actor="alice")
    assert not job_history.has_detail(original)
    assert job_history.decode("job", job_history.encode(original)) == original


def test_payloads_latency_and_long_messages_make_a_detail_and_the_entry_stays_short() -> None:
    at = "2026-12-02T10:00:00.000Z"
    assert job_history.has_detail(log(at, request_payload={"x": 1}))
    assert job_history.has_detail(log(at, response_payload=[]))
    assert job_history.has_detail(log(at, latency_ms=3.5))
    long = log(at, message="é" * 300)
    assert job_history.has_detail(long)
    entry = job_history.decode("job", job_history.encode(long))
    assert entry.message == "é" * job_history.MESSAGE_CHARS
    assert len(job_history.encode(long).encode()) < 500


def test_entries_come_back_newest_first_with_their_attempt_and_time() -> None:
    first = log("2026-12-02T10:00:00.000Z", LogKind.PENDING, attempt=0)
    second = log("2026-12-02T10:00:01.000Z", attempt=1)
    decoded = job_history.entries("job", [job_history.encode(first), job_history.encode(second)])
    assert [entry.id for entry in decoded] == [second.id, first.id]
    assert (decoded[0].attempt, decoded[0].created_at) == (1, "2026-12-02T10:00:01.000Z")
    assert job_history.entries("job", None) == []
    assert job_history.ids([job_history.encode(first), job_history.encode(second)]) == {first.id, second.id}


def test_a_detail_replaces_its_entry_an_orphan_is_skipped_and_a_log_of_its_own_is_kept() -> None:
    created = log("2026-12-02T10:00:00.000Z", LogKind.PENDING, attempt=0)
    answered = log("2026-12-02T10:00:02.000Z", LogKind.AGENT_RESPONSE, attempt=1, response_payload={"out": 1})
    note = log("2026-12-02T10:00:03.000Z", LogKind.ADMIN_ACTION, attempt=1)  # add_log: no entry
    orphan = log("2026-12-02T10:00:04.000Z", LogKind.FAILED, attempt=1, response_payload={"e": 1})  # its write lost
    compact = job_history.entries("job", [job_history.encode(created), job_history.encode(answered)])
    records = [log_record(orphan, detail=True), log_record(note), log_record(answered, detail=True)]  # newest first
    merged = list(job_history.merge_newest_first(compact, records))
    assert [entry.id for entry, _ in merged] == [note.id, answered.id, created.id]
    by_id = {entry.id: (entry, size) for entry, size in merged}
    assert by_id[answered.id][0].response_payload == {"out": 1} and by_id[answered.id][1] > 0
    assert by_id[created.id] == (created, 0)


def test_entries_without_details_merge_in_order_with_no_items_at_all() -> None:
    logs = [log(f"2026-12-02T10:00:0{second}.000Z") for second in range(3)]
    compact = job_history.entries("job", [job_history.encode(entry) for entry in logs])
    assert [entry for entry, _ in job_history.merge_newest_first(compact, [])] == logs[::-1]
