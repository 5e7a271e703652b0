"""The stats tab's charts in headless Chromium against the local stack: jobs per hour by status, answer latency
percentiles and acceptance rate per agent, each drawn from the very answer of GET /api/admin/stats the page received
(bars, labels and the numbers table checked against it). The screenshot is
``test-output/screenshots/console-stats-charts.png``."""
# ruff: noqa: F811 - the browser fixtures are imported from test_admin_page_browser and requested by name

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import RunningStack, wait_status
from tests.e2e.test_admin_page_browser import (  # noqa: F401 - pytest fixtures used by name
    SCREENSHOTS,
    Tab,
    browser,
    sign_in_admin,
    tab,
)
from tests.e2e.test_seed_004 import SIMPLE_TASK, create

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SCREENSHOT = SCREENSHOTS / "console-stats-charts.png"
PERCENTILES = ("p50", "p90", "p95", "p99")


def open_stats(page: Page, hours: int | None = None) -> dict[str, Any]:
    """Opens (or re-ranges) the stats tab; the stats the page was answered, once its charts are drawn."""
    suffix = f"?hours={hours or 24}"
    answered = lambda r: r.url.endswith(f"/api/admin/stats{suffix}") and r.status == 200  # noqa: E731
    # the answer reads the window's histories (15 jobs): on a loaded 2-core machine running other stacks it took
    # over Playwright's 15 s once (the page drew it later); a person would still see it
    with page.expect_response(answered, timeout=45_000) as answer:
        if hours is None:
            page.get_by_test_id("tab-stats").click()
        else:
            page.get_by_test_id("stats-hours").select_option(str(hours))
    stats: dict[str, Any] = answer.value.json()["stats"]
    expect(page.locator("#stats-view").get_by_test_id("loading")).to_have_count(0)
    expect(page.get_by_test_id("stats-charts")).to_be_visible()
    return stats


def bar_values(chart: Locator, *keys: str) -> list[tuple[Any, ...]]:
    bars = chart.locator('[data-testid="bar"]')
    found = bars.evaluate_all(f"(bars) => bars.map((b) => {list(keys)!r}.map((k) => b.getAttribute(k)))")
    return sorted(tuple(row) for row in found)


def check_jobs_per_hour(page: Page, stats: dict[str, Any]) -> None:
    figure = stats["jobsPerHour"]
    chart = page.get_by_test_id("chart-jobs-per-hour")
    expected = sorted(
        (bucket["hour"], status, str(count))
        for bucket in figure["buckets"]
        for status, count in bucket["byStatus"].items()
    )
    assert expected, figure  # the jobs of this test are in it
    assert bar_values(chart, "data-category", "data-series", "data-value") == expected
    step = next(step for step in (1, 2, 3, 4, 6, 12, 24) if len(figure["buckets"]) / step <= 12)
    expect(chart.get_by_test_id("category-label")).to_have_count(math.ceil(len(figure["buckets"]) / step))
    svg = chart.get_by_test_id("chart-jobs-per-hour-svg")
    expect(svg).to_have_attribute("role", "img")
    expect(svg.locator("title").first).to_contain_text("Jobs created per hour")
    statuses = {status for bucket in figure["buckets"] for status in bucket["byStatus"]}
    expect(chart.get_by_test_id("chart-jobs-per-hour-legend").locator("li")).to_have_count(len(statuses))
    expect(chart.get_by_test_id("chart-jobs-per-hour-table").locator("tbody tr")).to_have_count(len(figure["buckets"]))


def test_the_stats_tab_draws_the_three_charts_from_the_api(
    tab: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client
) -> None:
    jobs = [create(user, {**SIMPLE_TASK, "taskDescription": f"Stats chart job {n}"}) for n in range(3)]
    for created in jobs:
        wait_status(user, created["id"], "COMPLETED")
    create(user, {**SIMPLE_TASK, "taskDescription": "Waits for an agent", "autoAssign": False})  # stays PENDING

    page = tab.page
    sign_in_admin(page, stack)
    stats = open_stats(page)

    check_jobs_per_hour(page, stats)
    per_status: dict[str, int] = {}
    for bucket in stats["jobsPerHour"]["buckets"]:
        for status, count in bucket["byStatus"].items():
            per_status[status] = per_status.get(status, 0) + count
    assert per_status.get("COMPLETED", 0) >= 3 and per_status.get("PENDING", 0) >= 1, per_status

    # latency percentiles: a group of four bars for all agents, then one per agent that answered
    latency = stats["latencyPercentiles"]
    chart = page.get_by_test_id("chart-latency")
    groups = [("all", latency["overall"])] + [(agent["agentId"], agent) for agent in latency["byAgent"]]
    assert latency["overall"]["samples"] >= 3, latency
    expected = sorted((key, p, _number(figures[p])) for key, figures in groups for p in PERCENTILES)
    found = [(key, p, _number(value)) for key, p, value in bar_values(chart, "data-group", "data-key", "data-value")]
    assert sorted(found) == expected
    labels = chart.get_by_test_id("group-label")
    expect(labels).to_have_count(len(groups))
    expect(labels.first).to_have_text("All agents")
    expect(chart.get_by_test_id("chart-latency-table").locator("tbody tr")).to_have_count(len(groups))

    # acceptance rate per agent: one row per agent, a bar for each agent the judge has passed or failed
    agents = stats["agents"]
    chart = page.get_by_test_id("chart-acceptance")
    expect(chart.get_by_test_id("row-label")).to_have_count(len(agents))
    judged = [agent for agent in agents if agent["judged"]]
    assert judged, agents
    expected_rates = sorted((a["agentId"], _number(a["acceptanceRate"])) for a in judged)
    assert sorted((k, _number(v)) for k, v in bar_values(chart, "data-key", "data-value")) == expected_rates
    first = judged[0]
    accepted = round(first["acceptanceRate"] * first["judged"])
    expect(chart.get_by_test_id("value-label").nth(agents.index(first))).to_have_text(
        f"{first['acceptanceRate'] * 100:.1f}% · {accepted} of {first['judged']}"
    )

    # the numbers stay readable as text, and the old tables are still there
    page.get_by_test_id("chart-card-jobs-per-hour").locator("details.chart-numbers summary").click()
    expect(page.get_by_test_id("chart-jobs-per-hour-table")).to_be_visible()
    page.get_by_test_id("chart-card-jobs-per-hour").locator("details.chart-numbers summary").click()
    expect(page.get_by_test_id("stat-jobsByStatus")).to_be_visible()
    expect(page.get_by_test_id("stat-agents")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    print(f"screenshot: {SCREENSHOT} (the stats tab's charts)")

    # a week: 168 hourly bars' worth of buckets, one label a day
    week = open_stats(page, 168)
    assert week["jobsPerHour"]["hours"] == 168
    check_jobs_per_hour(page, week)
    expect(page.get_by_test_id("stats-hours")).to_have_value("168")


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)
