// The Dead letters tab (DESIGN.md §18): a queue's dead letters (peeked, not consumed) with their job and why,
// and an audited replay of the chosen ones (or all) back to the queue they died on.
import {
  $, api, badge, empty, enc, fmtTime, h, latest, loading, message, replace, report, show, STALE,
} from "./core.js";
import { confirmDialog } from "./dialog.js";
import { table } from "./render.js";

const DEAD_LETTERS_PATH = "/api/admin/dead-letters";
let queues = null;  // the queue keys the API accepts, read once from its OpenAPI document
let shown = { queue: null, letters: [] };  // what the list shows now: replay acts on this, not on the selector
const selected = new Set();  // message ids ticked in the list shown

// The `queue` parameter's pattern, ^(execute|execute-high|…)$, is the API's own list of queue keys.
function queueKeys(doc) {
  const operation = ((doc.paths || {})[DEAD_LETTERS_PATH] || {}).get || {};
  const param = (operation.parameters || []).find((p) => p.name === "queue") || {};
  const schemas = [param.schema || {}, ...((param.schema || {}).anyOf || [])];
  const pattern = schemas.map((s) => s.pattern).find(Boolean) || "";
  const found = /^\^\(([\w|-]+)\)\$$/.exec(pattern);
  return found ? found[1].split("|") : null;
}
async function fillQueues() {
  if (queues) return true;
  const data = await latest("openapi", "/api/openapi.json");
  if (data === STALE) return false;
  const keys = queueKeys(data);
  if (!keys) throw new Error("The API's OpenAPI document does not list the dead-letter queues.");
  queues = keys;
  replace($("dl-queue"), keys.map((key) => h("option", { value: key }, key)));
  return true;
}
export async function loadDeadLetters() {
  const list = $("dl-list");
  replace(list, loading("Loading dead letters…"));
  setButtons(false);
  try {
    if (!(await fillQueues())) return;
    const queue = $("dl-queue").value;
    const data = await latest("dead-letters", `${DEAD_LETTERS_PATH}?queue=${enc(queue)}`);
    if (data === STALE) return;
    shown = { queue: data.queue || queue, letters: data.deadLetters || [] };
    selected.clear();
    const listed = `${shown.letters.length} message(s) on the ${shown.queue} queue's dead-letter queue.`;
    $("dl-peek").textContent = data.peek ? `${listed} Read without consuming them: ${data.peek}.` : listed;
    renderLetters();
  } catch (err) {
    replace(list, empty(err.message || "Could not load the dead letters.", "dl-error"));
    report(err, "Could not load the dead letters.");
  }
}
export function resetDeadLetters() {
  shown = { queue: null, letters: [] };
  selected.clear();
  replace($("dl-list"));
  replace($("dl-result"));
  show($("dl-result"), false);
}

// ---- the list ----------------------------------------------------------------------------------
function setButtons(enabled) {
  const some = selected.size;
  $("dl-replay-selected").disabled = !enabled || !some;
  $("dl-replay-selected").textContent = some ? `Replay selected (${some})` : "Replay selected";
  $("dl-replay-all").disabled = !enabled || !shown.letters.length;
}
function tick(id, on) {
  if (on) selected.add(id); else selected.delete(id);
  const all = $("dl-list").querySelector("[data-testid=dl-select-all]");
  if (all) {
    all.checked = selected.size === shown.letters.length;
    all.indeterminate = selected.size > 0 && !all.checked;
  }
  setButtons(true);
}
function selectAll(on) {
  $("dl-list").querySelectorAll("[data-testid=dl-select]").forEach((box) => { box.checked = on; });
  shown.letters.forEach((letter) => tick(letter.messageId, on));
}
const jobLink = (jobId) => (jobId ? h("a", { href: `/app/jobs/${enc(jobId)}`, testid: "dl-job" }, jobId) : "—");
function letterRow(letter) {
  const box = h("input", { type: "checkbox", testid: "dl-select", "aria-label": `select message ${letter.messageId}` });
  box.addEventListener("change", () => tick(letter.messageId, box.checked));
  return h("tr", { testid: "dl-row", "data-id": letter.messageId },
    h("td", {}, box), h("td", {}, jobLink(letter.jobId)), h("td", {}, letter.kind || "—"),
    h("td", {}, letter.attempt ?? "—"), h("td", {}, letter.jobStatus ? badge(letter.jobStatus) : "—"),
    h("td", { class: "why" }, letter.reason || "—"), h("td", {}, fmtTime(letter.sentAt) || "—"),
    h("td", {}, letter.receiveCount ?? "—"), h("td", {}, h("code", { class: "small" }, letter.messageId)));
}
function renderLetters() {
  const { queue, letters } = shown;
  if (!letters.length) {
    replace($("dl-list"), empty(`No dead letters on the ${queue} queue.`, "dl-empty"));
    setButtons(false);
    return;
  }
  const all = h("input", { type: "checkbox", testid: "dl-select-all", "aria-label": "select all messages" });
  all.addEventListener("change", () => selectAll(all.checked));
  const heads = ["Job", "Kind", "Attempt", "Job status", "Why", "Sent", "Receives", "Message id"];
  replace($("dl-list"), h("div", { class: "table-wrap" }, h("table", { testid: "dl-table" },
    h("thead", {}, h("tr", {}, h("th", {}, all), heads.map((head) => h("th", {}, head)))),
    h("tbody", {}, letters.map(letterRow)))));
  setButtons(true);
}

// ---- replay ------------------------------------------------------------------------------------
async function replay(all) {
  const { queue, letters } = shown;
  const ids = all ? null : [...selected];
  const count = all ? letters.length : ids.length;
  if (!queue || !count) return;
  const answer = await confirmDialog({
    title: "Replay dead letters?", ok: "Replay",
    text: `Send ${all ? "all " : ""}${count} message(s) back to the ${queue} queue? A message whose job has moved on `
      + "is dropped by the queue's consumer: resubmit such a job instead.",
  });
  if (!answer) return;
  try {
    const data = await api("POST", "/api/admin/dead-letters/replay", all ? { queue } : { queue, ids });
    showResult(queue, data);
    message(`Replayed ${(data.replayed || []).length} message(s) to the ${queue} queue.`, "success");
  } catch (err) {
    report(err, "The replay failed.");
  }
  loadDeadLetters();
}
function showResult(queue, data) {
  const replayed = data.replayed || [];
  const notFound = data.notFound || [];
  replace($("dl-result"),
    h("h3", {}, "Last replay"),
    h("p", { testid: "dl-result-summary" }, `${replayed.length} message(s) sent back to the ${queue} queue`,
      notFound.length ? `; ${notFound.length} no longer on its dead-letter queue: ${notFound.join(", ")}` : "", "."),
    replayed.length ? table(replayed.map((r) => ({ jobId: r.jobId, kind: r.kind, attempt: r.attempt,
      jobStatus: r.jobStatus, messageId: r.messageId })), null, "dl-replayed") : null);
  show($("dl-result"), true);
}

export function initDeadLetters() {
  $("dl-queue").addEventListener("change", () => loadDeadLetters());
  $("dl-refresh").addEventListener("click", () => loadDeadLetters());
  $("dl-replay-selected").addEventListener("click", () => replay(false));
  $("dl-replay-all").addEventListener("click", () => replay(true));
}
