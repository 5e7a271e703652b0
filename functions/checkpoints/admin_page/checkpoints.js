// The Checkpoints tab: the pending queue (rows kept across refreshes so an open preview stays open), each
// checkpoint's preview and the three decisions of DESIGN.md §14.
import { $, api, empty, enc, fmtTime, h, latest, loading, message, replace, report, STALE } from "./core.js";
import { confirmDialog } from "./dialog.js";
import { fields, logList, renderData } from "./render.js";

const rows = new Map();  // checkpoint id → its row element

export async function loadCheckpoints(quiet) {
  const list = $("checkpoints-list");
  if (!quiet && !list.firstChild) replace(list, loading("Loading checkpoints…"));
  try {
    const data = await latest("checkpoints", "/api/admin/agent-checkpoints");
    if (data === STALE) return;
    syncCheckpoints((data.checkpoints || []).filter((c) => !c.status || c.status === "PENDING"));
    $("checkpoints-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    if (!rows.size) replace(list, empty("Could not load checkpoints.", "checkpoints-error"));
    report(err, "Could not load checkpoints.");
  }
}
export function resetCheckpoints() {
  rows.clear();
  replace($("checkpoints-list"));
}
function syncCheckpoints(checkpoints) {
  const list = $("checkpoints-list");
  const seen = new Set(checkpoints.map((c) => c.id));
  for (const [id, row] of rows) if (!seen.has(id)) { row.remove(); rows.delete(id); }
  [...list.children].forEach((child) => { if (!child.matches("[data-testid=checkpoint-row]")) child.remove(); });
  if (!checkpoints.length) { list.appendChild(empty("No pending checkpoints", "checkpoints-empty")); return; }
  for (const cp of checkpoints) {
    let row = rows.get(cp.id);
    if (!row) { row = checkpointRow(cp); rows.set(cp.id, row); }
    replace(row.querySelector(".summary"), checkpointSummary(cp));
    list.appendChild(row);  // keeps the API's order
  }
}
function checkpointSummary(cp) {
  return [h("strong", {}, cp.stage || "checkpoint"), h("span", { class: "muted" }, ` ${cp.jobType || ""}`),
    h("span", {}, ` · job ${cp.jobId}`), h("span", { class: "muted" }, ` · created ${fmtTime(cp.createdAt)}`),
    cp.expiresAt ? h("span", { class: "muted" }, ` · expires ${fmtTime(cp.expiresAt)}`) : null];
}
function checkpointRow(cp) {
  const preview = h("div", { class: "preview", testid: "checkpoint-preview", hidden: true });
  const expand = h("button", { type: "button", testid: "checkpoint-expand", "aria-expanded": "false" }, "Details");
  const row = h("article", { class: "card checkpoint", testid: "checkpoint-row", "data-id": cp.id },
    h("div", { class: "row-head" }, h("div", { class: "summary" }),
      h("div", { class: "actions" }, expand,
        h("button", { type: "button", class: "primary", testid: "approve", onclick: () => decide(cp, "approve") }, "Approve"),
        h("button", { type: "button", testid: "request-changes", onclick: () => decide(cp, "changes") }, "Request changes"),
        h("button", { type: "button", class: "danger", testid: "reject", onclick: () => decide(cp, "reject") }, "Reject"))),
    preview);
  expand.addEventListener("click", async () => {
    const open = preview.hidden;
    preview.hidden = !open;
    expand.setAttribute("aria-expanded", String(open));
    expand.textContent = open ? "Hide" : "Details";
    if (open) await loadPreview(cp.id, preview);
  });
  return row;
}
async function loadPreview(id, preview) {
  replace(preview, loading("Loading checkpoint…"));
  try {
    const data = await latest(`preview:${id}`, `/api/admin/agent-checkpoints/${enc(id)}`);
    if (data === STALE) return;
    const cp = data.checkpoint || {};
    const job = data.job || {};
    replace(preview,
      h("h3", {}, "Data to review"), renderData(cp.data),
      h("h3", {}, "Checkpoint"), fields(cp, ["id", "stage", "status", "attempt", "createdAt", "expiresAt"]),
      job.feedback ? h("div", {}, h("h4", {}, "Feedback this attempt answered"),
        h("p", { class: "prewrap", testid: "preview-feedback" }, job.feedback)) : null,
      h("h3", {}, "Job"), fields(job, ["id", "name", "jobType", "status", "priority", "attempt", "assignedAgentId",
        "userId", "createdAt"]),
      job.description ? h("p", { class: "prewrap" }, job.description) : null,
      job.acceptanceCriteria ? h("div", {}, h("h4", {}, "Acceptance criteria"),
        h("p", { class: "prewrap" }, job.acceptanceCriteria)) : null,
      h("h3", {}, "Logs"), logList(data.logs));
  } catch (err) {
    replace(preview, empty(err.message || "Could not load the checkpoint.", "preview-error"));
    if (err.status === 404 || err.status === 409) loadCheckpoints(true);
  }
}
// The three decisions (DESIGN.md §14): each asks for its text, sends it, and says what happens to the job.
const DECISIONS = {
  approve: {
    dialog: (what) => ({ title: "Approve checkpoint?", text: `Approve ${what}? The job continues.`, ok: "Approve",
      reason: { label: "Comment (optional)", required: false, testid: "approve-comment", maxlength: 4000 } }),
    send: (path, text) => api("POST", path, text ? { comment: text } : undefined),
    done: "Checkpoint approved.",
  },
  changes: {
    dialog: (what) => ({ title: "Request changes?",
      text: `Send ${what} back to its agent? It runs again as the next attempt, with your feedback.`, ok: "Request changes",
      reason: { label: "Feedback for the agent (required)", required: true, testid: "changes-feedback", maxlength: 4000,
        missing: "Feedback is required: the agent gets it with its next attempt." } }),
    send: (path, text) => api("POST", `${path}/request-changes`, { feedback: text }),
    done: "Changes requested: the agent runs again with your feedback.",
  },
  reject: {
    dialog: (what) => ({ title: "Reject checkpoint?", text: `Reject ${what}? The job will be rejected.`, ok: "Reject",
      danger: true, reason: { label: "Reason (required)", required: true, testid: "reject-reason" } }),
    send: (path, text) => api("DELETE", path, { reason: text }),
    done: "Checkpoint rejected.",
  },
};
async function decide(cp, kind) {
  const decision = DECISIONS[kind];
  const answer = await confirmDialog(decision.dialog(`${cp.stage || "checkpoint"} of job ${cp.jobId}`));
  if (!answer) return;
  try {
    await decision.send(`/api/admin/agent-checkpoints/${enc(cp.id)}`, answer.reason);
    message(decision.done, "success");
  } catch (err) {
    if (err.status === 409) message(`This checkpoint cannot be decided so: ${err.message}`, "warning");
    else report(err, "The decision failed.");
  }
  loadCheckpoints(true);
}
