"""The admin page in headless Chromium against the local stack: a real Cognito sign-in on the page (moto's
endpoint), the checkpoints list, preview, approve and reject, the jobs list and detail (with an async job's
progress), the agents with their scorecards, checks and A2A import, the dead letters and their replay, the audit
trail, the worker switch, the stats, and the refusal of a non-admin. Screenshots of each view land in
``test-output/screenshots/``."""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Locator, Page, Request, Route, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from local import lambda_runtime
from local.gateway import Gateway
from local.jwt_auth import JwtVerifier
from tests.e2e.conftest import ROOT, RunningStack, job, wait_for, wait_status
from tests.e2e.test_seed_004 import CODE_GENERATION, create, first_checkpoint

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
UI_TIMEOUT_MS = 15_000  # one page action: a sign-in, a list load, a decision
XSS_ALERT = "<img src=x onerror=alert(1)>"
XSS_PROBE = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=2</script>"
SEED_CODE_JOB: dict[str, Any] = CODE_GENERATION  # seed 004's code-generation example
REJECTION_REASON = "Browser test: the generated code needs a security review"
CHANGES_FEEDBACK = "Browser test: validate the password length before hashing it"
PAGE_DIR = ROOT / "functions" / "checkpoints" / "admin_page"
PAGE_FILES = {  # what the browser loads to show the sign-in form, and the content type each must have
    "/admin": "text/html",
    **{f"/app/{module.name}": "text/javascript" for module in sorted(PAGE_DIR.glob("*.js"))},  # app.js + its modules
    "/app/style.css": "text/css",
    "/app/config.json": "application/json",
}
FIRST_PAGE = 20  # the Jobs tab's default "Per page"
RENDER_SETTLE_MS = 500  # time for a delivered answer's JSON to be parsed and rendered
OVERLAP_WINDOW_S = 0.02  # how long the probe stays inside an invocation, so concurrent ones would meet

# --- the browser -------------------------------------------------------------------------------------


def chromium_path() -> Path:
    """Debian's chromium (``.ci/run`` installs it); never a downloaded browser."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing on CI: `.ci/run` should have installed it (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); the admin page browser tests need it")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Shots:
    """Screenshots taken in this module; their paths are printed when the module ends (also under ``-q``)."""

    taken: list[tuple[Path, str]] = field(default_factory=list)

    def take(self, page: Page, name: str, what: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"admin-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.taken.append((path, what))
        print(f"screenshot: {path} ({what})")
        return path


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest) -> Iterator[Shots]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    taken = Shots()
    yield taken
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not taken.taken:
        return
    with capture.global_and_fixture_disabled():  # shown under -q too, not only for failures
        reporter.write_line("")
        for path, what in sorted(taken.taken):
            reporter.write_line(f"screenshot: {path.relative_to(ROOT)} — {what}")


@dataclass
class Tab:
    """One browser page plus what it did on its own: JS dialogs (alert/confirm/prompt), uncaught errors and
    console errors (failed requests, CSP violations); a test that expects some takes them out of the list."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def open_tab(browser: Browser, request: pytest.FixtureRequest, *, bypass_csp: bool = False) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=bypass_csp)
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    tab = Tab(page)

    def on_dialog(dialog: Dialog) -> None:
        tab.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            tab.console_errors.append(msg.text)

    page.on("console", on_console)
    failed_before = request.session.testsfailed
    try:
        yield tab
    finally:
        if request.session.testsfailed > failed_before:  # the call phase failed: keep what the page showed
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOTS / f"failed-{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)}.png"
            try:
                page.screenshot(path=str(path), full_page=True)
                print(f"failure screenshot: {path}")
            except Exception as exc:  # the screenshot is a courtesy, never the failure
                print(f"no failure screenshot: {exc}")
        context.close()
    assert not tab.errors, f"uncaught errors on the admin page: {tab.errors}"
    assert not tab.console_errors, f"console errors on the admin page: {tab.console_errors}"


@pytest.fixture
def tab(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Tab]:
    yield from open_tab(browser, request)


@pytest.fixture
def tab_without_csp(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Tab]:
    """CSP bypassed, so an injected inline handler *would* run: the probe tests the page's escaping itself."""
    yield from open_tab(browser, request, bypass_csp=True)


# --- page helpers ------------------------------------------------------------------------------------


def sign_in(page: Page, stack: RunningStack, username: str) -> None:
    """Opens the page and signs in with the demo user's password (Cognito USER_PASSWORD_AUTH on moto)."""
    response = page.goto(stack.state["adminPageUrl"])
    assert response is not None and response.status == 200
    expect(page.get_by_test_id("username")).to_be_visible()
    expect(page.get_by_test_id("sign-in")).to_be_enabled()
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(stack.state["passwords"][username])
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("sign-out")).to_be_visible()
    expect(page.get_by_test_id("who")).to_have_text(username)


def sign_in_admin(page: Page, stack: RunningStack) -> None:
    sign_in(page, stack, "admin")
    expect(page.get_by_test_id("tab-checkpoints")).to_be_visible()
    expect(page.get_by_test_id("tab-checkpoints")).to_have_attribute("aria-selected", "true")


def checkpoint_row(page: Page, checkpoint_id: str) -> Locator:
    """The row of one checkpoint; clicks Refresh until it shows (the list also refreshes every 10 s)."""
    row = page.locator(f'[data-testid="checkpoint-row"][data-id="{checkpoint_id}"]')
    expect(page.locator("#checkpoints-list").get_by_test_id("loading")).to_have_count(0)

    def shown() -> bool:
        if row.count():
            return True
        page.get_by_test_id("checkpoints-refresh").click()
        return bool(row.count())

    wait_for(shown, f"checkpoint {checkpoint_id} in the page's list", timeout=15)
    expect(row).to_be_visible()
    return row


def expand(row: Locator) -> Locator:
    row.get_by_test_id("checkpoint-expand").click()
    preview = row.get_by_test_id("checkpoint-preview")
    expect(preview).to_be_visible()
    expect(preview.get_by_test_id("loading")).to_have_count(0)
    expect(preview.locator("h3", has_text="Data to review")).to_be_visible()
    return preview


def confirm_dialog(page: Page) -> Locator:
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    return dialog


def show_success(page: Page, text: str) -> None:
    message = page.get_by_test_id("message")
    expect(message).to_be_visible()
    expect(message).to_have_text(text)


def code_job(user: httpx.Client, label: str, files: list[dict[str, str]] | None = None) -> tuple[str, dict[str, Any]]:
    """A code-generation job of seed 004's example (unique name), and its checkpoint once PENDING."""
    payload = {
        **SEED_CODE_JOB,
        "taskDescription": f"{SEED_CODE_JOB['taskDescription']} ({label} {uuid.uuid4().hex[:8]})",
    }
    if files is not None:
        payload["inputData"] = {**SEED_CODE_JOB["inputData"], "files": files}
    job_id = create(user, payload)["id"]
    checkpoint = first_checkpoint(user, job_id)
    assert checkpoint["status"] == "PENDING"
    return job_id, checkpoint


def admin_checkpoint(admin: httpx.Client, checkpoint_id: str) -> dict[str, Any]:
    response = admin.get(f"/api/admin/agent-checkpoints/{checkpoint_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["checkpoint"]
    return found


def parked_job(user: httpx.Client, job_type: str) -> str:
    """A job that stays PENDING (no agent, no auto-assign): a fixed row for the jobs list."""
    payload = {"jobType": job_type, "taskDescription": f"late answer test {uuid.uuid4().hex[:8]}", "autoAssign": False}
    return str(create(user, payload)["id"])


def row_ids(page: Page) -> list[str]:
    return [str(row.get_attribute("data-id")) for row in page.get_by_test_id("job-row").all()]


def worker(admin: httpx.Client) -> dict[str, Any]:
    response = admin.get("/api/admin/agent-worker")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["worker"]
    return found


# --- the tests -----------------------------------------------------------------------------------------


def test_sign_in_page_is_served_with_a_strict_csp(tab: Tab, stack: RunningStack, shots: Shots) -> None:
    page = tab.page
    response = page.goto(stack.state["adminPageUrl"])
    assert response is not None and response.status == 200
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
    expect(page.get_by_test_id("username")).to_be_visible()
    expect(page.get_by_test_id("password")).to_be_visible()
    expect(page.get_by_test_id("sign-in")).to_be_enabled()
    expect(page.locator("#app-view")).to_be_hidden()
    shots.take(page, "01-sign-in", "the sign-in form")

    page.get_by_test_id("username").fill("admin")
    page.get_by_test_id("password").fill("not-the-password-1")
    refused = "Failed to load resource: the server responded with a status of 400"
    with page.expect_console_message(lambda msg: msg.type == "error" and refused in msg.text):
        page.get_by_test_id("sign-in").click()  # Cognito answers 400 NotAuthorizedException
    expect(page.get_by_test_id("message")).to_have_text("Incorrect username or password.")
    expect(page.get_by_test_id("sign-in")).to_be_enabled()
    expect(page.locator("#app-view")).to_be_hidden()
    assert len(tab.console_errors) == 1 and refused in tab.console_errors[0], tab.console_errors
    tab.console_errors.clear()  # expected: the browser logs every failed request


def test_the_gateway_never_overlaps_two_invocations() -> None:
    """The browser loads the page's files in parallel. Powertools' resolver keeps the request in process-wide
    state, so overlapping invocations in the local gateway answered each other's requests (app.js came back as
    text/css) or failed with a 500: the console line once seen during sign-in under load. The gateway's function
    runtime, wrapped to hold each invocation open a moment and count how many run at once, serves 32 parallel
    requests for the page's files: one invocation at a time, each answer the right file."""
    lock = threading.Lock()
    inside, most = 0, 0

    def probe(function: str, event: dict[str, Any]) -> Any:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        try:
            time.sleep(OVERLAP_WINDOW_S)
            return lambda_runtime.invoke(function, event)
        finally:
            with lock:
                inside -= 1

    verifier = JwtVerifier("http://127.0.0.1:9/jwks.json", "https://issuer.invalid", [])  # public routes only
    with Gateway(0, verifier, invoke=probe, access_log=False) as gateway:

        def fetch(path: str) -> tuple[str, int, str]:
            response = httpx.get(f"{gateway.url}{path}", timeout=30.0, trust_env=False)
            return path, response.status_code, response.headers.get("content-type", "").split(";")[0]

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(fetch, list(PAGE_FILES) * 8))
    assert most == 1, f"{most} invocations ran at once in one process"
    assert all(answer[1:] == (200, PAGE_FILES[answer[0]]) for answer in answers), answers


def test_a_late_unfiltered_answer_never_replaces_the_filtered_list(
    tab: Tab, stack: RunningStack, user: httpx.Client, shots: Shots
) -> None:
    """On a slow connection the unfiltered list the Jobs tab opened with can answer after the filtered list
    asked for later: the page shows the filtered list, and its pager keeps the filtered query's (absent) next
    page, never the unfiltered one's token."""
    wanted_type, other_type = f"late-{uuid.uuid4().hex[:8]}", f"early-{uuid.uuid4().hex[:8]}"
    wanted = parked_job(user, wanted_type)
    newer = [parked_job(user, other_type) for _ in range(FIRST_PAGE + 1)]  # the unfiltered first page, and more

    page = tab.page
    held: list[Route] = []

    def hold_the_first_list(route: Route) -> None:
        if held or "jobType=" in route.request.url:
            route.continue_()
        else:
            held.append(route)  # answered below, after the filtered list

    settled: set[str] = set()

    def on_settled(request: Request) -> None:
        settled.add(request.url)

    page.on("requestfinished", on_settled)
    page.on("requestfailed", on_settled)
    page.route("**/api/admin/jobs?*", hold_the_first_list)
    sign_in_admin(page, stack)
    page.get_by_test_id("tab-jobs").click()
    wait_for(lambda: held, "the Jobs tab's first (unfiltered) request", timeout=15)
    expect(page.locator("#jobs-list").get_by_test_id("loading")).to_be_visible()

    page.get_by_test_id("jobs-status").select_option("PENDING")
    page.get_by_test_id("jobs-type").fill(wanted_type)
    page.get_by_test_id("jobs-apply").click()
    expect(page.get_by_test_id("job-row")).to_have_count(1)
    assert row_ids(page) == [wanted]
    expect(page.get_by_test_id("jobs-next")).to_be_disabled()

    late = held[0]
    early_answer = late.fetch()  # the unfiltered first page: the newest jobs, with a next page
    body = early_answer.json()
    assert {job["id"] for job in body["jobs"]} <= set(newer) and body["nextToken"], body
    with contextlib.suppress(PlaywrightError):  # the fixed page cancelled this request: nobody takes it
        late.fulfill(response=early_answer)

    def delivered_or_dropped() -> bool:
        page.wait_for_timeout(50)  # lets Playwright dispatch the page's request events
        return late.request.url in settled

    wait_for(delivered_or_dropped, "the late answer to be delivered or dropped", timeout=15, interval=0)
    page.wait_for_timeout(RENDER_SETTLE_MS)

    assert row_ids(page) == [wanted], "the late unfiltered answer replaced the filtered list"
    expect(page.get_by_test_id("jobs-next")).to_be_disabled()
    expect(page.get_by_test_id("jobs-page")).to_have_text("page 1")
    expect(page.get_by_test_id("jobs-status")).to_have_value("PENDING")
    shots.take(page, "04b-jobs-late-answer", "the filtered jobs list after a late unfiltered answer")


def test_a_non_admin_is_refused(tab: Tab, stack: RunningStack, shots: Shots) -> None:
    """/admin is the console's admin part: a signed-in owner is refused there (no admin tab, no admin panel, no
    admin request) and offered their own jobs instead (the console is for every user, DESIGN.md §17)."""
    page = tab.page
    admin_calls: list[str] = []
    page.on("request", lambda r: admin_calls.append(r.url) if "/api/admin/" in r.url else None)
    sign_in(page, stack, "user")
    expect(page.get_by_test_id("not-admin")).to_be_visible()
    expect(page.get_by_test_id("not-admin")).to_contain_text("Admins only")
    expect(page.get_by_test_id("message")).to_have_text("This page is for admins.")
    for panel in ("checkpoints", "all-jobs", "agents", "worker", "stats", "dead-letters", "audit"):
        expect(page.locator(f"#panel-{panel}")).to_be_hidden()
    for tab_name in ("checkpoints", "jobs", "agents", "worker", "stats", "dead-letters", "audit"):
        expect(page.get_by_test_id(f"tab-{tab_name}")).to_be_hidden()
    assert admin_calls == []
    shots.take(page, "08-not-admin", "a signed-in non-admin (user) refused")

    page.get_by_test_id("go-to-my-jobs").click()  # the owner's part of the same console
    expect(page.get_by_test_id("not-admin")).to_be_hidden()
    expect(page.get_by_test_id("tab-mine")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-mine")).to_be_visible()
    assert admin_calls == []

    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("username")).to_be_visible()
    expect(page.get_by_test_id("not-admin")).to_be_hidden()


def test_approve_a_code_generation_checkpoint(
    tab: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client, shots: Shots
) -> None:
    job_id, checkpoint = code_job(user, "approve")
    page = tab.page
    sign_in_admin(page, stack)
    row = checkpoint_row(page, checkpoint["id"])
    expect(row).to_contain_text(job_id)
    expect(row).to_contain_text("code-generation")
    expect(page.get_by_test_id("checkpoints-empty")).to_have_count(0)
    shots.take(page, "02-checkpoints", "the pending checkpoints list")

    preview = expand(row)
    expect(row.get_by_test_id("checkpoint-expand")).to_have_attribute("aria-expanded", "true")
    generated = admin_checkpoint(admin, checkpoint["id"])["data"]["files"]
    assert [f["path"] for f in generated] == [f["path"] for f in SEED_CODE_JOB["inputData"]["files"]]
    files = preview.locator("figure.file")
    expect(files.first).to_be_visible()
    for generated_file in generated:
        figure = files.filter(has=page.locator("figcaption", has_text=generated_file["path"])).first
        expect(figure.locator("pre.code > code")).to_have_text(generated_file["content"].rstrip("\n"))
    expect(preview.locator("pre.code code").first).to_contain_text("Reviewed by the example code-generation agent")
    expect(preview).to_contain_text(checkpoint["id"])
    shots.take(page, "03-checkpoint-preview", "an expanded checkpoint: the generated files as code")

    row.get_by_test_id("approve").click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("Approve checkpoint?")
    expect(dialog).to_contain_text(job_id)
    dialog.get_by_test_id("confirm").click()
    expect(dialog).to_be_hidden()
    show_success(page, "Checkpoint approved.")
    expect(row).to_have_count(0)

    decided = admin_checkpoint(admin, checkpoint["id"])
    assert decided["status"] == "APPROVED"
    assert decided["approvedBy"] and decided["approvedAt"]
    done = wait_status(user, job_id, "COMPLETED")
    assert {c["status"] for c in done["checkpoints"]} == {"APPROVED"}

    page.get_by_test_id("tab-jobs").click()
    page.get_by_test_id("jobs-status").select_option("COMPLETED")
    page.get_by_test_id("jobs-apply").click()
    job_row = page.locator(f'[data-testid="job-row"][data-id="{job_id}"]')
    expect(job_row).to_have_attribute("data-status", "COMPLETED")
    expect(page.locator('[data-testid="job-row"]:not([data-status="COMPLETED"])')).to_have_count(0)
    shots.take(page, "04-jobs", "the jobs list filtered to COMPLETED, the approved job on top")

    job_row.click()
    detail = page.get_by_test_id("job-detail")
    expect(detail).to_be_visible()
    expect(detail.get_by_test_id("job-status")).to_have_text("COMPLETED")
    expect(detail).to_contain_text(job_id)
    checkpoints = detail.get_by_test_id("job-checkpoints")
    expect(checkpoints).to_contain_text("APPROVED")
    expect(detail.get_by_test_id("timeline")).to_contain_text("COMPLETED")
    shots.take(page, "05-job-detail", "the approved job's detail: COMPLETED, its checkpoint APPROVED")

    page.get_by_test_id("job-back").click()
    expect(detail).to_be_hidden()
    expect(job_row).to_be_visible()


def test_reject_a_checkpoint_with_a_reason(
    tab: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client
) -> None:
    job_id, checkpoint = code_job(user, "reject")
    page = tab.page
    sign_in_admin(page, stack)
    row = checkpoint_row(page, checkpoint["id"])

    row.get_by_test_id("approve").click()  # changing one's mind: Cancel decides nothing
    dialog = confirm_dialog(page)
    dialog.get_by_test_id("cancel").click()
    expect(dialog).to_be_hidden()
    assert admin_checkpoint(admin, checkpoint["id"])["status"] == "PENDING"

    row.get_by_test_id("reject").click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("Reject checkpoint?")
    reason = dialog.get_by_test_id("reject-reason")
    expect(reason).to_be_focused()
    dialog.get_by_test_id("confirm").click()  # no reason: refused in the dialog
    expect(dialog.locator("#confirm-error")).to_have_text("A reason is required.")
    expect(dialog).to_be_visible()
    assert admin_checkpoint(admin, checkpoint["id"])["status"] == "PENDING"

    reason.fill(REJECTION_REASON)
    dialog.get_by_test_id("confirm").click()
    expect(dialog).to_be_hidden()
    show_success(page, "Checkpoint rejected.")
    expect(row).to_have_count(0)

    decided = admin_checkpoint(admin, checkpoint["id"])
    assert decided["status"] == "REJECTED"
    assert decided["rejectionReason"] == REJECTION_REASON
    done = wait_status(user, job_id, "REJECTED")
    assert [(c["status"], c.get("rejectionReason")) for c in done["checkpoints"]] == [("REJECTED", REJECTION_REASON)]


def test_request_changes_then_approve_with_a_comment(
    tab: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client, shots: Shots
) -> None:
    """Issue 14 item 4 from the page: the reviewer sends the job back with feedback, the agent runs attempt 2 with
    it, the new checkpoint shows the feedback it answered, and an approval with a comment completes the job."""
    job_id, checkpoint = code_job(user, "request changes")
    page = tab.page
    sign_in_admin(page, stack)
    row = checkpoint_row(page, checkpoint["id"])

    row.get_by_test_id("request-changes").click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("Request changes?")
    feedback = dialog.get_by_test_id("changes-feedback")
    expect(feedback).to_be_focused()
    dialog.get_by_test_id("confirm").click()  # no feedback: refused in the dialog
    expect(dialog.locator("#confirm-error")).to_have_text(
        "Feedback is required: the agent gets it with its next attempt."
    )
    assert admin_checkpoint(admin, checkpoint["id"])["status"] == "PENDING"
    feedback.fill(CHANGES_FEEDBACK)
    dialog.get_by_test_id("confirm").click()
    expect(dialog).to_be_hidden()
    show_success(page, "Changes requested: the agent runs again with your feedback.")
    expect(row).to_have_count(0)

    decided = admin_checkpoint(admin, checkpoint["id"])
    assert (decided["status"], decided["feedback"]) == ("CHANGES_REQUESTED", CHANGES_FEEDBACK)
    assert decided["decidedBy"] and decided["decidedAt"]
    second = first_checkpoint(user, job_id)  # attempt 2's review, raised after the agent ran again
    assert second["attempt"] == 2 and second["id"] != checkpoint["id"]

    row = checkpoint_row(page, second["id"])
    preview = expand(row)
    expect(preview.get_by_test_id("preview-feedback")).to_have_text(CHANGES_FEEDBACK)
    shots.take(page, "03b-changes-requested", "attempt 2's checkpoint, showing the feedback the agent answered")
    row.get_by_test_id("approve").click()
    dialog = confirm_dialog(page)
    dialog.get_by_test_id("approve-comment").fill("Validation added: approved")
    dialog.get_by_test_id("confirm").click()
    show_success(page, "Checkpoint approved.")

    done = wait_status(user, job_id, "COMPLETED")
    assert done["job"]["attempt"] == 2
    assert [(c["attempt"], c["status"]) for c in done["checkpoints"]] == [(1, "CHANGES_REQUESTED"), (2, "APPROVED")]
    assert done["checkpoints"][1]["comment"] == "Validation added: approved"
    rerun = f"changes requested at checkpoint {checkpoint['stage']}, running attempt 2: {CHANGES_FEEDBACK}"
    assert rerun in [t["message"] for t in done["timeline"]]  # what the agent got is tests/integration's to check


def test_cancel_a_job_from_its_detail(tab: Tab, stack: RunningStack, user: httpx.Client) -> None:
    """Issue 14 item 3 from the page: Cancel on the job detail, with a reason; a cancelled job offers no Cancel."""
    job_id = parked_job(user, "simple-task")
    page = tab.page
    sign_in_admin(page, stack)
    page.get_by_test_id("tab-jobs").click()
    page.get_by_test_id("jobs-status").select_option("PENDING")
    page.get_by_test_id("jobs-apply").click()
    page.locator(f'[data-testid="job-row"][data-id="{job_id}"]').click()
    detail = page.get_by_test_id("job-detail")
    detail.get_by_test_id("job-cancel").click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("Cancel this job?")
    dialog.get_by_test_id("cancel-reason").fill("Browser test: not needed")
    dialog.get_by_test_id("confirm").click()
    show_success(page, "Job cancelled.")
    expect(detail.get_by_test_id("job-status")).to_have_text("CANCELLED")
    expect(detail.get_by_test_id("job-cancel")).to_have_count(0)
    expect(detail.get_by_test_id("timeline")).to_contain_text("cancelled: Browser test: not needed")
    assert wait_status(user, job_id, "CANCELLED")["job"]["status"] == "CANCELLED"


def test_checkpoint_data_is_rendered_as_text(
    tab_without_csp: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client
) -> None:
    """Markup in the agent's output shows as text and runs nothing, even without the page's CSP."""
    files = [
        {"path": "lib/alert.ts", "content": XSS_ALERT},
        {"path": "lib/probe.ts", "content": XSS_PROBE},
        {"path": "lib/script.ts", "content": XSS_SCRIPT},
    ]
    job_id, checkpoint = code_job(user, f"xss {XSS_PROBE}", files)
    try:
        generated = {f["path"]: f["content"] for f in admin_checkpoint(admin, checkpoint["id"])["data"]["files"]}
        assert all(f["content"] in generated[f["path"]] for f in files), generated  # the agent echoed the markup

        page = tab_without_csp.page
        sign_in_admin(page, stack)
        row = checkpoint_row(page, checkpoint["id"])
        preview = expand(row)
        data = preview.locator(".files").first  # "Data to review" (the logs' payloads follow, folded)
        for text in (XSS_ALERT, XSS_PROBE, XSS_SCRIPT):
            expect(data.locator("pre.code code", has_text=text)).to_have_count(1)
            expect(data.locator("pre.code code", has_text=text)).to_be_visible()
        expect(preview).to_contain_text(f"xss {XSS_PROBE}")  # the job's description, shown under "Job"
        expect(preview.locator("img")).to_have_count(0)
        expect(preview.locator("script")).to_have_count(0)

        page.get_by_test_id("tab-jobs").click()
        job_row = page.locator(f'[data-testid="job-row"][data-id="{job_id}"]')
        expect(job_row).to_be_visible()
        expect(job_row).to_contain_text(XSS_PROBE)  # the job's name
        job_row.click()
        detail = page.get_by_test_id("job-detail")
        expect(detail.get_by_test_id("job-status")).to_be_visible()
        expect(detail).to_contain_text(XSS_ALERT)  # input data and logs

        assert page.locator("img").count() == 0
        assert page.locator("main script, dialog script").count() == 0
        assert page.evaluate("window.__xss") is None
        assert tab_without_csp.dialogs == []
    finally:
        admin.request("DELETE", f"/api/admin/agent-checkpoints/{checkpoint['id']}", json={"reason": "xss test"})


def test_stop_and_start_the_worker(tab: Tab, stack: RunningStack, admin: httpx.Client, shots: Shots) -> None:
    before = worker(admin)
    assert before["isRunning"], "the worker should be running before this test"
    page = tab.page
    sign_in_admin(page, stack)
    page.get_by_test_id("tab-worker").click()
    state = page.get_by_test_id("worker-state")
    try:
        expect(state).to_have_text("running")
        expect(page.get_by_test_id("worker-start")).to_be_disabled()
        expect(page.get_by_test_id("max-concurrency")).to_have_value(str(before["maxConcurrentJobs"]))
        shots.take(page, "06-worker", "the worker panel: running, its concurrency, mappings and job counts")

        page.get_by_test_id("worker-stop").click()
        show_success(page, "Worker stopped. Queued jobs wait until it starts again.")
        expect(state).to_have_text("stopped")
        expect(page.get_by_test_id("worker-stop")).to_be_disabled()
        expect(page.get_by_test_id("worker-start")).to_be_enabled()
        assert worker(admin)["isRunning"] is False

        page.get_by_test_id("worker-start").click()
        show_success(page, "Worker started.")
        expect(state).to_have_text("running")
        expect(page.get_by_test_id("worker-stop")).to_be_enabled()
        assert worker(admin)["isRunning"] is True

        concurrency = page.get_by_test_id("max-concurrency")
        concurrency.fill("1")  # below Lambda's minimum: refused on the page, nothing sent
        page.get_by_test_id("save-concurrency").click()
        expect(page.get_by_test_id("message")).to_have_text(
            "Max concurrent jobs must be a whole number from 2 to 1000."
        )
        assert worker(admin)["maxConcurrentJobs"] == before["maxConcurrentJobs"]
        wanted = before["maxConcurrentJobs"] + 1
        concurrency.fill(str(wanted))
        page.get_by_test_id("save-concurrency").click()
        show_success(page, f"Max concurrent jobs set to {wanted}.")
        expect(page.get_by_test_id("max-concurrency")).to_have_value(str(wanted))
        assert worker(admin)["maxConcurrentJobs"] == wanted
    finally:
        restore = admin.put("/api/admin/agent-worker", json={"maxConcurrentJobs": before["maxConcurrentJobs"]})
        assert restore.status_code == 200, restore.text
        if not worker(admin)["isRunning"]:
            admin.post("/api/admin/agent-worker")


def test_stats_and_sign_out(tab: Tab, stack: RunningStack, shots: Shots) -> None:
    page = tab.page
    sign_in_admin(page, stack)
    page.get_by_test_id("tab-stats").click()
    view = page.locator("#stats-view")
    expect(view.locator('[data-testid^="stat-"]').first).to_be_visible()
    expect(view.get_by_test_id("loading")).to_have_count(0)
    expect(view.get_by_test_id("stats-error")).to_have_count(0)
    shots.take(page, "07-stats", "the stats panel")

    page.reload()  # the session survives a reload (sessionStorage) and the tab comes back from the URL
    expect(page.get_by_test_id("who")).to_have_text("admin")
    expect(page.get_by_test_id("tab-stats")).to_have_attribute("aria-selected", "true")
    expect(view.locator('[data-testid^="stat-"]').first).to_be_visible()

    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("username")).to_be_visible()
    expect(page.locator("#app-view")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0


# --- agents, dead letters, audit, an async job's progress (DESIGN.md §14, §18) ---------------------------

LONG_TASK_STEPS = ("gathering sources", "reading", "comparing findings", "drafting the report", "checking the draft")
IMPORT_SECRET = "browser-test-signing-secret-0123"
API_REFUSED = "Failed to load resource: the server responded with a status of 400"


def agent_for(admin: httpx.Client, job_type: str) -> dict[str, Any]:
    response = admin.get("/api/admin/agents")
    assert response.status_code == 200, response.text
    (found,) = [a for a in response.json()["agents"] if a.get("jobTypes") == [job_type]]
    return dict(found)


def audit_page(admin: httpx.Client, limit: int = 50) -> list[dict[str, Any]]:
    response = admin.get("/api/admin/audit", params={"limit": limit})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def test_every_page_module_is_served_as_javascript(stack: RunningStack, anonymous: httpx.Client) -> None:
    """The page is ES modules (app.js imports the others): a module missing from the served list would 404 and
    leave the page blank, and one served with another type would not run (nosniff)."""
    modules = sorted(PAGE_DIR.glob("*.js"))
    assert len(modules) > 1, modules
    for module in modules:
        response = anonymous.get(f"/admin/{module.name}")
        assert response.status_code == 200, (module.name, response.text)
        assert response.headers["content-type"].startswith("text/javascript"), module.name
        assert response.text == module.read_text(encoding="utf-8")
    index = anonymous.get("/admin").text
    assert '<script src="/app/app.js" type="module">' in index  # absolute: the same from /admin, /app, a deep link


def test_agents_show_their_scorecard_mode_and_a_check_run_on_demand(
    tab: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client, shots: Shots
) -> None:
    simple = agent_for(admin, "simple-task")
    payload = {
        "jobType": "simple-task",
        "taskDescription": "scorecard run",
        "acceptanceCriteria": "The result says the data was processed",  # judged: the job has judge usage
        "agentId": simple["id"],
    }
    job_id = create(user, payload)["id"]
    usage = wait_status(user, job_id, "COMPLETED")["job"]["usage"]  # settled: its agent's scorecard counts it
    assert usage and usage["promptTokens"] > 0, usage
    card = admin.get(f"/api/admin/agents/{simple['id']}/scorecard", params={"window": "24h"}).json()["scorecard"]
    assert card["jobs"] >= 1, card
    long_task = agent_for(admin, "long-task")

    page = tab.page
    sign_in_admin(page, stack)
    page.get_by_test_id("tab-agents").click()
    agent_card = page.locator(f'[data-testid="agent-card"][data-id="{simple["id"]}"]')
    scorecard = agent_card.get_by_test_id("agent-scorecard")
    expect(scorecard.get_by_test_id("loading")).to_have_count(0)
    expect(scorecard).to_contain_text("Scorecard · last 24 hours")
    assert int(scorecard.get_by_test_id("kpi-jobs").locator(".kpi-value").inner_text().replace(",", "")) >= 1
    expect(scorecard.get_by_test_id("kpi-acceptance").locator(".kpi-value")).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(scorecard.get_by_test_id("kpi-p50").locator(".kpi-value")).to_have_text(re.compile(r"^(≤ \d|> )"))
    expect(scorecard.get_by_test_id("kpi-cost").locator(".kpi-value")).to_have_text(re.compile(r"^\$\d"))
    expect(agent_card.get_by_test_id("agent-mode")).to_have_text("sync")
    expect(agent_card).to_contain_text("Max concurrency")
    async_card = page.locator(f'[data-testid="agent-card"][data-id="{long_task["id"]}"]')
    expect(async_card.get_by_test_id("agent-mode")).to_have_text("async")
    expect(async_card).to_contain_text("Longest run")

    before = admin.get(f"/api/agents/{simple['id']}").json()["agent"].get("check") or {}
    agent_card.get_by_test_id("run-check").click()
    show_success(page, f"Check passed: {simple['name']}.")
    result = agent_card.get_by_test_id("check-result")
    expect(result.get_by_test_id("check-status")).to_have_text("PASSED")
    expect(agent_card.get_by_test_id("agent-check")).to_contain_text("Latency")
    after = admin.get(f"/api/agents/{simple['id']}").json()["agent"]["check"]
    assert after["passed"] is True and after["checkedAt"] != before.get("checkedAt")
    agent_card.scroll_into_view_if_needed()
    shots.take(page, "09-agents-scorecard", "agents: mode, concurrency, the check just run, 24 h scorecards")

    page.get_by_test_id("agents-window").select_option("7d")  # every scorecard again, over the new window
    expect(scorecard).to_contain_text("Scorecard · last 7 days")
    expect(async_card.get_by_test_id("agent-scorecard")).to_contain_text("Scorecard · last 7 days")

    page.goto(f"{stack.state['adminPageUrl']}#jobs/{job_id}")  # the job's own usage, on its detail
    run = page.get_by_test_id("job-detail").get_by_test_id("job-run")
    expect(run.locator("h3")).to_have_text("Judge usage")
    tokens = usage["promptTokens"] + usage["completionTokens"]
    expect(run.get_by_test_id("job-usage")).to_contain_text(
        f"Judge tokens{tokens:,} (prompt {usage['promptTokens']:,} + completion {usage['completionTokens']:,})"
    )
    expect(run.get_by_test_id("job-usage")).to_contain_text("Judge cost$")
    expect(run.get_by_test_id("job-progress")).to_have_count(0)  # COMPLETED: no bar, no lease
    expect(run.get_by_test_id("job-lease")).to_have_count(0)
    shots.take(page, "09c-job-usage", "a judged job's detail: its judge tokens and cost", full_page=False)


def test_import_an_a2a_card_then_the_audit_trail_shows_it(
    tab: Tab, stack: RunningStack, admin: httpx.Client, shots: Shots
) -> None:
    """The card's JSON is checked on the page (nothing is sent when it does not parse), the API's own message
    is shown when it refuses a card, and an imported agent appears with its check and in the audit trail."""
    label = uuid.uuid4().hex[:8]
    name = f"Imported summarizer {label}"
    card = {
        "name": name,
        "description": "An A2A card imported by the browser test",
        "url": f"{stack.state['agentsUrl']}/simple-task",
        "skills": [{"id": "summarize", "name": "Summarize text"}],
    }
    page = tab.page
    imports: list[str] = []
    page.on("request", lambda r: imports.append(r.method) if r.url.endswith("/api/admin/agents/import") else None)
    sign_in_admin(page, stack)
    page.get_by_test_id("tab-agents").click()
    page.get_by_test_id("import-box").locator("summary").click()
    page.get_by_test_id("import-card").fill('{"name": "broken", ')
    page.get_by_test_id("import-secret").fill(IMPORT_SECRET)
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-error")).to_contain_text("The card is not valid JSON")
    assert imports == []

    page.get_by_test_id("import-card").fill(json.dumps({"name": name}))  # parses, but the API wants a url
    with page.expect_console_message(lambda msg: msg.type == "error" and API_REFUSED in msg.text):
        page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-error")).to_have_text(
        "The API refused the import: card: an agent card needs a url (or supportedInterfaces[].url)"
    )
    assert imports == ["POST"] and len(tab.console_errors) == 1 and API_REFUSED in tab.console_errors[0]
    tab.console_errors.clear()  # expected: the browser logs the refused request
    shots.take(
        page,
        "09b-agents-import",
        "the A2A import form showing the API's refusal of a card without a url",
        full_page=False,
    )

    page.get_by_test_id("import-card").fill(json.dumps(card, indent=2))
    page.get_by_test_id("import-job-types").fill(f"imported-{label}")  # no real job type: never auto-assigned
    page.get_by_test_id("import-max-concurrency").fill("2")
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("message")).to_contain_text(f"Imported {name}:")
    expect(page.get_by_test_id("import-error")).to_be_hidden()
    expect(page.get_by_test_id("import-secret")).to_have_value("")  # the secret does not stay on the page
    imported = agent_for(admin, f"imported-{label}")
    try:
        assert imported["maxConcurrency"] == 2 and imported["check"] is not None
        agent_card = page.locator(f'[data-testid="agent-card"][data-id="{imported["id"]}"]')
        expect(agent_card).to_contain_text(name)
        expect(agent_card.get_by_test_id("check-status")).to_have_text(
            "PASSED" if imported["check"]["passed"] else "FAILED"
        )
        expect(agent_card).to_contain_text("2 call(s) at once")

        newest = audit_page(admin)
        mine = [e for e in newest if e["target"] == f"agent:{imported['id']}"]
        assert "agent.imported" in [e["action"] for e in mine], mine
        page.get_by_test_id("tab-audit").click()
        rows = page.get_by_test_id("audit-row")
        expect(rows.first).to_be_visible()
        assert rows.first.get_attribute("data-id") == newest[0]["id"]  # newest first, as the API answers
        row = page.locator('[data-testid="audit-row"][data-action="agent.imported"]', has_text=imported["id"])
        expect(row).to_have_count(1)
        expect(row).to_contain_text(f"card: {name}")
        expect(row).to_contain_text("admin (you)")  # the signed-in admin's own change, by name
        shots.take(page, "11-audit", "the audit trail, newest first: the import with its checks and creation")

        page.get_by_test_id("audit-limit").select_option("10")  # a new query: paged from its first page
        expect(rows).to_have_count(min(10, len(newest)))
        first_page = [r.get_attribute("data-id") for r in rows.all()]
        assert first_page == [e["id"] for e in newest[:10]]
        expect(page.get_by_test_id("audit-next")).to_be_enabled()  # the example agents' registrations, and more
        page.get_by_test_id("audit-next").click()
        expect(page.get_by_test_id("audit-page")).to_have_text("page 2")
        expect(rows.first).not_to_have_attribute("data-id", str(first_page[0]))
        assert [r.get_attribute("data-id") for r in rows.all()] == [e["id"] for e in newest[10:20]]
        page.get_by_test_id("audit-prev").click()
        expect(page.get_by_test_id("audit-page")).to_have_text("page 1")
        expect(rows.first).to_have_attribute("data-id", str(first_page[0]))
    finally:
        admin.delete(f"/api/admin/agents/{imported['id']}")


@contextlib.contextmanager
def execute_dlq_held(stack: RunningStack) -> Iterator[str]:
    """The execute queue's DLQ with its consumer's event source mapping disabled (the pollers honour it), so
    dead letters stay for the page to list; the DLQ's URL. The mapping is enabled again afterwards."""
    lambda_, sqs = stack.aws("lambda"), stack.aws("sqs")
    (dlq,) = [u for u in sqs.list_queues()["QueueUrls"] if u.endswith("-execute-dlq")]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    (mapping,) = [m for m in lambda_.list_event_source_mappings()["EventSourceMappings"] if m["EventSourceArn"] == arn]
    lambda_.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    try:
        yield dlq
    finally:
        lambda_.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)


def cancelled_job(user: httpx.Client, reason: str) -> str:
    job_id = parked_job(user, "simple-task")
    response = user.post(f"/api/jobs/{job_id}/cancel", json={"reason": reason})
    assert response.status_code == 200, response.text
    return job_id


def test_dead_letters_are_listed_and_one_is_replayed(
    tab: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client, shots: Shots
) -> None:
    first_job, second_job = cancelled_job(user, "dead letter one"), cancelled_job(user, "dead letter two")
    with execute_dlq_held(stack) as dlq:
        sqs = stack.aws("sqs")
        sent = [
            sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"kind": "execute", "jobId": job, "attempt": 1}))
            for job in (first_job, second_job)
        ]
        first, second = (str(m["MessageId"]) for m in sent)
        try:
            page = tab.page
            sign_in_admin(page, stack)
            page.get_by_test_id("tab-dead-letters").click()
            row = page.locator(f'[data-testid="dl-row"][data-id="{first}"]')
            other = page.locator(f'[data-testid="dl-row"][data-id="{second}"]')
            expect(row).to_be_visible()
            expect(other).to_be_visible()
            queue_keys = [o.get_attribute("value") for o in page.get_by_test_id("dl-queue").locator("option").all()]
            assert queue_keys == ["execute", "execute-high", "validate", "checkpoint", "webhooks"]  # the API's list
            expect(row.get_by_test_id("dl-job")).to_have_text(first_job)
            expect(row).to_contain_text("CANCELLED")
            expect(row).to_contain_text("dead letter one")  # why: the job's last history entry
            expect(page.get_by_test_id("dl-replay-selected")).to_be_disabled()
            row.get_by_test_id("dl-select").check()
            expect(page.get_by_test_id("dl-replay-selected")).to_have_text("Replay selected (1)")

            page.get_by_test_id("dl-replay-selected").click()
            dialog = confirm_dialog(page)
            expect(dialog).to_contain_text("Send 1 message(s) back to the execute queue?")
            dialog.get_by_test_id("confirm").click()
            show_success(page, "Replayed 1 message(s) to the execute queue.")
            expect(page.get_by_test_id("dl-result-summary")).to_have_text(
                "1 message(s) sent back to the execute queue."
            )
            expect(page.get_by_test_id("dl-replayed")).to_contain_text(first_job)
            expect(row).to_have_count(0)
            expect(other).to_be_visible()
            listed = admin.get("/api/admin/dead-letters", params={"queue": "execute"}).json()["deadLetters"]
            ids = [letter["messageId"] for letter in listed]
            assert second in ids and first not in ids
            shots.take(page, "10-dead-letters", "the execute queue's dead letters after one was replayed")

            other.get_by_test_id("dl-job").click()  # the job id links to the job's detail
            expect(page.get_by_test_id("tab-jobs")).to_have_attribute("aria-selected", "true")
            detail = page.get_by_test_id("job-detail")
            expect(detail).to_contain_text(second_job)
            expect(detail.get_by_test_id("job-status")).to_have_text("CANCELLED")
            page.go_back()  # back to the dead letters
            expect(page.get_by_test_id("tab-dead-letters")).to_have_attribute("aria-selected", "true")
            expect(other).to_be_visible()
        finally:
            admin.post("/api/admin/dead-letters/replay", json={"queue": "execute", "ids": [first, second]})
    replays = [e for e in audit_page(admin) if e["action"] == "dead_letters.replayed"]
    assert first in [x["messageId"] for e in replays for x in e["changes"]["replayed"]]


def test_an_async_job_shows_its_progress_waiting_and_lease(
    tab: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client, shots: Shots
) -> None:
    agent = agent_for(admin, "long-task")
    payload = {
        "jobType": "long-task",
        "taskDescription": "Research serverless queues (browser test)",
        "acceptanceCriteria": "The summary says the topic was researched",
        "inputData": {"topic": "serverless queues"},
        "agentId": agent["id"],
    }
    job_id = create(user, payload)["id"]

    def reporting() -> dict[str, Any] | None:
        found = job(user, job_id)["job"]
        return found if found["waitingFor"] == "agent" and found["progress"] else None

    reported = wait_for(reporting, f"job {job_id} to report progress")
    assert reported["claimedAt"] and reported["deadline"], reported
    page = tab.page
    sign_in_admin(page, stack)
    page.goto(f"{stack.state['adminPageUrl']}#jobs/{job_id}")  # a deep link to the job
    detail = page.get_by_test_id("job-detail")
    expect(detail.get_by_test_id("job-status")).to_have_text("IN_PROGRESS")
    expect(detail.get_by_test_id("job-waiting")).to_have_text("Waiting for the agent")
    bar = detail.get_by_test_id("job-progress").locator("progress")
    expect(bar).to_be_visible()
    assert 0 < float(bar.get_attribute("value") or 0) < 1
    steps = "|".join(re.escape(step) for step in LONG_TASK_STEPS)
    expect(detail.get_by_test_id("job-progress-text")).to_have_text(re.compile(rf"^\d{{1,2}}% — ({steps})$"))
    expect(detail.get_by_test_id("job-lease")).to_contain_text("Lease claimed")
    expect(detail.get_by_test_id("job-lease")).to_contain_text("Lease deadline")
    shots.take(page, "12-job-progress", "an async agent's job: waiting for the agent, its progress bar and lease")

    detail.get_by_test_id("job-cancel").click()  # a finished attempt shows no bar: its progress is history
    dialog = confirm_dialog(page)
    dialog.get_by_test_id("confirm").click()
    show_success(page, "Job cancelled.")
    expect(detail.get_by_test_id("job-status")).to_have_text("CANCELLED")
    expect(detail.get_by_test_id("job-progress")).to_have_count(0)
    expect(detail.get_by_test_id("job-waiting")).to_have_count(0)


def test_a_job_at_a_checkpoint_says_it_waits_for_a_decision(
    tab: Tab, stack: RunningStack, user: httpx.Client, admin: httpx.Client
) -> None:
    job_id, checkpoint = code_job(user, "waiting words")
    try:
        page = tab.page
        sign_in_admin(page, stack)
        page.goto(f"{stack.state['adminPageUrl']}#jobs/{job_id}")
        waiting = page.get_by_test_id("job-detail").get_by_test_id("job-waiting")
        expect(waiting).to_have_text(f"Waiting for a checkpoint decision ({checkpoint['stage']})")
    finally:
        admin.request("DELETE", f"/api/admin/agent-checkpoints/{checkpoint['id']}", json={"reason": "test done"})


# --- real time (DESIGN.md §15): the page listens on the WebSocket, polling is the fallback -------------------

LIVE_WITHIN_MS = 3_000  # well inside the 10 s poll: only an event frame can bring the row in time


def test_a_new_job_appears_in_the_jobs_tab_from_the_socket(tab: Tab, stack: RunningStack, user: httpx.Client) -> None:
    """With the socket open the header says "live", and a job created through the API shows in the Jobs tab
    without Reload (the Jobs tab has no timer: the job.created frame reloads it)."""
    page = tab.page
    sign_in_admin(page, stack)
    expect(page.get_by_test_id("live")).to_have_text("live")
    page.get_by_test_id("tab-jobs").click()
    expect(page.locator("#jobs-list").get_by_test_id("loading")).to_have_count(0)

    job_id = parked_job(user, f"live-{uuid.uuid4().hex[:8]}")
    expect(page.locator(f'[data-testid="job-row"][data-id="{job_id}"]')).to_be_visible(timeout=LIVE_WITHIN_MS)
    expect(page.get_by_test_id("live")).to_have_text("live")
