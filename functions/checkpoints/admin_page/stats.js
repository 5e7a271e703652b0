// The Stats tab: whatever GET /api/admin/stats answers, as summary fields and one card per breakdown.
import { $, empty, fmtValue, h, humanize, isObject, latest, loading, replace, report, STALE } from "./core.js";
import { fields, isRows, pretty, table } from "./render.js";

const STAT_TITLES = {
  byStatus: "Jobs by status", jobsByStatus: "Jobs by status", byType: "Jobs by type", jobsByType: "Jobs by type",
  pendingCheckpoints: "Pending checkpoints", queueDepths: "Queue depths", queues: "Queue depths",
  agents: "Agents", agentAcceptance: "Acceptance rate by agent", acceptanceByAgent: "Acceptance rate by agent",
};
function statBlock(key, value) {
  const title = STAT_TITLES[key] || humanize(key);
  let body;
  if (isRows(value)) body = table(value);
  else if (isObject(value) && Object.values(value).every((v) => v === null || typeof v !== "object")) {
    const rows = Object.entries(value).map(([k, v]) => ({ name: k, value: fmtValue(key, v) }));
    body = rows.length ? table(rows) : empty("None.");
  } else if (isObject(value) && Object.values(value).every(isObject)) {
    body = table(Object.entries(value).map(([k, v]) => ({ name: k, ...v })));
  } else body = pretty(value);
  const wide = isRows(value) ? " wide" : "";  // a table of rows gets the whole width
  return h("section", { class: `card stat${wide}`, testid: `stat-${key}` }, h("h3", {}, title), body);
}
export async function loadStats() {
  const box = $("stats-view");
  replace(box, loading("Loading stats…"));
  try {
    const data = await latest("stats", "/api/admin/stats");
    if (data === STALE) return;
    const stats = data.stats || {};
    const scalars = Object.entries(stats).filter(([, v]) => v === null || typeof v !== "object");
    const blocks = Object.entries(stats).filter(([, v]) => v !== null && typeof v === "object");
    replace(box,
      scalars.length ? h("section", { class: "card stat", testid: "stat-summary" }, h("h3", {}, "Summary"),
        fields(Object.fromEntries(scalars), scalars.map(([k]) => k))) : null,
      blocks.map(([k, v]) => statBlock(k, v)),
      !scalars.length && !blocks.length ? empty("No stats yet.") : null);
    box.classList.add("stats-grid");
  } catch (err) {
    replace(box, empty("Could not load stats.", "stats-error"));
    report(err, "Could not load stats.");
  }
}
export function initStats() {
  $("stats-refresh").addEventListener("click", () => loadStats());
}
