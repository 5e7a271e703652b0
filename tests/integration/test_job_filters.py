"""Tags, filters and paging of the job lists (issue 16, DESIGN.md §16), on moto through the real handlers.

Expected answers are computed here from the jobs as the API shows them, with the filter rules written out
again (not with the code's own ``JobFilter``), and every list is read page by page through ``nextToken``.
Reads are counted on the real botocore clients of the tables (an ``after-call`` hook), so the bound of a page
is asserted on what DynamoDB was asked, not on what the code says it does.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from pynamodb.exceptions import PutError

from agent_jobs.domain.lifecycle import make_log
from agent_jobs.models.base import utc_now
from agent_jobs.models.jobs import Job, JobStatus, LogKind
from agent_jobs.repositories.jobs import JobRepository
from agent_jobs.repositories.tables import JobRecord, JobTagRecord
from agent_jobs.services import reset, services
from tests.fixtures.faults import failing
from tests.integration.conftest import Api, Reply

PUBLIC_ENDPOINT = "https://93.184.215.14/agent"  # a public address literal: the SSRF guard needs no DNS


@pytest.fixture
def manual_start(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Assignment does not start the job, so ASSIGNED is a status a job stays in."""
    monkeypatch.setenv("AUTO_START_ON_ASSIGN", "false")
    reset()


def make_agent(admin: Api) -> str:
    body = {
        "name": f"agent-{uuid.uuid4().hex[:8]}",
        "endpointUrl": PUBLIC_ENDPOINT,
        "secret": "test-signing-secret-" + uuid.uuid4().hex,
        "jobTypes": [],
    }
    reply = admin.post("/api/admin/agents", body)
    assert reply.status == 201, reply.body
    return str(reply.body["agent"]["id"])


def new_job(api: Api, **body: Any) -> dict[str, Any]:
    reply = api.post("/api/jobs", {"description": "Summarise the report", "autoAssign": False, **body})
    assert reply.status == 201, reply.body
    job: dict[str, Any] = reply.body["job"]
    return job


def error_of(reply: Reply, status: int = 400) -> dict[str, Any]:
    assert reply.status == status, reply.body
    assert reply.body["success"] is False
    found: dict[str, Any] = reply.body["error"]
    return found


def every_page(api: Api, path: str, limit: int, query: dict[str, str]) -> list[list[dict[str, Any]]]:
    """Each page's jobs, following nextToken to the end."""
    found, token = [], None
    for _ in range(200):
        reply = api.get(path, query={"limit": str(limit), **query, **({"nextToken": token} if token else {})})
        assert reply.status == 200, (query, reply.body)
        assert reply.body["success"] is True and len(reply.body["jobs"]) <= limit
        found.append(reply.body["jobs"])
        token = reply.body["nextToken"]
        if token is None:
            return found
    raise AssertionError("the pages never ended")


def listed(api: Api, path: str, query: dict[str, str], limit: int = 2) -> list[dict[str, Any]]:
    """Every job of a list, asserting that no page repeats one."""
    jobs = [job for page in every_page(api, path, limit, query) for job in page]
    ids = [job["id"] for job in jobs]
    assert len(ids) == len(set(ids)), (query, ids)
    return jobs


def wanted(jobs: list[dict[str, Any]], query: dict[str, str]) -> set[str]:
    """The filter rules of DESIGN.md §16, written out: every member given must hold; createdAfter inclusive,
    createdBefore exclusive."""

    def fits(job: dict[str, Any]) -> bool:
        checks = {
            "status": lambda v: job["status"] == v,
            "jobType": lambda v: job["jobType"] == v,
            "tag": lambda v: v in job["tags"],
            "agentId": lambda v: job["assignedAgentId"] == v,
            "priority": lambda v: job["priority"] == int(v),
            "createdAfter": lambda v: job["createdAt"] >= v,
            "createdBefore": lambda v: job["createdAt"] < v,
        }
        return all(checks[name](value) for name, value in query.items())

    return {job["id"] for job in jobs if fits(job)}


# --- tags --------------------------------------------------------------------------------------------


def test_tags_are_stored_once_and_answered_on_the_job_and_in_summaries(api: Api) -> None:
    job = new_job(api, tags=["env: prod", "team:ml", "env:prod", "url:https://example.com/a b"])
    expected = ["env:prod", "team:ml", "url:https://example.com/a b"]  # canonical, a repeat kept once, in order
    assert job["tags"] == expected
    assert api.get(f"/api/jobs/{job['id']}").body["job"]["tags"] == expected
    (summary,) = api.get("/api/jobs").body["jobs"]
    assert summary["tags"] == expected
    assert new_job(api)["tags"] == []


@pytest.mark.parametrize(
    "tags",
    [
        ["Env:prod"],  # upper-case key
        ["env:"],  # no value
        ["env:   "],  # a value of whitespace only
        ["noseparator"],
        [":value"],
        ["k" * 65 + ":v"],  # key too long
        ["env:" + "v" * 129],  # value too long
        ["env:a\nb"],  # a control character
        ["env:zero\u200bwidth"],  # a format character: would look like another tag
        ["env:a\u2028b"],  # a line separator
        [f"n{i}:v" for i in range(11)],  # more than 10
        "env:prod",  # not a list
        [7],
    ],
)
def test_a_bad_tag_is_400_naming_tags_and_stores_nothing(api: Api, tags: Any) -> None:
    error = error_of(api.post("/api/jobs", {"description": "d", "autoAssign": False, "tags": tags}))
    assert error["field"].startswith("tags"), error
    assert api.get("/api/jobs").body["jobs"] == []


def test_a_tag_entry_whose_job_was_never_written_is_skipped(api: Api) -> None:
    """Tag entries are written before the job: when the job's own write fails, the entry left behind points at
    no job, and lists skip it rather than answer 500 or show a ghost."""
    api.get("/api/jobs")  # binds the tables, so the client below is the one the create uses
    client = JobRecord._get_connection().connection.client
    with failing(client, "PutItem", code="ValidationException", times=1), pytest.raises(PutError):
        api.post("/api/jobs", {"description": "d", "autoAssign": False, "tags": ["env:ghost"]})  # a 500 on Lambda
    assert JobTagRecord.count() == 2  # the owner's entry and the admins' are there...
    assert api.get("/api/jobs", query={"tag": "env:ghost"}).body == {"success": True, "jobs": [], "nextToken": None}
    kept = new_job(api, tags=["env:ghost"])
    assert [job["id"] for job in listed(api, "/api/jobs", {"tag": "env:ghost"})] == [kept["id"]]


# --- every filter and combination --------------------------------------------------------------------


@dataclass
class Dataset:
    agents: list[str]
    jobs: list[dict[str, Any]]  # every job as an admin sees it now
    alice: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def dataset(api: Api, admin: Api, manual_start: None) -> Dataset:
    """Jobs of alice and bob in four statuses, two types, three priorities, with and without tags and agents."""
    agents = [make_agent(admin), make_agent(admin)]
    tag_sets = [[], ["env:prod"], ["env:prod", "team:ml"], ["team:ml"]]
    ids = []
    for i in range(16):
        owner = api if i < 11 else api.as_user("bob")
        job = new_job(
            owner, jobType=["simple-task", "code-generation"][i % 2], priority=[3, 9, 5][i % 3], tags=tag_sets[i % 4]
        )
        agent = [None, agents[0], agents[1]][(i // 2) % 3]
        if agent is None:
            action = ["none", "complete", "cancel"][(i // 6 + i) % 3]
        else:
            action = ["assign", "assign+complete"][i % 2]
            assert owner.post(f"/api/jobs/{job['id']}/assign", {"agentId": agent}).status == 200
        if action.endswith("complete"):
            reply = admin.post(f"/api/admin/jobs/{job['id']}/complete", {"reason": "test", "result": {"ok": True}})
            assert reply.status == 200, reply.body
        if action == "cancel":
            assert owner.post(f"/api/jobs/{job['id']}/cancel", {"reason": "test"}).status == 200
        ids.append(job["id"])
    jobs = [admin.get(f"/api/admin/jobs/{job_id}").body["job"] for job_id in ids]
    assert {job["status"] for job in jobs} == {"PENDING", "ASSIGNED", "COMPLETED", "CANCELLED"}
    return Dataset(agents, jobs, [job for job in jobs if job["userId"] == "alice"])


def _queries(data: Dataset) -> list[dict[str, str]]:
    stamps = sorted(job["createdAt"] for job in data.alice)
    one_of_each = {
        "status": "COMPLETED",
        "jobType": "code-generation",
        "tag": "env:prod",
        "agentId": data.agents[0],
        "priority": "9",
        "createdAfter": stamps[2],
        "createdBefore": stamps[8],
    }
    queries = [dict(combo) for size in (0, 1, 2, 7) for combo in itertools.combinations(one_of_each.items(), size)]
    queries += [{"status": status} for status in ("PENDING", "ASSIGNED", "CANCELLED", "FAILED")]
    queries += [{"status": "PENDING", "tag": "team:ml"}, {"agentId": data.agents[1], "status": "ASSIGNED"}]
    queries += [{"tag": "team:ml", "createdAfter": stamps[3], "createdBefore": stamps[9], "priority": "5"}]
    return queries


def _assert_order(jobs: list[dict[str, Any]], key: str) -> None:
    stamps = [job[key] for job in jobs]
    assert stamps == sorted(stamps, reverse=True), key


def test_every_filter_and_combination_for_the_owner(api: Api, dataset: Dataset) -> None:
    for path in ("/api/jobs", "/api/agent-jobs"):
        for query in _queries(dataset):
            jobs = listed(api, path, query)
            assert {job["id"] for job in jobs} == wanted(dataset.alice, query), (path, query)
            assert {job["userId"] for job in jobs} <= {"alice"}  # another user's jobs never appear
            _assert_order(jobs, "createdAt")


def test_every_filter_and_combination_for_admins(admin: Api, dataset: Dataset) -> None:
    assert {job["userId"] for job in dataset.jobs} == {"alice", "bob"}
    for query in _queries(dataset):
        jobs = listed(admin, "/api/admin/jobs", query)
        assert {job["id"] for job in jobs} == wanted(dataset.jobs, query), query
        # newest first; with a status and no tag most recently changed first (the admins' status index)
        _assert_order(jobs, "updatedAt" if "status" in query and "tag" not in query else "createdAt")


def test_a_page_token_never_reaches_another_users_jobs(api: Api, dataset: Dataset) -> None:
    bob = api.as_user("bob")
    for query in ({}, {"status": "COMPLETED"}, {"tag": "env:prod"}):
        reply = api.get("/api/jobs", query={"limit": "1", **query})
        token = reply.body["nextToken"]
        assert token
        error = error_of(bob.get("/api/jobs", query={"limit": "1", "nextToken": token, **query}))
        assert error["field"] == "nextToken"


def test_paging_a_filtered_list_misses_nothing_and_repeats_nothing(api: Api) -> None:
    tagged = {new_job(api, tags=["batch:7"], priority=[2, 8][i % 2])["id"] for i in range(23)}
    new_job(api, tags=["batch:8"])
    for limit in (1, 4, 7, 23, 100):
        pages = every_page(api, "/api/jobs", limit, {"tag": "batch:7"})
        ids = [job["id"] for page in pages for job in page]
        assert len(ids) == len(set(ids)) and set(ids) == tagged, limit
        assert all(len(page) == limit for page in pages[:-1])  # the budget is never reached here: pages fill
    high = listed(api, "/api/jobs", {"tag": "batch:7", "priority": "8"}, limit=3)
    assert len(high) == 11 and all(job["priority"] == 8 for job in high)


# --- bounded reads ---------------------------------------------------------------------------------------


@dataclass
class Reads:
    calls: Counter[str] = field(default_factory=Counter)
    items: int = 0  # index entries and items DynamoDB read (Query's ScannedCount, BatchGetItem's items)
    entries: int = 0  # of them, those a Query read


@contextmanager
def counted_reads() -> Iterator[Reads]:
    """Every read the jobs and job_tags tables' clients make while inside."""
    reads = Reads()

    def count(**kwargs: Any) -> None:
        name, parsed = kwargs["model"].name, kwargs["parsed"]
        reads.calls[name] += 1
        if name in {"Query", "Scan"}:
            reads.items += int(parsed.get("ScannedCount", 0))
            reads.entries += int(parsed.get("ScannedCount", 0))
        elif name == "BatchGetItem":
            reads.items += sum(len(found) for found in parsed.get("Responses", {}).values())
        elif name == "GetItem":
            reads.items += 1 if parsed.get("Item") else 0

    clients = {id(c): c for c in (m._get_connection().connection.client for m in (JobRecord, JobTagRecord))}
    for client in clients.values():
        client.meta.events.register("after-call.dynamodb", count)
    try:
        yield reads
    finally:
        for client in clients.values():
            client.meta.events.unregister("after-call.dynamodb", count)


def seed(user: str, count: int, status: JobStatus, **fields: Any) -> list[str]:
    """``count`` jobs written through the repository's own create (as the API would store them)."""
    services()  # binds the tables to moto's
    jobs, ids = JobRepository(), []
    for _ in range(count):
        now = utc_now()
        job = Job(
            id=uuid.uuid4().hex, user_id=user, name="n", description="d", status=status, created_at=now, updated_at=now
        )
        job = job.model_copy(update=fields)
        jobs.create(job, [make_log(job, LogKind(status.value), "seeded", actor=user)])
        ids.append(job.id)
    return ids


def test_a_rare_status_among_many_jobs_is_one_small_query(api: Api) -> None:
    """Before: a status filter on a user's list read the whole by_user partition (here 122 entries and 122
    items by BatchGet) to find the 2 it answered. Now the owner's status index holds just those."""
    seed("alice", 120, JobStatus.COMPLETED)
    failed = set(seed("alice", 2, JobStatus.FAILED))
    seed("bob", 3, JobStatus.FAILED)
    with counted_reads() as reads:
        reply = api.get("/api/jobs", query={"status": "FAILED"})
    assert reply.status == 200 and {job["id"] for job in reply.body["jobs"]} == failed
    assert reply.body["nextToken"] is None
    assert reads.items <= 6, reads  # 2 index entries and 2 items (the old code: 244)
    assert sum(reads.calls.values()) <= 3 and "Scan" not in reads.calls, reads


def test_a_filter_without_an_index_reads_a_bounded_page_and_pages_on(api: Api) -> None:
    """priority has no index: each page reads at most 5 x limit (at least 100) index entries and those items,
    and says where to continue, so the rare matches are found over a few bounded requests."""
    rare = set(seed("alice", 2, JobStatus.PENDING, priority=10))  # the oldest: found last
    seed("alice", 150, JobStatus.PENDING)
    found: list[str] = []
    token = None
    requests = 0
    while True:
        requests += 1
        query = {"priority": "10", "limit": "20", **({"nextToken": token} if token else {})}
        with counted_reads() as reads:
            reply = api.get("/api/jobs", query=query)
        assert reply.status == 200, reply.body
        assert reads.items <= 2 * (100 + 1), reads  # the budget and a peek, as index entries and as items
        assert "Scan" not in reads.calls
        found += [job["id"] for job in reply.body["jobs"]]
        token = reply.body["nextToken"]
        if token is None:
            break
        assert requests < 10
    assert set(found) == rare and len(found) == 2
    assert requests == 2  # 152 entries, 100 a page


def test_status_and_created_range_for_the_owner_use_key_conditions(api: Api) -> None:
    """A created-at window is a key condition on the status index: the entries outside it are never read."""
    seed("alice", 60, JobStatus.COMPLETED)
    window = seed("alice", 3, JobStatus.COMPLETED)
    seed("alice", 60, JobStatus.COMPLETED)
    stamps = sorted(api.get(f"/api/jobs/{job_id}").body["job"]["createdAt"] for job_id in window)
    query = {"status": "COMPLETED", "createdAfter": stamps[0], "createdBefore": stamps[-1]}
    with counted_reads() as reads:
        reply = api.get("/api/jobs", query=query)
    got = {job["createdAt"] for job in reply.body["jobs"]}
    assert got and got <= set(stamps[:-1]) and stamps[-1] not in got  # createdBefore is exclusive
    assert reads.items <= 2 * (len(window) + 1), reads


# --- bad filters and position paging ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"tag": "Env:prod"}, "tag"),
        ({"tag": "env:"}, "tag"),
        ({"tag": "env:a\u200bb"}, "tag"),
        ({"priority": "0"}, "priority"),
        ({"priority": "11"}, "priority"),
        ({"priority": "high"}, "priority"),
        ({"agentId": "no spaces please"}, "agentId"),
        ({"createdAfter": "yesterday"}, "createdAfter"),
        ({"createdAfter": "2025-01-31T12:00:00"}, "createdAfter"),  # no zone: not UTC
        ({"createdAfter": "2025-01-31T12:00:00+02:00"}, "createdAfter"),
        ({"createdBefore": "2025-02-30T00:00:00Z"}, "createdBefore"),  # no such day
        ({"createdAfter": "2025-02-01", "createdBefore": "2025-01-01"}, "createdAfter"),
        ({"createdAfter": "2025-02-01", "createdBefore": "2025-02-01T00:00:00Z"}, "createdAfter"),  # empty window
    ],
)
def test_a_bad_filter_is_400_naming_it(api: Api, admin: Api, query: dict[str, str], field: str) -> None:
    for caller, path in ((api, "/api/jobs"), (api, "/api/agent-jobs"), (admin, "/api/admin/jobs")):
        assert error_of(caller.get(path, query=query))["field"] == field, (path, query)


def test_created_times_accept_every_utc_spelling(api: Api) -> None:
    job = new_job(api)
    for after in ("2020-01-01", "2020-01-01T00:00Z", "2020-01-01T00:00:00.123456Z", "2020-01-01T00:00:00+00:00"):
        assert [j["id"] for j in api.get("/api/jobs", query={"createdAfter": after}).body["jobs"]] == [job["id"]]
    assert api.get("/api/jobs", query={"createdBefore": "2020-01-01"}).body["jobs"] == []


LIST_ROUTES = [
    ("user", "/api/jobs"),
    ("user", "/api/agent-jobs"),
    ("user", "/api/agents"),
    ("user", "/api/webhooks"),
    ("admin", "/api/admin/jobs"),
    ("admin", "/api/admin/agents"),
    ("admin", "/api/admin/agent-checkpoints"),
    ("admin", "/api/admin/audit"),
]


@pytest.mark.parametrize("name", ["offset", "page", "Offset", "skip"])
def test_position_paging_is_refused_naming_next_token_on_every_list(api: Api, admin: Api, name: str) -> None:
    job = new_job(api)
    routes = [*LIST_ROUTES, ("user", f"/api/jobs/{job['id']}/logs")]
    for who, path in routes:
        caller = admin if who == "admin" else api
        error = error_of(caller.get(path, query={name: "20"}))
        assert error["field"] == name and "nextToken" in error["message"], (path, error)
        assert caller.get(path).status == 200, path  # the same list without it answers


def test_offset_zero_is_the_first_page_and_nothing_else(api: Api) -> None:
    """Seed 004's guide pages with ``?limit=10&offset=0``: that is the first page, answered as such; any other
    offset, or offset=0 beside a nextToken, is refused naming nextToken rather than ignored."""
    ids = [new_job(api)["id"] for _ in range(3)]
    first = api.get("/api/agent-jobs", query={"limit": "2", "offset": "0"})
    assert first.status == 200, first.body
    assert [job["id"] for job in first.body["jobs"]] == ids[::-1][:2]
    token = first.body["nextToken"]
    assert error_of(api.get("/api/agent-jobs", query={"limit": "2", "offset": "2"}))["field"] == "offset"
    beside = api.get("/api/agent-jobs", query={"limit": "2", "offset": "0", "nextToken": token})
    assert error_of(beside)["field"] == "offset"


def test_an_admins_status_filter_with_a_rare_type_reads_a_bounded_page(admin: Api) -> None:
    """Before: status + jobType for admins was a DynamoDB filter on the status index, read page after page until
    ``limit`` jobs matched — the whole partition when few do. Now a page reads at most the budget."""
    rare = set(seed("bob", 2, JobStatus.COMPLETED, job_type="code-generation"))
    seed("alice", 150, JobStatus.COMPLETED)
    found: list[str] = []
    token = None
    for _ in range(5):
        query = {"status": "COMPLETED", "jobType": "code-generation", **({"nextToken": token} if token else {})}
        with counted_reads() as reads:
            reply = admin.get("/api/admin/jobs", query=query)
        assert reply.status == 200, reply.body
        assert reads.entries <= 100 + 1 and reads.items - reads.entries <= 100 + 1, reads  # the old code: 152 entries
        found += [job["id"] for job in reply.body["jobs"]]
        token = reply.body["nextToken"]
        if token is None:
            break
    assert token is None and set(found) == rare
