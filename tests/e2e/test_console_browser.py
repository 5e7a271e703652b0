"""The console at /app (DESIGN.md §17, issue 16 item 2) in headless Chromium against the local stack: an owner
signs in, creates a job from a template and watches it complete on its page (live, over the socket), reads its
result preview, cancels another job, never sees another user's job (a deep link to it says "not found"), filters
their jobs, and opens deep links directly; an admin gets the admin views in the same console. The create form
checks its fields before sending. Screenshots of each page land in ``test-output/screenshots/console-*.png``."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import RunningStack, job, wait_for, wait_status
from tests.e2e.test_admin_page_browser import (
    SCREENSHOTS,
    Shots,
    Tab,
    agent_for,
    browser,  # noqa: F401 - the module's browser fixture
    confirm_dialog,
    open_tab,
    parked_job,
    show_success,
)
from tests.e2e.test_seed_004 import create

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LIVE_WITHIN_MS = 3_000  # well inside the 10 s poll: only an event frame on the socket brings the change in time
LONG_RUN_TIMEOUT = 90.0  # the example long-task agent's five steps of 6 s, on a loaded machine


class ConsoleShots(Shots):
    def take(self, page: Page, name: str, what: str, *, full_page: bool = True) -> Any:
        path = SCREENSHOTS / f"console-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.taken.append((path, what))
        return path


@pytest.fixture(scope="module")
def shots() -> Iterator[ConsoleShots]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield ConsoleShots()


@pytest.fixture
def tab(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Tab]:  # noqa: F811
    yield from open_tab(browser, request)


def console_url(stack: RunningStack, path: str = "") -> str:
    return f"{stack.api_url}/app{path}"


def sign_in(page: Page, stack: RunningStack, username: str, path: str = "") -> None:
    """Opens the console at ``path`` and signs in there (Cognito USER_PASSWORD_AUTH on moto)."""
    response = page.goto(console_url(stack, path))
    assert response is not None and response.status == 200
    expect(page.get_by_test_id("sign-in")).to_be_enabled()
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(stack.state["passwords"][username])
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("who")).to_have_text(username)


def expect_not_found_logged(tab: Tab) -> None:
    """The browser logs the API's 404 as a failed resource: expected when a job is not the viewer's."""
    refused = "Failed to load resource: the server responded with a status of 404"
    wait_for(lambda: any(refused in line for line in tab.console_errors), "the 404 in the console", timeout=10)
    assert all(refused in line for line in tab.console_errors), tab.console_errors
    tab.console_errors.clear()


def my_rows(page: Page) -> list[str]:
    return [str(r.get_attribute("data-id")) for r in page.locator("#panel-mine").get_by_test_id("job-row").all()]


def template(client: httpx.Client, body: dict[str, Any], name: str) -> dict[str, Any]:
    response = client.post(
        "/api/templates", json={"name": name, "description": "Made by the console test", "body": body}
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()["template"]
    return found


def tagged_job(client: httpx.Client, label: str, **extra: Any) -> str:
    payload = {"taskDescription": f"filter test {label} {uuid.uuid4().hex[:6]}", "autoAssign": False, **extra}
    return str(create(client, payload)["id"])


# --- the tests -----------------------------------------------------------------------------------------


def test_an_owner_signs_in_at_app_and_sees_their_jobs_only(
    tab: Tab, stack: RunningStack, user: httpx.Client, user2: httpx.Client, shots: ConsoleShots
) -> None:
    mine = parked_job(user, "simple-task")
    theirs = parked_job(user2, "simple-task")
    page = tab.page
    response = page.goto(console_url(stack))
    assert response is not None and response.status == 200
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    expect(page.get_by_test_id("sign-in")).to_be_enabled()
    shots.take(page, "01-sign-in", "the console's sign-in, for every user")

    page.get_by_test_id("username").fill("user")
    page.get_by_test_id("password").fill(stack.state["passwords"]["user"])
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("tab-mine")).to_have_attribute("aria-selected", "true")
    assert page.url == console_url(stack, "/jobs")
    expect(page.locator(f'#panel-mine [data-testid="job-row"][data-id="{mine}"]')).to_be_visible()
    assert theirs not in my_rows(page)
    expect(page.get_by_test_id("tab-checkpoints")).to_be_hidden()  # no admin view for an owner
    expect(page.get_by_test_id("live")).to_have_text("live")
    shots.take(page, "02-my-jobs", "an owner's My jobs: filters, status badges, tags")


def test_create_from_a_template_then_watch_it_complete_live(
    tab: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client, shots: ConsoleShots
) -> None:
    """The template's fields are prefilled with their {{placeholders}}; the person fills the variable and adds
    tags (an override); the job page follows the async agent's progress and its completion over the socket."""
    label = uuid.uuid4().hex[:6]
    long_task = agent_for(admin, "long-task")
    made = template(
        user,
        {
            "name": "Research {{topic}}",
            "taskDescription": "Research {{topic}} and write a short report",
            "jobType": "long-task",
            "agentId": long_task["id"],
            "inputData": {"topic": "{{topic}}"},
        },
        f"Research a topic {label}",
    )
    topic = f"serverless queues {label}"
    page = tab.page
    sign_in(page, stack, "user", "/new")
    expect(page.get_by_test_id("tab-new")).to_have_attribute("aria-selected", "true")
    page.get_by_test_id("new-template").select_option(made["id"])
    expect(page.get_by_test_id("new-description")).to_have_value("Research {{topic}} and write a short report")
    expect(page.get_by_test_id("new-type")).to_have_value("long-task")
    expect(page.get_by_test_id("new-template-about")).to_have_text("Made by the console test")
    page.get_by_test_id("var-topic").fill(topic)
    page.get_by_test_id("new-tags").fill(f"team:research, run:{label}")
    shots.take(page, "03-create-from-template", "the create form from a template: its variable and prefilled fields")

    page.get_by_test_id("new-submit").click()
    show_success(page, f"Job created: Research {topic}.")
    page.wait_for_url(re.compile(r"/app/jobs/[A-Za-z0-9_-]+$"))
    job_id = page.url.rsplit("/", 1)[-1]
    created = job(user, job_id)["job"]
    assert created["name"] == f"Research {topic}" and created["inputData"] == {"topic": topic}
    assert created["templateId"] == made["id"] and created["tags"] == ["team:research", f"run:{label}"]

    detail = page.get_by_test_id("job-detail")
    expect(detail.get_by_test_id("job-name")).to_have_text(f"Research {topic}")
    expect(detail.get_by_test_id("tag-chip")).to_have_text(["team:research", f"run:{label}"])
    expect(detail.get_by_test_id("job-status")).to_have_text("IN_PROGRESS", timeout=30_000)
    expect(detail.get_by_test_id("job-progress-text")).to_contain_text("%", timeout=30_000)  # a reported step
    expect(detail.get_by_test_id("job-waiting")).to_have_text("Waiting for the agent")
    expect(page.get_by_test_id("live")).to_have_text("live")
    shots.take(page, "04-job-running", "a job's page while its agent works: progress bar, step, attempt")

    wait_status(user, job_id, "COMPLETED", timeout=LONG_RUN_TIMEOUT)
    expect(detail.get_by_test_id("job-status")).to_have_text("COMPLETED", timeout=LIVE_WITHIN_MS)
    expect(detail.get_by_test_id("job-progress")).to_have_count(0)
    preview = detail.get_by_test_id("job-result")
    expect(preview.get_by_test_id("result-summary")).to_have_text(f"Researched {topic} in 5 steps and wrote a report.")
    expect(preview.get_by_test_id("result-json")).to_contain_text(f"Gathering sources on {topic}: done.")
    groups = detail.get_by_test_id("attempt-group")
    expect(groups.last).to_have_attribute("data-attempt", "1")
    expect(groups.last).to_contain_text("COMPLETED")
    expect(groups.last).to_contain_text("AGENT_CALLBACK")
    shots.take(page, "05-job-completed", "the completed job: result preview, timeline grouped by attempt")


def test_the_create_form_checks_its_fields_before_sending(
    tab: Tab, stack: RunningStack, user: httpx.Client, shots: ConsoleShots
) -> None:
    page = tab.page
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/api/jobs") else None)
    sign_in(page, stack, "user")
    page.get_by_test_id("tab-new").click()
    expect(page.get_by_test_id("new-template")).to_have_value("")

    page.get_by_test_id("new-input").fill('{"userId": "user-123",')
    page.get_by_test_id("new-tags").fill("Not A Tag")
    page.get_by_test_id("new-priority").fill("11")
    page.get_by_test_id("new-submit").click()
    expect(page.get_by_test_id("error-description")).to_have_text("Describe the task: the agent works from this text.")
    expect(page.get_by_test_id("error-input")).to_contain_text("Input data is not valid JSON")
    expect(page.get_by_test_id("error-tags")).to_contain_text("“Not A Tag” is not a tag")
    expect(page.get_by_test_id("error-priority")).to_have_text("A whole number from 1 (lowest) to 10 (highest).")
    expect(page.get_by_test_id("new-description")).to_be_focused()
    shots.take(page, "06-create-errors", "the create form: each error next to its field, nothing sent")

    page.get_by_test_id("new-description").fill("Process user data (console test)")
    page.get_by_test_id("new-priority").fill("7")
    page.get_by_test_id("new-tags").fill("team:search")
    for text, error in [
        ('["not", "an object"]', "Input data must be a JSON object"),
        ("[" * 40 + "]" * 40, "Input data must be a JSON object"),
        ('{"a": ' * 40 + "1" + "}" * 40, "Input data is nested more than 32 levels deep."),
        (json.dumps({"blob": "x" * (65 * 1024)}), "the limit is 64 KB"),
    ]:
        page.get_by_test_id("new-input").fill(text)
        page.get_by_test_id("new-submit").click()
        expect(page.get_by_test_id("error-input")).to_contain_text(error)
        expect(page.get_by_test_id("error-description")).to_be_hidden()
    assert posts == [], "the form sent a request it should have refused"

    page.get_by_test_id("new-input").fill('{"userId": "user-123", "action": "process"}')
    page.get_by_test_id("new-submit").click()
    page.wait_for_url(re.compile(r"/app/jobs/[A-Za-z0-9_-]+$"))
    assert len(posts) == 1
    created = job(user, page.url.rsplit("/", 1)[-1])["job"]
    assert (created["priority"], created["tags"], created["inputData"]) == (
        7,
        ["team:search"],
        {"userId": "user-123", "action": "process"},
    )


def test_a_deep_link_opened_directly_then_the_owner_cancels_the_job(
    tab: Tab, stack: RunningStack, user: httpx.Client, shots: ConsoleShots
) -> None:
    job_id = parked_job(user, "simple-task")
    page = tab.page
    sign_in(page, stack, "user", f"/jobs/{job_id}")  # the link first, the sign-in on it, then the job
    assert page.url == console_url(stack, f"/jobs/{job_id}")
    detail = page.get_by_test_id("job-detail")
    expect(detail.get_by_test_id("job-status")).to_have_text("PENDING")
    expect(page.get_by_test_id("tab-mine")).to_have_attribute("aria-selected", "true")
    expect(detail.get_by_test_id("job-owner-resubmit")).to_have_count(0)  # PENDING: nothing to resubmit
    expect(detail.get_by_test_id("job-resubmit")).to_have_count(0)  # admin actions: admins only

    page.reload()  # a deep link survives a reload: its files load from /app/…, the session from the tab
    expect(detail.get_by_test_id("job-status")).to_have_text("PENDING")

    detail.get_by_test_id("job-cancel").click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("Cancel this job?")
    dialog.get_by_test_id("cancel-reason").fill("Console test: not needed any more")
    dialog.get_by_test_id("confirm").click()
    show_success(page, "Job cancelled.")
    expect(detail.get_by_test_id("job-status")).to_have_text("CANCELLED")
    expect(detail.get_by_test_id("job-cancel")).to_have_count(0)
    expect(detail.get_by_test_id("timeline")).to_contain_text("cancelled: Console test: not needed any more")
    assert job(user, job_id)["job"]["status"] == "CANCELLED"
    shots.take(page, "07-job-cancelled", "an owner's cancelled job: no Cancel any more, the reason in its timeline")

    page.get_by_test_id("job-back").click()  # opened directly: Back goes to the list it belongs to
    page.wait_for_url(console_url(stack, "/jobs"))
    expect(page.locator(f'#panel-mine [data-testid="job-row"][data-id="{job_id}"]')).to_have_attribute(
        "data-status", "CANCELLED"
    )


def test_another_users_job_is_not_found_and_none_of_it_is_shown(
    tab: Tab, stack: RunningStack, user2: httpx.Client, shots: ConsoleShots
) -> None:
    secret = f"user2's private task {uuid.uuid4().hex[:8]}"
    theirs = str(create(user2, {"taskDescription": secret, "autoAssign": False})["id"])
    page = tab.page
    sign_in(page, stack, "user", f"/jobs/{theirs}")
    found = page.get_by_test_id("job-not-found")
    expect(found).to_be_visible()
    expect(found).to_contain_text("Job not found")
    expect_not_found_logged(tab)
    assert secret not in page.locator("body").inner_text()
    expect(page.get_by_test_id("job-status")).to_have_count(0)
    shots.take(page, "08-not-found", "another user's job by its link: not found, nothing of it shown")


def test_the_filters_narrow_my_jobs_and_the_pager_keeps_them(
    tab: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client, shots: ConsoleShots
) -> None:
    label = uuid.uuid4().hex[:8]
    run = f"run:{label}"
    simple = agent_for(admin, "simple-task")
    low = [tagged_job(user, label, tags=[run], priority=2) for _ in range(11)]
    high = tagged_job(user, label, tags=[run, "team:search"], priority=9, jobType="data-processing")
    assigned = tagged_job(user, label, tags=[run], agentId=simple["id"])
    wait_status(user, assigned, "COMPLETED")
    # "Created after" takes whole seconds: the first second after every job so far, and the newest job after it
    after = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(1.2)
    newest = tagged_job(user, label, tags=[run], priority=2)

    page = tab.page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/jobs?" in r.url else None)
    sign_in(page, stack, "user")
    panel = page.locator("#panel-mine")
    page.get_by_test_id("mine-tag").fill(run)
    page.get_by_test_id("mine-limit").select_option("10")
    page.get_by_test_id("mine-apply").click()
    expect(panel.get_by_test_id("job-row")).to_have_count(10)
    first_page = my_rows(page)
    expect(page.get_by_test_id("mine-next")).to_be_enabled()
    page.get_by_test_id("mine-next").click()
    expect(page.get_by_test_id("mine-page")).to_have_text("page 2")
    expect(panel.get_by_test_id("job-row")).to_have_count(4)
    second_page = my_rows(page)
    assert not set(first_page) & set(second_page)
    assert set(first_page) | set(second_page) == {*low, high, assigned, newest}
    assert "nextToken=" in requests[-1] and f"tag={run.replace(':', '%3A')}" in requests[-1]  # the same filter
    shots.take(page, "09-filters-page-2", "My jobs filtered by a tag, page 2 of the same filter")

    page.get_by_test_id("mine-priority").select_option("9")
    page.get_by_test_id("mine-apply").click()  # a new filter: a new pager from page 1
    expect(panel.get_by_test_id("job-row")).to_have_count(1)
    assert my_rows(page) == [high] and "nextToken=" not in requests[-1]
    expect(page.get_by_test_id("mine-page")).to_have_text("page 1")
    expect(panel.get_by_test_id("job-row").get_by_test_id("tag-chip")).to_have_text([run, "team:search"])

    page.get_by_test_id("mine-priority").select_option("")
    page.get_by_test_id("mine-type").fill("data-processing")
    page.get_by_test_id("mine-apply").click()
    expect(panel.get_by_test_id("job-row")).to_have_count(1)
    assert my_rows(page) == [high]

    page.get_by_test_id("mine-type").fill("")
    page.get_by_test_id("mine-status").select_option("COMPLETED")
    page.get_by_test_id("mine-apply").click()
    expect(panel.get_by_test_id("job-row")).to_have_count(1)
    assert my_rows(page) == [assigned]
    page.get_by_test_id("mine-status").select_option("")
    page.get_by_test_id("mine-agent").select_option(simple["id"])
    page.get_by_test_id("mine-apply").click()
    expect(panel.get_by_test_id("job-row")).to_have_count(1)
    assert my_rows(page) == [assigned]

    page.get_by_test_id("mine-agent").select_option("")
    local = after.astimezone().replace(tzinfo=None)  # the input is in the browser's (this machine's) time zone
    page.get_by_test_id("mine-after").fill(local.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_test_id("mine-apply").click()
    expect(panel.get_by_test_id("job-row")).to_have_count(1)
    assert my_rows(page) == [newest]

    page.get_by_test_id("mine-clear").click()  # Clear: every filter off, the tag chip filters again
    expect(page.get_by_test_id("mine-tag")).to_have_value("")
    panel.locator(f'[data-testid="job-row"][data-id="{high}"]').get_by_test_id("tag-chip").filter(
        has_text="team:search"
    ).click()
    expect(page.get_by_test_id("mine-tag")).to_have_value("team:search")
    expect(panel.locator(f'[data-testid="job-row"][data-id="{low[0]}"]')).to_have_count(0)
    rows = panel.get_by_test_id("job-row")
    expect(rows.first).to_be_visible()
    assert high in my_rows(page)
    assert all("team:search" in row.get_by_test_id("tag-chip").all_inner_texts() for row in rows.all())

    page.get_by_test_id("mine-tag").fill("Bad Tag")  # refused on the page: no request, the error by the field
    sent = len(requests)
    page.get_by_test_id("mine-apply").click()
    expect(page.get_by_test_id("mine-tag-error")).to_contain_text("A tag is key:value")
    assert len(requests) == sent


def test_an_admin_gets_the_admin_views_in_the_same_console(
    tab: Tab, stack: RunningStack, user2: httpx.Client, shots: ConsoleShots
) -> None:
    theirs = parked_job(user2, "simple-task")
    page = tab.page
    sign_in(page, stack, "admin")
    expect(page.get_by_test_id("tab-mine")).to_have_attribute("aria-selected", "true")
    for name in ("checkpoints", "jobs", "agents", "worker", "stats", "dead-letters", "audit"):
        expect(page.get_by_test_id(f"tab-{name}")).to_be_visible()
    page.get_by_test_id("tab-jobs").click()
    page.wait_for_url(console_url(stack, "/all-jobs"))
    row = page.locator(f'#panel-all-jobs [data-testid="job-row"][data-id="{theirs}"]')
    expect(row).to_be_visible()
    shots.take(page, "10-admin-all-jobs", "an admin's console: the admin views beside My jobs")
    row.click()
    detail = page.get_by_test_id("job-detail")
    expect(detail.get_by_test_id("job-status")).to_have_text("PENDING")
    expect(page.get_by_test_id("tab-jobs")).to_have_attribute("aria-selected", "true")  # someone else's job
    expect(detail.get_by_test_id("job-complete")).to_be_visible()  # the admin actions
    page.go_back()
    expect(page.get_by_test_id("tab-jobs")).to_have_attribute("aria-selected", "true")
    expect(row).to_be_visible()
    page.get_by_test_id("tab-checkpoints").click()
    expect(page.locator("#panel-checkpoints")).to_be_visible()
    page.goto(f"{stack.api_url}/admin#jobs/{theirs}")  # the old admin page's links land in the console
    expect(detail.get_by_test_id("job-status")).to_have_text("PENDING")
    assert page.url == console_url(stack, f"/jobs/{theirs}")


def test_a_result_preview_shows_text_wrapped_and_folded_code_as_code_and_markup_as_text(
    tab: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client, shots: ConsoleShots
) -> None:
    """The example simple-task agent echoes its input in its result: a long note (wrapped, folded until "Show
    all"), a code snippet (a monospace block) and markup (text, never elements), lifted out of the JSON."""
    notes = "\n".join(f"Note {n}: the customer asked about <img src=x onerror=alert({n})> twice." for n in range(40))
    snippet = "def add(a, b):\n    return a + b\n"
    payload = {
        "taskDescription": "Keep these notes (console preview test)",
        "inputData": {"notes": notes, "snippet": snippet, "userId": "user-123"},
        "agentId": agent_for(admin, "simple-task")["id"],
    }
    job_id = str(create(user, payload)["id"])
    wait_status(user, job_id, "COMPLETED")
    page = tab.page
    sign_in(page, stack, "user", f"/jobs/{job_id}")
    preview = page.get_by_test_id("job-result")
    expect(preview.get_by_test_id("result-summary")).to_contain_text("done (")
    note_field = preview.locator('[data-testid="result-field"][data-path="result.input.notes"]')
    text = note_field.get_by_test_id("result-text")
    expect(text).to_have_text(notes)
    expect(text).to_have_class(re.compile(r"\bcollapsed\b"))
    folded = text.bounding_box()
    assert folded is not None and folded["height"] < 300
    note_field.get_by_test_id("expand").click()
    expect(text).not_to_have_class(re.compile(r"\bcollapsed\b"))
    expect(note_field.get_by_test_id("expand")).to_have_text("Show less")
    code = preview.locator('[data-testid="result-field"][data-path="result.input.snippet"]').get_by_test_id(
        "result-code"
    )
    expect(code.locator("code")).to_have_text(snippet.strip())
    expect(preview.get_by_test_id("result-json")).to_contain_text("shown below as “result.input.notes”")
    expect(preview.get_by_test_id("result-json")).to_contain_text('"userId": "user-123"')
    assert page.locator("main img").count() == 0
    assert tab.dialogs == []
    note_field.scroll_into_view_if_needed()
    shots.take(page, "11-result-preview", "a result preview: summary, JSON, a long note unfolded, code as code")
