"""POST /api/jobs/batch (DESIGN.md §16) through the create_job function on moto: up to 100 create bodies, one
result each, answered as POST /api/jobs would answer that body alone; and the route table's literal paths."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agent_jobs.catalog import match_route, methods_of
from agent_jobs.repositories.tables import JobRecord
from agent_jobs.services import services
from tests.fixtures.faults import failing
from tests.integration.conftest import Api, Reply

BAD_INDEX = 57


def body(n: int, **fields: Any) -> dict[str, Any]:
    return {"taskDescription": f"job number {n}", "inputData": {"n": n}, "autoAssign": False, **fields}


def stored_jobs(user: str) -> list[dict[str, Any]]:
    """What the table holds for the user (read from moto, not through the API under test)."""
    records = [JobRecord.get(key.id) for key in JobRecord.by_user.query(user)]
    return [{"id": r.id, "description": r.description, "template_id": r.template_id} for r in records]


def results_of(reply: Reply) -> list[dict[str, Any]]:
    assert reply.status == 207, reply.body
    assert reply.body["success"] is True
    found: list[dict[str, Any]] = reply.body["results"]
    return found


def test_a_batch_of_100_with_one_bad_body_creates_the_other_99(api: Api) -> None:
    bodies = [body(n) for n in range(100)]
    bodies[BAD_INDEX] = body(BAD_INDEX, priority=11)
    started = time.perf_counter()
    results = results_of(api.post("/api/jobs/batch", {"jobs": bodies}))
    elapsed = time.perf_counter() - started
    assert [r["index"] for r in results] == list(range(100))
    bad = results[BAD_INDEX]
    single = api.post("/api/jobs", bodies[BAD_INDEX])  # the single route's answer to the same body
    assert single.status == 400
    assert bad == {"index": BAD_INDEX, "status": 400, "error": single.body["error"]}
    assert bad["error"]["field"] == "priority"
    created = [r for r in results if r["status"] == 201]
    assert len(created) == 99
    assert all(r["job"]["description"] == f"job number {r['index']}" for r in created)
    stored = stored_jobs("alice")
    assert len(stored) == 99 and {s["id"] for s in stored} == {r["job"]["id"] for r in created}
    print(f"\n100 batch bodies created in {elapsed:.2f} s")  # the figure the report quotes


@pytest.mark.parametrize("count", [0, 101])
def test_an_empty_batch_or_one_over_100_is_400_and_creates_nothing(api: Api, count: int) -> None:
    reply = api.post("/api/jobs/batch", {"jobs": [body(n) for n in range(count)]})
    assert reply.status == 400, reply.body
    assert reply.body["error"]["field"] == "jobs"
    assert stored_jobs("alice") == []


def test_each_body_gets_the_error_the_single_route_gives(api: Api) -> None:
    bodies: list[dict[str, Any]] = [
        {"inputData": {}},  # no description
        body(1, agentId="no-such-agent"),  # a reference checked by the domain: 400 naming agentId
        body(2, webhookUrl="http://10.0.0.1/hook"),  # the SSRF guard
        body(3, unknownMember=True),
        {"templateId": "no-such-template"},  # 404
        body(5),
    ]
    results = results_of(api.post("/api/agent-jobs/batch", {"jobs": bodies}))
    for index, item in enumerate(bodies[:-1]):
        single = api.post("/api/jobs", item)
        assert results[index] == {"index": index, "status": single.status, "error": single.body["error"]}, index
    assert [r["status"] for r in results] == [400, 400, 400, 400, 404, 201]
    assert [s["description"] for s in stored_jobs("alice")] == ["job number 5"]  # nothing half-made by the others


def test_a_failure_of_one_body_never_blocks_the_others(api: Api) -> None:
    services()  # binds the tables: the client below is the one the handler writes with
    client = JobRecord._get_connection().connection.client
    with failing(client, "PutItem", code="ValidationException", times=1):  # body 0's job item
        results = results_of(api.post("/api/jobs/batch", {"jobs": [body(0), body(1), body(2)]}))
    assert [r["status"] for r in results] == [500, 201, 201]
    assert results[0]["error"]["code"] == "INTERNAL_ERROR"
    assert "injected" not in str(results[0])  # no dependency's text in an answer
    assert len(stored_jobs("alice")) == 2


def test_batch_bodies_use_templates(api: Api) -> None:
    template = api.post(
        "/api/templates",
        {"name": "greeting", "body": {"description": "Greet {{who}}", "autoAssign": False}},
    ).body["template"]
    bodies = [
        {"templateId": template["id"], "variables": {"who": "Ada"}},
        {"templateId": template["id"]},  # who is missing
        {"templateId": template["id"], "variables": {"who": "Grace"}, "priority": 9},
    ]
    results = results_of(api.post("/api/jobs/batch", {"jobs": bodies}))
    assert [r["status"] for r in results] == [201, 400, 201]
    assert results[1]["error"]["field"] == "variables.who"
    assert results[0]["job"]["description"] == "Greet Ada" and results[0]["job"]["templateId"] == template["id"]
    assert results[2]["job"]["description"] == "Greet Grace" and results[2]["job"]["priority"] == 9
    assert sorted(s["template_id"] for s in stored_jobs("alice")) == [template["id"]] * 2


def test_the_idempotency_key_covers_the_whole_batch(api: Api) -> None:
    batch = {"jobs": [body(n) for n in range(3)]}
    headers = {"Idempotency-Key": "batch-1"}
    first = api.post("/api/jobs/batch", batch, headers=headers)
    again = api.post("/api/jobs/batch", batch, headers=headers)
    assert first.status == again.status == 207
    assert again.body == first.body and again.headers["Idempotent-Replayed"] == "true"
    assert len(stored_jobs("alice")) == 3  # the retry made no job
    reused = api.post("/api/jobs/batch", {"jobs": [body(9)]}, headers=headers)
    assert reused.status == 422 and reused.body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(stored_jobs("alice")) == 3


def test_the_batch_path_is_the_batch_route_not_a_job_id(api: Api) -> None:
    route, params = match_route("POST", "/api/jobs/batch")  # type: ignore[misc]
    assert (route.path, params) == ("/api/jobs/batch", {})
    assert methods_of("/api/jobs/batch") == ["POST"]  # GET /api/jobs/batch would be the job "batch"
    assert api.get("/api/jobs/batch").status == 404  # no such job: the gateway's {id}, as in the cloud
