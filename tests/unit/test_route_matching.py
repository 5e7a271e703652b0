"""Route matching of the route table (the local gateway and the tests route by it): a literal path segment wins
over a ``{param}`` in the same place, as API Gateway and Powertools' resolver choose."""

from __future__ import annotations

import pytest

from agent_jobs import catalog
from agent_jobs.catalog import Access, Route


def test_a_literal_segment_wins_whatever_the_table_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk routes (``/api/jobs/bulk/cancel``) fit ``/api/jobs/{id}/cancel`` too: the literal one must win,
    as API Gateway and Powertools choose, even when the table lists the pattern first."""
    table = (
        Route("POST", "/api/jobs/{id}/cancel", "create_job", Access.USER),
        Route("GET", "/api/jobs/{id}/cancel", "create_job", Access.USER),
        Route("POST", "/api/jobs/bulk/cancel", "create_job", Access.USER),
        Route("POST", "/api/{area}/bulk/cancel", "create_job", Access.USER),
    )
    monkeypatch.setattr(catalog, "ROUTES", table)
    found = catalog.match_route("POST", "/api/jobs/bulk/cancel")
    assert found is not None and found[0].path == "/api/jobs/bulk/cancel" and found[1] == {}
    single = catalog.match_route("POST", "/api/jobs/job-1/cancel")
    assert single is not None and (single[0].path, single[1]) == ("/api/jobs/{id}/cancel", {"id": "job-1"})
    other = catalog.match_route("POST", "/api/other/bulk/cancel")
    assert other is not None and other[1] == {"area": "other"}
    assert catalog.methods_of("/api/jobs/bulk/cancel") == ["POST"]
    assert catalog.methods_of("/api/jobs/job-1/cancel") == ["GET", "POST"]


def test_the_real_tables_literal_paths_reach_their_routes() -> None:
    for prefix in catalog.JOB_PREFIXES:
        found = catalog.match_route("POST", f"{prefix}/batch")
        assert found is not None and found[0].path == f"{prefix}/batch" and found[1] == {}
    imported = catalog.match_route("POST", "/api/admin/agents/import")
    assert imported is not None and imported[0].path == "/api/admin/agents/import"
    assert catalog.methods_of("/api/admin/agents/import") == ["POST"]
