// The Jobs tab: the filtered, paged list and a job's detail (its run: waiting, progress, lease and usage; its
// timeline, data, checkpoints and logs) with the admin actions.
import {
  $, abort, api, badge, empty, enc, fmtTime, fmtValue, fromNow, h, humanize, latest, loading, message, newPager,
  pageToken, replace, report, show, STALE, state, turnPage,
} from "./core.js";
import { confirmDialog } from "./dialog.js";
import { fields, logList, renderData, table } from "./render.js";

let pager = null;

// ---- the list ----------------------------------------------------------------------------------
function readJobFilter() {
  return { status: $("jobs-status").value, jobType: $("jobs-type").value.trim(), limit: $("jobs-limit").value };
}
function jobQuery(current) {
  const params = new URLSearchParams();
  if (current.filter.status) params.set("status", current.filter.status);
  if (current.filter.jobType) params.set("jobType", current.filter.jobType);
  params.set("limit", current.filter.limit);
  const token = pageToken(current);
  if (token) params.set("nextToken", token);
  return params.toString();
}
export async function loadJobs() {
  const current = pager || (pager = newPager(readJobFilter()));
  const list = $("jobs-list");
  replace(list, loading("Loading jobs…"));
  $("jobs-next").disabled = true;
  $("jobs-prev").disabled = true;
  try {
    const data = await latest("jobs", `/api/admin/jobs?${jobQuery(current)}`);
    if (data === STALE) return;
    const jobs = data.jobs || [];
    current.next = data.nextToken || null;
    $("jobs-page").textContent = `page ${current.page + 1}`;
    $("jobs-prev").disabled = current.page === 0;
    $("jobs-next").disabled = !current.next;
    if (!jobs.length) { replace(list, empty("No jobs match these filters.", "jobs-empty")); return; }
    replace(list, jobsTable(jobs));
  } catch (err) {
    replace(list, empty("Could not load jobs.", "jobs-error"));
    report(err, "Could not load jobs.");
  }
}
function jobsTable(jobs) {
  const cols = ["name", "jobType", "status", "priority", "attempt", "assignedAgentId", "updatedAt"];
  return h("div", { class: "table-wrap" }, h("table", { class: "clickable" },
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, humanize(c))))),
    h("tbody", {}, jobs.map((job) => h("tr", {
      testid: "job-row", "data-id": job.id, "data-status": job.status, tabindex: 0,
      onclick: () => openJob(job.id), onkeydown: (event) => event.key === "Enter" && openJob(job.id),
    }, cols.map((c) => h("td", {}, c === "status" ? badge(job.status) : fmtValue(c, job[c]))))))));
}
function pageJobs(delta) {
  if (pager && turnPage(pager, delta)) loadJobs();
}
export function resetJobs() {
  pager = null;
  state.jobId = null;
  replace($("jobs-list"));
  replace($("job-detail"));
}

// ---- one job -----------------------------------------------------------------------------------
export const jobHash = () => (state.jobId ? `#jobs/${enc(state.jobId)}` : "#jobs");
// Shows one job in the Jobs tab (the list hidden); the tab's own selection (app.js) loads it.
export function focusJob(id) {
  state.jobId = id;
  show($("jobs-list-view"), !id);
  show($("job-detail-view"), Boolean(id));
}
function openJob(id) {
  focusJob(id);
  history.replaceState(null, "", jobHash());
  loadJob();
}
function closeJob() {
  abort("job");
  focusJob(null);
  history.replaceState(null, "", jobHash());
  loadJobs();
}
export async function loadJob() {
  const box = $("job-detail");
  replace(box, loading("Loading job…"));
  try {
    const data = await latest("job", `/api/admin/jobs/${enc(state.jobId)}`);
    if (data === STALE) return;
    replace(box, jobDetail(data));
  } catch (err) {
    replace(box, empty(err.message || "Could not load the job.", "job-error"));
    report(err, "Could not load the job.");
  }
}
function jobDetail(data) {
  const job = data.job || {};
  return [
    h("div", { class: "toolbar" }, h("h2", {}, job.name || job.id), badge(job.status, "job-status")),
    jobActions(job),
    fields(job, ["id", "jobType", "priority", "attempt", "maxAttempts", "autoResubmit", "assignedAgentId",
      "userId", "createdAt", "updatedAt", "feedback"]),
    runSection(job),
    job.description ? h("section", {}, h("h3", {}, "Description"), h("p", { class: "prewrap" }, job.description)) : null,
    job.acceptanceCriteria ? h("section", {}, h("h3", {}, "Acceptance criteria"),
      h("p", { class: "prewrap" }, job.acceptanceCriteria)) : null,
    h("section", {}, h("h3", {}, "Timeline"), timeline(data.timeline)),
    h("section", {}, h("h3", {}, "Input data"), renderData(job.inputData)),
    job.result !== null && job.result !== undefined ? h("section", {}, h("h3", {}, "Result"), renderData(job.result)) : null,
    h("section", {}, h("h3", {}, "Checkpoints"), (data.checkpoints || []).length
      ? table(data.checkpoints, ["stage", "attempt", "status", "decidedBy", "decidedAt", "comment", "feedback",
        "rejectionReason", "cancelReason", "expiresAt"], "job-checkpoints")
      : empty("No checkpoints.")),
    h("section", {}, h("h3", {}, "Logs"), logList(data.logs)),
  ];
}
const FINAL = ["COMPLETED", "REJECTED", "CANCELLED"];  // no cancel from these (the API answers 409)
const actionButton = (testid, label, onclick) => h("button", { type: "button", testid, onclick }, label);
function jobActions(job) {
  return h("div", { class: "actions" },
    actionButton("job-resubmit", "Force resubmit", () => jobAction(job, "resubmit")),
    actionButton("job-complete", "Force complete", () => jobAction(job, "complete")),
    actionButton("job-reassign", "Reassign", () => reassign(job)),
    actionButton("job-recheck", "Re-check", () => jobAction(job, "recheck")),
    FINAL.includes(job.status) ? null : h("button", { type: "button", class: "danger", testid: "job-cancel",
      onclick: () => cancelJob(job) }, job.status === "ASSIGNED" ? "Cancel assignment" : "Cancel job"));
}

// ---- the current run: waiting, progress, lease, usage ------------------------------------------
// waitingFor is "agent" (an async agent accepted the attempt) or {reason, checkpoint} (a review is pending).
export function waitingWords(waitingFor) {
  if (!waitingFor) return null;
  const reason = typeof waitingFor === "string" ? waitingFor : String(waitingFor.reason || "");
  if (reason === "agent") return "Waiting for the agent";
  if (/checkpoint/i.test(reason) || (typeof waitingFor === "object" && waitingFor.checkpoint)) {
    const stage = waitingFor.checkpoint && waitingFor.checkpoint.stage;
    return `Waiting for a checkpoint decision${stage ? ` (${stage})` : ""}`;
  }
  return `Waiting for ${reason || "a decision"}`;
}
function progressBar(job) {
  if (typeof job.progress !== "number") return null;
  const share = Math.min(1, Math.max(0, job.progress));
  const percent = `${Math.round(share * 100)}%`;
  return h("div", { class: "progress", testid: "job-progress" },
    h("progress", { max: 1, value: share, "aria-label": `progress ${percent}` }),
    h("span", { class: "progress-text", testid: "job-progress-text" },
      h("strong", {}, percent), job.progressMessage ? ` — ${job.progressMessage}` : ""));
}
const number = (n) => Number(n || 0).toLocaleString("en-US");
function usageFields(usage) {
  if (!usage) return null;
  const prompt = usage.promptTokens || 0;
  const completion = usage.completionTokens || 0;
  const cost = Number(usage.costUsd || 0);
  return fields({
    tokens: `${number(prompt + completion)} (prompt ${number(prompt)} + completion ${number(completion)})`,
    cost: `$${cost.toFixed(cost && cost < 0.01 ? 6 : 2)}`,
  }, ["tokens", "cost"], { tokens: "Judge tokens", cost: "Judge cost" });
}
// Progress and lease belong to a running attempt: a settled or cancelled job's last report is history (a bar
// stuck at 83% on a COMPLETED job would say it is still going).
function leaseFacts(job) {
  const when = (iso) => (iso ? `${fmtTime(iso)} (${fromNow(iso)})` : null);
  const attempt = `${job.attempt} of ${job.maxAttempts}`;
  return { attempt, leaseClaimed: when(job.claimedAt), leaseDeadline: when(job.deadline) };
}
function runSection(job) {
  const running = job.status === "IN_PROGRESS";
  const waiting = waitingWords(job.waitingFor);
  const lease = running && (job.claimedAt || job.deadline);
  const parts = [
    waiting ? h("p", { class: "notice", testid: "job-waiting" }, waiting) : null,
    running ? progressBar(job) : null,
    lease ? h("div", { testid: "job-lease" }, fields(leaseFacts(job), ["attempt", "leaseClaimed", "leaseDeadline"])) : null,
    job.usage ? h("div", { testid: "job-usage" }, usageFields(job.usage)) : null,
  ].filter(Boolean);
  const title = running ? "Current run" : "Judge usage";
  return parts.length ? h("section", { class: "run", testid: "job-run" }, h("h3", {}, title), parts) : null;
}
function timeline(items) {
  if (!items || !items.length) return empty("No events yet.");
  return h("ol", { class: "timeline", testid: "timeline" }, items.map((t) => h("li", {},
    badge(t.status), " ", h("time", {}, fmtTime(t.at)),
    t.message ? h("span", { class: "muted" }, ` — ${t.message}`) : null)));
}

// ---- actions -----------------------------------------------------------------------------------
async function cancelJob(job) {
  const unassign = job.status === "ASSIGNED";
  const answer = await confirmDialog({
    title: unassign ? "Cancel the assignment?" : "Cancel this job?",
    text: unassign ? `${job.name || job.id} goes back to PENDING without its agent.`
      : `${job.name || job.id} is stopped for good: its agent is told, its checkpoints close, nothing completes it.`,
    ok: unassign ? "Cancel assignment" : "Cancel job", danger: true,
    reason: { label: "Reason (optional)", required: false, testid: "cancel-reason" },
  });
  if (!answer) return;
  const body = answer.reason ? { reason: answer.reason } : undefined;
  await runJobAction(`/api/jobs/${enc(job.id)}/cancel`, body, unassign ? "Assignment cancelled." : "Job cancelled.");
}
const ACTIONS = {
  resubmit: { title: "Force resubmit?", text: "The job is sent to its agent again.", reason: false },
  complete: { title: "Force complete?", text: "The job is marked COMPLETED without the judge.", reason: true },
  recheck: { title: "Re-check?", text: "The judge evaluates the job's result again.", reason: null },
};
async function jobAction(job, action) {
  const spec = ACTIONS[action];
  const answer = await confirmDialog({
    title: spec.title, text: `${spec.text} Job: ${job.name || job.id}`, ok: humanize(action),
    reason: spec.reason === null ? null
      : { label: spec.reason ? "Reason (required)" : "Reason (optional)", required: spec.reason, testid: "action-reason" },
  });
  if (!answer) return;
  const body = spec.reason === null ? undefined : answer.reason ? { reason: answer.reason } : {};
  await runJobAction(`/api/admin/jobs/${enc(job.id)}/${action}`, body, `${humanize(action)} requested.`);
}
async function reassign(job) {
  let agents;
  try {
    const data = await latest("agents", "/api/admin/agents");
    if (data === STALE) return;  // a later Reassign asked again
    agents = data.agents || [];
  } catch (err) { report(err, "Could not load agents."); return; }
  const options = agents.filter((a) => a.id !== job.assignedAgentId)
    .map((a) => ({ value: a.id, label: `${a.name || a.id}${a.status && a.status !== "ACTIVE" ? ` (${a.status})` : ""}` }));
  if (!options.length) { message("There is no other agent to reassign this job to.", "warning"); return; }
  const answer = await confirmDialog({
    title: "Reassign job?", text: `Give ${job.name || job.id} to another agent.`, ok: "Reassign",
    select: { label: "Agent", options, testid: "reassign-agent" },
  });
  if (!answer) return;
  await runJobAction(`/api/admin/jobs/${enc(job.id)}/reassign`, { agentId: answer.value }, "Job reassigned.");
}
async function runJobAction(path, body, done) {
  try {
    await api("POST", path, body);
    message(done, "success");
  } catch (err) {
    if (err.status === 409) message(`Not possible in the job's current state: ${err.message}`, "warning");
    else report(err, "The action failed.");
  }
  if (state.jobId && state.session) loadJob();
}

export function initJobs() {
  $("jobs-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    pager = newPager(readJobFilter());
    loadJobs();
  });
  $("jobs-next").addEventListener("click", () => pageJobs(1));
  $("jobs-prev").addEventListener("click", () => pageJobs(-1));
  $("job-back").addEventListener("click", closeJob);
  $("job-reload").addEventListener("click", loadJob);
}
