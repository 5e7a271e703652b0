import cProfile, pstats
from tests.integration.conftest import Api, drain

AGENT = {"name": "a1", "endpointUrl": "https://93.184.215.14/run", "secret": "s" * 20}

def test_speed(api: Api, admin: Api, aws) -> None:
    agent = admin.post("/api/admin/agents", AGENT).body["agent"]["id"]
    j = api.post("/api/jobs", {"description": "d", "autoAssign": False}).body["job"]["id"]
    j2 = api.post("/api/jobs", {"description": "d", "autoAssign": False}).body["job"]["id"]
    api.post(f"/api/jobs/{j}/assign", {"agentId": agent})
    p = cProfile.Profile(); p.enable()
    api.post(f"/api/jobs/{j2}/assign", {"agentId": agent})
    p.disable()
    pstats.Stats(p).sort_stats("cumulative").print_stats(35)
