// The Agents tab (DESIGN.md §18): each agent's mode and concurrency, its last onboarding check with "Run check",
// its scorecard over a window, and the A2A agent-card import.
import {
  $, api, badge, empty, enc, h, isObject, latest, loading, message, replace, report, show, STALE,
} from "./core.js";
import { fields, table } from "./render.js";

const cards = new Map();  // agent id → {check, scorecard} boxes of its card
const WINDOW_LABELS = { "24h": "24 hours", "7d": "7 days", "30d": "30 days" };
const windowValue = () => $("agents-window").value;
const count = (n) => Number(n || 0).toLocaleString("en-US");
const dollars = (n) => { const v = Number(n || 0); return `$${v.toFixed(v && v < 0.01 ? 6 : 2)}`; };
function millis(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
const percent = (rate) => (typeof rate === "number" ? `${(rate * 100).toFixed(1)}%` : "—");

export async function loadAgents() {
  const list = $("agents-list");
  replace(list, loading("Loading agents…"));
  try {
    const data = await latest("agent-list", "/api/admin/agents");  // not "agents": the reassign dialog's view
    if (data === STALE) return;
    const agents = data.agents || [];
    cards.clear();
    if (!agents.length) { replace(list, empty("No agents are registered.", "agents-empty")); return; }
    replace(list, agents.map(agentCard));
    loadScorecards();
  } catch (err) {
    replace(list, empty("Could not load agents.", "agents-error"));
    report(err, "Could not load agents.");
  }
}
export function resetAgents() {
  cards.clear();
  replace($("agents-list"));
  $("import-form").reset();
  show($("import-error"), false);
}

// ---- one agent ---------------------------------------------------------------------------------
function agentFacts(agent) {
  const async = agent.mode === "async";
  return {
    jobTypes: (agent.jobTypes || []).join(", ") || "any",
    mode: async ? "async (answers 202, then callbacks)" : "sync (answers with its output)",
    maxConcurrency: agent.maxConcurrency ? `${agent.maxConcurrency} call(s) at once` : "no per-agent limit",
    timeoutSeconds: async ? null : `${agent.timeoutSeconds} s per call`,
    maxRunSeconds: async ? `${agent.maxRunSeconds} s` : null,
    heartbeatSeconds: async && agent.heartbeatSeconds ? `${agent.heartbeatSeconds} s` : null,
    endpointUrl: agent.endpointUrl,
  };
}
const FACT_LABELS = { maxConcurrency: "Max concurrency", timeoutSeconds: "Timeout", maxRunSeconds: "Longest run",
  heartbeatSeconds: "Heartbeat", endpointUrl: "Endpoint" };
function agentCard(agent) {
  const check = h("div", { class: "check-box", testid: "agent-check" }, checkView(agent.check));
  const scorecard = h("section", { class: "scorecard", testid: "agent-scorecard" }, loading("Loading scorecard…"));
  const run = h("button", { type: "button", testid: "run-check" }, "Run check");
  run.addEventListener("click", () => runCheck(agent, check, run));
  cards.set(agent.id, { check, scorecard });
  return h("article", { class: "card agent", testid: "agent-card", "data-id": agent.id },
    h("div", { class: "row-head" },
      h("div", {}, h("h3", { class: "agent-name" }, agent.name || agent.id),
        h("code", { class: "muted small" }, agent.id)),
      h("div", { class: "actions" }, badge(agent.status, "agent-status"),
        h("span", { class: `badge mode-${agent.mode || "sync"}`, testid: "agent-mode" }, agent.mode || "sync"))),
    h("div", { class: "agent-grid" },
      h("section", {}, fields(agentFacts(agent), Object.keys(agentFacts(agent)), FACT_LABELS),
        h("div", { class: "check-head" }, h("h4", {}, "Onboarding check"), run), check),
      scorecard));
}
function checkView(check) {
  if (!check) return h("p", { class: "muted", testid: "check-result" }, "Never checked.");
  return [
    h("p", { testid: "check-result" }, badge(check.passed ? "PASSED" : "FAILED", "check-status"), " ",
      h("span", { class: "check-reason" }, check.reason)),
    fields({ latency: millis(check.latencyMs), checkedAt: check.checkedAt }, ["latency", "checkedAt"],
      { checkedAt: "Checked" }),
  ];
}
async function runCheck(agent, box, button) {
  button.disabled = true;
  button.textContent = "Checking…";
  try {
    const data = await api("POST", `/api/admin/agents/${enc(agent.id)}/check`);
    const check = data.check;
    replace(box, checkView(check));
    if (check && check.passed) message(`Check passed: ${agent.name}.`, "success");
    else message(`Check failed for ${agent.name}: ${check ? check.reason : "no result"}`, "warning");
  } catch (err) {
    report(err, "The check could not run.");
  } finally {
    button.disabled = false;
    button.textContent = "Run check";
  }
}

// ---- scorecards --------------------------------------------------------------------------------
function loadScorecards() {
  cards.forEach((_boxes, id) => loadScorecard(id));
}
async function loadScorecard(id) {
  const window = windowValue();
  const box = cards.get(id).scorecard;
  replace(box, loading("Loading scorecard…"));
  try {
    const data = await latest(`scorecard:${id}`, `/api/admin/agents/${enc(id)}/scorecard?window=${enc(window)}`);
    if (data === STALE || cards.get(id)?.scorecard !== box) return;  // superseded, or the list was reloaded
    replace(box, scorecardView(data.scorecard || {}, window));
  } catch (err) {
    replace(box, empty(err.message || "Could not load the scorecard.", "scorecard-error"));
  }
}
const kpi = (name, label, value) => h("div", { class: "kpi", testid: `kpi-${name}` },
  h("span", { class: "kpi-value" }, value), h("span", { class: "kpi-label" }, label));
function percentile(latency, key) {
  const value = latency[key];
  if (value === null || value === undefined) return latency.samples ? "> 300 s" : "—";  // beyond the last bucket
  return `≤ ${millis(value)}`;
}
function scorecardView(card, window) {
  const latency = card.latencyMs || {};
  const usage = card.usage || {};
  const tokens = (usage.promptTokens || 0) + (usage.completionTokens || 0);
  const failures = Object.entries(card.failures || {})
    .map(([kind, n]) => ({ kind: kind.replace(/_/g, " "), count: n }));
  const allTime = card.allTime || {};
  const allTokens = (allTime.promptTokens || 0) + (allTime.completionTokens || 0);
  return [
    h("h4", {}, `Scorecard · last ${WINDOW_LABELS[window] || window}`),
    h("div", { class: "kpis" },
      kpi("jobs", "jobs", count(card.jobs)),
      kpi("attempts", "attempts", count(card.attempts)),
      kpi("acceptance", "accepted", percent(card.acceptanceRate)),
      kpi("p50", "p50 latency", percentile(latency, "p50")),
      kpi("p95", "p95 latency", percentile(latency, "p95")),
      kpi("tokens", "judge tokens", count(tokens)),
      kpi("cost", "judge cost", dollars(usage.costUsd))),
    failures.length ? [h("h5", {}, "Failures by kind"), table(failures, ["kind", "count"], "scorecard-failures")]
      : h("p", { class: "muted small", testid: "scorecard-no-failures" }, "No failures in this window."),
    h("p", { class: "muted small" }, `All time: ${count(allTime.judgedOutputs)} judged output(s), `
      + `${count(allTokens)} judge tokens, ${dollars(allTime.costUsd)}.`),
  ];
}

// ---- A2A card import ---------------------------------------------------------------------------
// The card's JSON is parsed here first (nothing is sent when it is not a JSON object); what the API refuses
// (a card without a url, an unsafe address, a short secret) is shown with the API's own message.
function importBody() {
  const cardText = $("import-card").value.trim();
  const cardUrl = $("import-card-url").value.trim();
  if (Boolean(cardText) === Boolean(cardUrl)) throw new Error("Give the card's JSON or its URL — one of the two.");
  const body = { secret: $("import-secret").value };
  if (cardText) {
    let card;
    try { card = JSON.parse(cardText); } catch (err) { throw new Error(`The card is not valid JSON: ${err.message}`); }
    if (!isObject(card)) throw new Error("The card must be a JSON object ({…}).");
    body.card = card;
  } else body.cardUrl = cardUrl;
  if (!body.secret) throw new Error("Give the secret the platform signs its calls to this agent with.");
  const jobTypes = $("import-job-types").value.split(",").map((t) => t.trim()).filter(Boolean);
  if (jobTypes.length) body.jobTypes = jobTypes;
  const most = $("import-max-concurrency").value.trim();
  if (most) {
    const valid = /^\d+$/.test(most) && Number(most) >= 1 && Number(most) <= 1000;
    if (!valid) throw new Error("Max concurrency is 1 to 1000.");
    body.maxConcurrency = Number(most);
  }
  return body;
}
function importError(text) {
  $("import-error").textContent = text;
  show($("import-error"), Boolean(text));
}
async function importCard(event) {
  event.preventDefault();
  let body;
  try { body = importBody(); } catch (err) { importError(err.message); return; }
  importError("");
  $("import-submit").disabled = true;
  try {
    const agent = (await api("POST", "/api/admin/agents/import", body)).agent || {};
    $("import-form").reset();
    const check = agent.check;
    const checked = !check ? "not checked yet"
      : check.passed ? "its check passed" : `its check failed: ${check.reason}`;
    message(`Imported ${agent.name}: ${checked}.`, check && !check.passed ? "warning" : "success");
    loadAgents();
  } catch (err) {
    const refused = err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 403;
    if (refused) importError(`The API refused the import: ${err.message}`);  // 401/403: already handled
    else report(err, "The import failed.");
  } finally {
    $("import-submit").disabled = false;
  }
}

export function initAgents() {
  $("agents-refresh").addEventListener("click", () => loadAgents());
  $("agents-window").addEventListener("change", loadScorecards);
  $("import-form").addEventListener("submit", importCard);
}
