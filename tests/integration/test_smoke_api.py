from tests.integration.conftest import Api, drain


def test_create_and_get(api: Api, aws: dict[str, str]) -> None:
    created = api.post(
        "/api/agent-jobs",
        {
            "jobType": "simple-task",
            "taskDescription": "Process user data",
            "inputData": {"userId": "user-123"},
            "priority": 5,
        },
    )
    assert created.status == 201, created.body
    job = created.body["job"]
    assert job["status"] == "PENDING" and job["taskDescription"] == "Process user data"
    got = api.get(f"/api/jobs/{job['id']}")
    assert got.status == 200, got.body
    assert [log["status"] for log in got.body["logs"]] == ["PENDING"]
    assert drain(aws["VALIDATE_QUEUE_URL"]) == [{"kind": "assign", "jobId": job["id"], "version": job["version"]}]
    listed = api.get("/api/jobs")
    assert listed.status == 200, listed.body
    assert [j["id"] for j in listed.body["jobs"]] == [job["id"]]
