// The Stats tab: charts where a person would rather look than read (jobs per hour by status, answer latency
// percentiles, acceptance rate per agent), then whatever else GET /api/admin/stats answers, as summary fields and one
// card per breakdown.
import { $, empty, fmtTime, fmtValue, h, humanize, isObject, latest, loading, replace, report, STALE } from "./core.js";
import { fields, isRows, pretty, table } from "./render.js";
import { fmtMs, fmtShare, groupedBarChart, horizontalBarChart, stackedBarChart } from "./charts.js";

const STAT_TITLES = {
  byStatus: "Jobs by status", jobsByStatus: "Jobs by status", byType: "Jobs by type", jobsByType: "Jobs by type",
  pendingCheckpoints: "Pending checkpoints", queueDepths: "Queue depths", queues: "Queue depths",
  agents: "Agents", agentAcceptance: "Acceptance rate by agent", acceptanceByAgent: "Acceptance rate by agent",
};
const CHARTED = new Set(["jobsPerHour", "latencyPercentiles"]);  // drawn as charts, with their numbers beside them
// Stacking order: settled outcomes at the bottom, work under way above them (colours: style.css, as the badges).
const STATUS_ORDER = ["COMPLETED", "FAILED", "REJECTED", "CANCELLED", "RESUBMISSION_REQUIRED", "IN_PROGRESS",
  "ASSIGNED", "PENDING"];
const PERCENTILES = ["p50", "p90", "p95", "p99"];
const RANGES = [[6, "Last 6 hours"], [24, "Last 24 hours"], [48, "Last 48 hours"], [168, "Last 7 days"]];
const view = { hours: 24 };

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

// ---- charts ------------------------------------------------------------------------------------
const hourLabel = (date, withDay, short) => {
  const time = date.toLocaleTimeString([], short ? { hour: "numeric" } : { hour: "numeric", minute: "2-digit" });
  return withDay ? `${date.toLocaleDateString([], { month: "short", day: "numeric" })}${short ? "" : ","} ${time}` : time;
};
// Label every step-th hour so that at most 12 labels show (1, 2, 3, 4, 6, 12 or 24 hours apart).
const labelStep = (count) => [1, 2, 3, 4, 6, 12, 24].find((step) => count / step <= 12) || 24;

function jobsPerHourChart(figure) {
  const buckets = (figure && figure.buckets) || [];
  const withDay = buckets.length > 24;
  const step = labelStep(buckets.length);
  const categories = buckets.map((bucket, index) => {
    const start = new Date(bucket.hour);
    const end = new Date(start.getTime() + 3600_000);
    const long = `${hourLabel(start, true)}–${hourLabel(end, false)}`;
    return { key: bucket.hour, long, parts: bucket.byStatus || {},
      label: (buckets.length - 1 - index) % step === 0 ? hourLabel(start, withDay, true) : "" };
  });
  const total = buckets.reduce((sum, b) => sum + (b.total || 0), 0);
  const range = RANGES.find(([hours]) => hours === figure.hours);
  const span = range ? range[1].toLowerCase() : `last ${figure.hours} hours`;
  const chart = stackedBarChart({
    kind: "chart-jobs-per-hour",
    title: `Jobs created per hour, ${span}, by status now`,
    description: `${total} jobs created from ${fmtTime(figure.from)} to ${fmtTime(figure.to)}, one bar per hour, `
      + "each split by the status the jobs are in now.",
    caption: `${total} job${total === 1 ? "" : "s"} created in the ${span}; each bar is one hour (your local time), `
      + "coloured by the status its jobs are in now. The last bar is the current hour so far.",
    categories, series: STATUS_ORDER, seriesClass: (status) => `status-${status}`, seriesLabel: humanize,
    categoryHeading: "hour", empty: `No jobs were created in the ${span}.`,
  });
  const partial = figure.completeSince
    ? h("p", { class: "notice small", testid: "jobs-per-hour-partial" },
      `Counts before ${fmtTime(figure.completeSince)} are partial: the read of ${(figure.capped || []).map(humanize)
        .join(", ")} stopped at its cap.`)
    : null;
  return [partial, chart];
}

function rangePicker() {
  return h("label", { class: "chart-range" }, "Range",
    h("select", { testid: "stats-hours", onchange: (event) => { view.hours = Number(event.target.value); loadStats(); } },
      RANGES.map(([hours, text]) => h("option", { value: hours, selected: hours === view.hours }, text))));
}

function latencyChart(figure, window) {
  const overall = (figure && figure.overall) || { samples: 0 };
  const agents = (figure && figure.byAgent) || [];
  const groups = overall.samples ? [{ key: "all", label: "All agents", values: overall, note: answers(overall.samples) },
    ...agents.map((agent) => ({ key: agent.agentId, label: agent.name || agent.agentId, values: agent,
      note: answers(agent.samples) }))] : [];
  const over = window && window.agentJobs ? `the newest ${window.agentJobs} started jobs` : "the recent jobs";
  return groupedBarChart({
    kind: "chart-latency",
    title: "Agent answer time percentiles",
    description: `p50, p90, p95 and p99 of agent answer times over ${over}, for all agents and for each agent.`,
    caption: `How long agents took to answer, over ${over}: half the answers came faster than p50, `
      + "99 in 100 faster than p99.",
    groups, keys: PERCENTILES, keyClass: (key) => `pct-${key}`, format: fmtMs, groupHeading: "agent",
    empty: "No agent answers in the window yet.",
  });
}
const answers = (n) => `${n} answer${n === 1 ? "" : "s"}`;

function acceptanceChart(agents) {
  const rows = (agents || []).map((agent) => {
    const judged = agent.judged || 0;
    const accepted = Math.round((agent.acceptanceRate || 0) * judged);
    return { key: agent.agentId, label: agent.name || agent.agentId, value: judged ? agent.acceptanceRate : null,
      text: judged ? `${fmtShare(agent.acceptanceRate)} · ${accepted} of ${judged}` : "no verdicts yet" };
  });
  return horizontalBarChart({
    kind: "chart-acceptance",
    title: "Acceptance rate per agent",
    description: "The share of each agent's answers the judge passed, over the same jobs.",
    caption: "The share of each agent's answers that the judge passed (automatic retries included), over the same jobs.",
    rows, max: 1, format: (v) => `${Math.round(v * 100)}%`, labelHeading: "agent", valueHeading: "accepted",
    empty: "No agent has answered in the window yet.",
  });
}

function charts(stats) {
  return h("div", { class: "charts", testid: "stats-charts" },
    h("section", { class: "card chart-card wide", testid: "chart-card-jobs-per-hour" },
      h("div", { class: "row-head" }, h("h3", {}, "Jobs per hour"), rangePicker()),
      jobsPerHourChart(stats.jobsPerHour || { buckets: [], hours: view.hours })),
    h("section", { class: "card chart-card", testid: "chart-card-latency" },
      h("h3", {}, "Answer latency"), latencyChart(stats.latencyPercentiles, stats.window)),
    h("section", { class: "card chart-card", testid: "chart-card-acceptance" },
      h("h3", {}, "Acceptance rate per agent"), acceptanceChart(stats.agents)));
}

// ---- the tab -----------------------------------------------------------------------------------
export async function loadStats() {
  const box = $("stats-view");
  replace(box, loading("Loading stats…"));
  try {
    const data = await latest("stats", `/api/admin/stats?hours=${view.hours}`);
    if (data === STALE) return;
    const stats = data.stats || {};
    const shown = Object.entries(stats).filter(([k]) => !CHARTED.has(k));
    const scalars = shown.filter(([, v]) => v === null || typeof v !== "object");
    const blocks = shown.filter(([, v]) => v !== null && typeof v === "object");
    replace(box,
      Object.keys(stats).length ? charts(stats) : null,
      h("div", { class: "stats-grid" },
        scalars.length ? h("section", { class: "card stat", testid: "stat-summary" }, h("h3", {}, "Summary"),
          fields(Object.fromEntries(scalars), scalars.map(([k]) => k))) : null,
        blocks.map(([k, v]) => statBlock(k, v))),
      !scalars.length && !blocks.length ? empty("No stats yet.") : null);
  } catch (err) {
    replace(box, empty("Could not load stats.", "stats-error"));
    report(err, "Could not load stats.");
  }
}
export function initStats() {
  $("stats-refresh").addEventListener("click", () => loadStats());
}
