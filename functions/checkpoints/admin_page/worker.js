// The Worker tab: seed 004's start/stop switch and the execute queues' concurrency.
import { $, api, currentUser, empty, h, isObject, latest, loading, message, replace, report, STALE } from "./core.js";
import { fields, table } from "./render.js";

export async function loadWorker(quiet) {
  const box = $("worker-view");
  if (!quiet || !box.firstChild) replace(box, loading("Loading worker status…"));
  try {
    const data = await latest("worker", "/api/admin/agent-worker");
    if (data === STALE) return;
    renderWorker(box, data);
  } catch (err) {
    replace(box, empty("Could not load the worker status.", "worker-error"));
    report(err, "Could not load the worker status.");
  }
}
function renderWorker(box, data) {
  const worker = data.worker || {};
  const running = Boolean(worker.isRunning);
  const input = h("input", { type: "number", min: 2, max: 1000, step: 1, testid: "max-concurrency",
    id: "max-concurrency", value: worker.maxConcurrentJobs ?? "" });
  const extra = Object.keys(worker).filter((k) => !["isRunning", "activeJobs", "maxConcurrentJobs"].includes(k));
  replace(box,
    h("div", { class: "worker-head" },
      h("span", { class: `state ${running ? "running" : "stopped"}`, testid: "worker-state" }, running ? "running" : "stopped"),
      h("span", {}, `${worker.activeJobs ?? 0} active job(s)`),
      h("button", { type: "button", class: "primary", testid: "worker-start", disabled: running,
        onclick: () => workerCall("POST", undefined, "Worker started.") }, "Start"),
      h("button", { type: "button", class: "danger", testid: "worker-stop", disabled: !running,
        onclick: () => workerCall("DELETE", undefined, "Worker stopped. Queued jobs wait until it starts again.") },
      "Stop")),
    h("form", { class: "toolbar", id: "concurrency-form", novalidate: true }, h("label", { for: "max-concurrency" }, "Max concurrent jobs "),
      input, h("button", { type: "submit", testid: "save-concurrency" }, "Save")),
    extra.length ? fields(worker, extra) : null,
    h("h3", {}, "Jobs"), isObject(data.jobs) ? table([data.jobs], null, "worker-jobs") : empty("No job counts."));
  $("concurrency-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = Number(input.value);
    if (!Number.isInteger(value) || value < 2 || value > 1000) {
      message("Max concurrent jobs must be a whole number from 2 to 1000.", "error");
      return;
    }
    workerCall("PUT", { maxConcurrentJobs: value }, `Max concurrent jobs set to ${value}.`);
  });
}
async function workerCall(method, body, done) {
  try {
    await api(method, "/api/admin/agent-worker", body);
    message(done, "success");
  } catch (err) {
    report(err, "The worker request failed.");
  }
  if (currentUser()) loadWorker(true);
}
export function initWorker() {
  $("worker-refresh").addEventListener("click", () => loadWorker());
}
