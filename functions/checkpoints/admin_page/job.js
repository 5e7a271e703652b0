// One job's page (/app/jobs/<id>, seed 000's /jobs/[jobId]): its status, the current run's progress, the timeline
// grouped by attempt, a readable preview of the result, its checkpoints and their decisions, and the actions its
// status allows — Cancel and Resubmit for its owner, and the admin actions for admins. Another user's job answers
// 404 like a missing one, so the page says "not found" and shows nothing of it.
import {
  $, abort, api, badge, currentUser, empty, enc, fmtTime, fromNow, h, humanize, latest, loading, message, replace,
  report, STALE,
} from "./core.js";
import { confirmDialog } from "./dialog.js";
import { fields, renderData, resultPreview, table, tagChips } from "./render.js";

let shown = null;  // { id, stamp } of the job on the page: a reload that changes nothing re-renders nothing
let onShown = () => undefined;  // tells app.js whose job it is (the nav highlights My jobs or All jobs)

// ---- loading ----------------------------------------------------------------------------------
// `quiet`: a refresh (the socket's event, the 10 s poll) keeps the page as it is while it asks.
export async function loadJob(id, quiet) {
  const box = $("job-view");
  if (!quiet || !shown || shown.id !== id) { shown = null; replace(box, loading("Loading job…")); }
  try {
    const data = await latest("job", `/api/jobs/${enc(id)}`);
    if (data === STALE) return;
    const job = data.job || {};
    const stamp = JSON.stringify([job.version, job.updatedAt, job.progress, job.progressMessage,
      (data.logs || []).length, (data.checkpoints || []).map((c) => [c.id, c.status])]);
    onShown(job);
    if (shown && shown.id === id && shown.stamp === stamp) return;
    const open = openDetails(box);
    replace(box, jobPage(data));
    reopen(box, open);
    shown = { id, stamp };
  } catch (err) {
    shown = null;
    if (err.status === 404) {
      replace(box, h("div", { class: "card not-found", testid: "job-not-found" }, h("h2", {}, "Job not found"),
        h("p", {}, `There is no job ${id} that you can see. It may belong to someone else, or the link is wrong.`),
        h("a", { href: "/app/jobs" }, "Back to my jobs")));
      onShown(null);
      return;
    }
    replace(box, empty(err.message || "Could not load the job.", "job-error"));
    report(err, "Could not load the job.");
  }
}
export function resetJob() {
  abort("job");
  shown = null;
  replace($("job-view"));
}
export const isFinal = (job) => Boolean(job) && FINAL.includes(job.status);
// Folded sections the person opened stay open across a live reload.
function openDetails(box) {
  return new Set([...box.querySelectorAll("details[data-key][open]")].map((d) => d.dataset.key));
}
function reopen(box, keys) {
  box.querySelectorAll("details[data-key]").forEach((d) => { if (keys.has(d.dataset.key)) d.open = true; });
}

// ---- the page ---------------------------------------------------------------------------------
function jobPage(data) {
  const job = data.job || {};
  const user = currentUser() || {};
  return [
    h("div", { class: "job-head" },
      h("h2", { testid: "job-name" }, job.name || job.id), badge(job.status, "job-status"), tagChips(job.tags)),
    h("p", { class: "muted small" }, `Job ${job.id} · ${job.jobType} · priority ${job.priority} · created `,
      h("time", {}, fmtTime(job.createdAt)), ` · updated ${fromNow(job.updatedAt)}`),
    actions(job, user.admin),
    runSection(job),
    job.description ? h("section", {}, h("h3", {}, "Task"), h("p", { class: "prewrap" }, job.description)) : null,
    job.acceptanceCriteria ? h("section", {}, h("h3", {}, "Acceptance criteria"),
      h("p", { class: "prewrap" }, job.acceptanceCriteria)) : null,
    job.feedback ? h("section", {}, h("h3", {}, "Feedback for the next attempt"),
      h("p", { class: "prewrap", testid: "job-feedback" }, job.feedback)) : null,
    job.result !== null && job.result !== undefined
      ? h("section", { testid: "job-result" }, h("h3", {}, "Result"), resultPreview(job.result)) : null,
    h("section", {}, h("h3", {}, "Timeline"), attemptTimeline(data.logs, data.timeline, job)),
    h("section", {}, h("h3", {}, "Checkpoints"), checkpointList(data.checkpoints)),
    h("section", {}, h("h3", {}, "Input data"), renderData(job.inputData)),
    h("details", { "data-key": "facts" }, h("summary", {}, "All fields"),
      fields(job, ["id", "userId", "jobType", "priority", "attempt", "maxAttempts", "autoResubmit", "passScore",
        "assignedAgentId", "templateId", "deadlineSeconds", "createdAt", "updatedAt"])),
  ];
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
// A running attempt's bar: its reported share, or an indeterminate bar while the agent has said nothing yet.
function progressBar(job) {
  const known = typeof job.progress === "number";
  const share = known ? Math.min(1, Math.max(0, job.progress)) : null;
  const percent = known ? `${Math.round(share * 100)}%` : "working";
  return h("div", { class: "progress", testid: "job-progress" },
    h("progress", known ? { max: 1, value: share, "aria-label": `progress ${percent}` } : { "aria-label": "in progress" }),
    h("span", { class: "progress-text", testid: "job-progress-text" },
      h("strong", {}, percent), job.progressMessage ? ` — ${job.progressMessage}` : ""));
}
const number = (n) => Number(n || 0).toLocaleString("en-US");
function usageFields(usage) {
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
function runSection(job) {
  const running = job.status === "IN_PROGRESS";
  const waiting = running ? waitingWords(job.waitingFor) : null;
  const when = (iso) => (iso ? `${fmtTime(iso)} (${fromNow(iso)})` : null);
  const lease = running && (job.claimedAt || job.deadline);
  const attempt = job.attempt ? `attempt ${job.attempt} of ${job.maxAttempts}` : "not run yet";
  const parts = [
    h("p", { class: "muted small", testid: "job-attempts" }, `${humanize(job.status || "")} · ${attempt}`),
    waiting ? h("p", { class: "notice", testid: "job-waiting" }, waiting) : null,
    running ? progressBar(job) : null,
    lease ? h("div", { testid: "job-lease" }, fields({ leaseClaimed: when(job.claimedAt),
      leaseDeadline: when(job.deadline) }, ["leaseClaimed", "leaseDeadline"])) : null,
    job.usage ? h("div", { testid: "job-usage" }, usageFields(job.usage)) : null,
  ];
  const title = running ? "Current run" : job.usage ? "Judge usage" : "Status";
  return h("section", { class: "run", testid: "job-run" }, h("h3", {}, title), parts);
}

// ---- the timeline, one group per attempt --------------------------------------------------------
// Entries name people by their user id: the signed-in person's own is "you".
const actorName = (actor) => (actor === (currentUser() || {}).sub ? "you" : actor);
const TRACE = new Set(["AGENT_REQUEST", "AGENT_RESPONSE", "AGENT_ACCEPTED", "AGENT_CALLBACK", "VALIDATION",
  "CHECKPOINT", "ADMIN_ACTION"]);
function entry(log) {
  const payloads = ["requestPayload", "responsePayload"].filter((k) => log[k] !== null && log[k] !== undefined);
  return h("li", { class: TRACE.has(log.status) ? "trace" : "step", testid: "timeline-entry" },
    h("div", {}, badge(log.status), " ", h("time", {}, fmtTime(log.createdAt)),
      log.actor ? h("span", { class: "muted" }, ` · by ${actorName(log.actor)}`) : null,
      typeof log.latencyMs === "number" ? h("span", { class: "muted" }, ` · ${Math.round(log.latencyMs)} ms`) : null),
    log.message ? h("div", { class: "log-message" }, log.message) : null,
    payloads.map((k) => h("details", { "data-key": `${log.id}:${k}` }, h("summary", {}, humanize(k)), renderData(log[k]))));
}
function attemptTitle(attempt, job) {
  if (!attempt) return "Before the first run";
  const current = attempt === job.attempt ? (job.status === "IN_PROGRESS" ? " · running" : " · latest") : "";
  return `Attempt ${attempt}${current}`;
}
// The detail's log page (newest entries, in time order) grouped by the attempt each entry belongs to.
function attemptTimeline(logs, timeline, job) {
  if (!logs || !logs.length) {
    if (!timeline || !timeline.length) return empty("No events yet.");
    return h("ol", { class: "timeline", testid: "timeline" }, timeline.map((t) => h("li", {},
      badge(t.status), " ", h("time", {}, fmtTime(t.at)), t.message ? ` — ${t.message}` : "")));
  }
  const groups = [];
  for (const log of logs) {
    const attempt = Number(log.attempt || 0);
    const last = groups[groups.length - 1];
    if (last && last.attempt === attempt) last.logs.push(log);
    else groups.push({ attempt, logs: [log] });
  }
  return h("div", { class: "timeline", testid: "timeline" }, groups.map((group) => h("section", {
    class: "attempt", testid: "attempt-group", "data-attempt": group.attempt,
  }, h("h4", {}, attemptTitle(group.attempt, job)), h("ol", { class: "logs" }, group.logs.map(entry)))));
}

// ---- checkpoints and their decisions ----------------------------------------------------------
function decision(cp) {
  const text = cp.comment || cp.feedback || cp.rejectionReason || cp.cancelReason || "";
  const who = cp.decidedBy || cp.approvedBy || cp.rejectedBy || "";
  const when = cp.decidedAt || cp.approvedAt || cp.rejectedAt || "";
  if (cp.status === "PENDING") return `waiting for a reviewer${cp.expiresAt ? ` (expires ${fmtTime(cp.expiresAt)})` : ""}`;
  return [who ? `by ${actorName(who)}` : "", when ? ` on ${fmtTime(when)}` : "", text ? ` — ${text}` : ""].join("").trim() || "—";
}
function checkpointList(checkpoints) {
  if (!checkpoints || !checkpoints.length) return empty("No checkpoints: this job type needs no review.");
  const rows = checkpoints.map((cp) => ({ stage: cp.stage, attempt: cp.attempt, status: cp.status, decision: decision(cp) }));
  return table(rows, ["stage", "attempt", "status", "decision"], "job-checkpoints");
}

// ---- actions ----------------------------------------------------------------------------------
const FINAL = ["COMPLETED", "REJECTED", "CANCELLED"];  // no cancel from these (the API answers 409)
const RESUBMITTABLE = ["RESUBMISSION_REQUIRED", "FAILED"];
const button = (testid, label, onclick, kind) => h("button", { type: "button", class: kind, testid, onclick }, label);
function actions(job, admin) {
  const owner = [
    FINAL.includes(job.status) ? null : button("job-cancel", job.status === "ASSIGNED" ? "Cancel assignment" : "Cancel job",
      () => cancelJob(job), "danger"),
    RESUBMITTABLE.includes(job.status) ? button("job-owner-resubmit", "Resubmit", () => resubmit(job), "primary") : null,
    button("job-reload", "Reload", () => loadJob(job.id)),
  ];
  const forAdmins = admin ? [
    h("span", { class: "muted small admin-label" }, "Admin:"),
    button("job-resubmit", "Force resubmit", () => adminAction(job, "resubmit")),
    button("job-complete", "Force complete", () => adminAction(job, "complete")),
    button("job-reassign", "Reassign", () => reassign(job)),
    button("job-recheck", "Re-check", () => adminAction(job, "recheck")),
  ] : [];
  return h("div", { class: "actions job-actions" }, owner, forAdmins);
}
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
  await run(job, `/api/jobs/${enc(job.id)}/cancel`, body, unassign ? "Assignment cancelled." : "Job cancelled.");
}
async function resubmit(job) {
  const answer = await confirmDialog({
    title: "Resubmit this job?", ok: "Resubmit",
    text: `${job.name || job.id} runs again as attempt ${Number(job.attempt || 0) + 1}; its agent gets your reason.`,
    reason: { label: "Reason (optional)", required: false, testid: "resubmit-reason" },
  });
  if (!answer) return;
  const body = answer.reason ? { reason: answer.reason } : undefined;
  await run(job, `/api/jobs/${enc(job.id)}/resubmit`, body, "Job resubmitted.");
}
const ADMIN_ACTIONS = {
  resubmit: { title: "Force resubmit?", text: "The job is sent to its agent again.", reason: false },
  complete: { title: "Force complete?", text: "The job is marked COMPLETED without the judge.", reason: true },
  recheck: { title: "Re-check?", text: "The judge evaluates the job's result again.", reason: null },
};
async function adminAction(job, action) {
  const spec = ADMIN_ACTIONS[action];
  const answer = await confirmDialog({
    title: spec.title, text: `${spec.text} Job: ${job.name || job.id}`, ok: humanize(action),
    reason: spec.reason === null ? null
      : { label: spec.reason ? "Reason (required)" : "Reason (optional)", required: spec.reason, testid: "action-reason" },
  });
  if (!answer) return;
  const body = spec.reason === null ? undefined : answer.reason ? { reason: answer.reason } : {};
  await run(job, `/api/admin/jobs/${enc(job.id)}/${action}`, body, `${humanize(action)} requested.`);
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
  await run(job, `/api/admin/jobs/${enc(job.id)}/reassign`, { agentId: answer.value }, "Job reassigned.");
}
async function run(job, path, body, done) {
  try {
    await api("POST", path, body);
    message(done, "success");
  } catch (err) {
    if (err.status === 409) message(`Not possible in the job's current state: ${err.message}`, "warning");
    else report(err, "The action failed.");
  }
  if (currentUser()) loadJob(job.id);
}

// `whose(job)` is told which job is shown (null: none), so the nav can say where the page belongs.
export function initJob(whose) { onShown = whose; }
