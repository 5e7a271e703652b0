// The Audit tab: who changed the registry or the worker, or replayed dead letters, when and what — newest
// first, paged with the API's nextToken (a pager per Refresh: a token belongs to the query that produced it).
import {
  $, empty, fmtTime, h, isObject, latest, loading, newPager, pageToken, replace, report, STALE, turnPage, currentUser,
} from "./core.js";

const MAX_VALUE_CHARS = 120;
const SHOWN_CHANGES = 4;  // the rest of a long change (an agent's creation lists every field) folds away
let pager = null;

const cut = (text) => (text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text);
function brief(value) {
  if (isObject(value)) return Object.entries(value).map(([k, v]) => `${k}: ${brief(v)}`).join(" · ");
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text === undefined ? "—" : cut(text);
}
const isFromTo = (v) => isObject(v) && ("from" in v || "to" in v)
  && Object.keys(v).every((k) => k === "from" || k === "to");
function changeItem(field, value) {
  const label = h("strong", {}, field);
  if (!isFromTo(value)) return h("li", {}, label, `: ${brief(value)}`);
  if (value.from === null || value.from === undefined) return h("li", {}, label, ` set to ${brief(value.to)}`);
  return h("li", {}, label, `: ${brief(value.from)} → ${brief(value.to)}`);
}
function changeList(changes) {
  const items = Object.entries(changes || {}).map(([field, value]) => changeItem(field, value));
  if (!items.length) return h("span", { class: "muted" }, "—");
  const rest = items.slice(SHOWN_CHANGES);
  return [h("ul", { class: "changes" }, items.slice(0, SHOWN_CHANGES)),
    rest.length ? h("details", {}, h("summary", {}, `${rest.length} more`), h("ul", { class: "changes" }, rest))
      : null];
}
// The trail names a person by their user id (the token's sub) and a machine client as client:<id>.
function who(actor) {
  const me = currentUser() || {};
  if (actor && actor === me.sub) return h("span", { title: actor }, `${me.username} (you)`);
  if (String(actor).startsWith("client:")) return `machine client ${String(actor).slice(7)}`;
  return h("code", { class: "small" }, actor);
}
// agent:<id> by the agent's name (from the registry, or from the entry that created it), with its id below.
function target(entry, names) {
  const id = String(entry.target || "").startsWith("agent:") ? entry.target.slice(6) : null;
  const created = ((entry.changes || {}).name || {}).to;
  const name = id && (names.get(id) || (typeof created === "string" ? created : null));
  if (!name) return h("code", { class: "small" }, entry.target);
  return [h("div", {}, name), h("code", { class: "small muted" }, entry.target)];
}
function auditTable(entries, names) {
  return h("div", { class: "table-wrap" }, h("table", { class: "audit", testid: "audit-table" },
    h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Target", "What changed"].map((c) => h("th", {}, c)))),
    h("tbody", {}, entries.map((e) => h("tr", { testid: "audit-row", "data-id": e.id, "data-action": e.action },
      h("td", { class: "nowrap" }, fmtTime(e.at)), h("td", {}, who(e.actor)), h("td", {}, h("code", {}, e.action)),
      h("td", { class: "target" }, target(e, names)), h("td", { class: "what" }, changeList(e.changes)))))));
}
async function agentNames() {
  try {
    const data = await latest("audit-agents", "/api/admin/agents");
    return new Map(((data && data.agents) || []).map((a) => [a.id, a.name]));
  } catch (_err) {
    return new Map();  // names are a courtesy: the trail shows ids without them
  }
}
export async function loadAudit() {
  const current = pager || (pager = newPager({ limit: $("audit-limit").value }));
  const list = $("audit-list");
  replace(list, loading("Loading the audit trail…"));
  $("audit-next").disabled = true;
  $("audit-prev").disabled = true;
  const params = new URLSearchParams({ limit: current.filter.limit });
  if (pageToken(current)) params.set("nextToken", pageToken(current));
  try {
    const [data, names] = await Promise.all([latest("audit", `/api/admin/audit?${params}`), agentNames()]);
    if (data === STALE || current !== pager) return;
    current.next = data.nextToken || null;
    $("audit-page").textContent = `page ${current.page + 1}`;
    $("audit-prev").disabled = current.page === 0;
    $("audit-next").disabled = !current.next;
    const entries = data.entries || [];
    replace(list, entries.length ? auditTable(entries, names) : empty("Nothing has been changed yet.", "audit-empty"));
  } catch (err) {
    replace(list, empty("Could not load the audit trail.", "audit-error"));
    report(err, "Could not load the audit trail.");
  }
}
export function resetAudit() {
  pager = null;
  replace($("audit-list"));
}
function restart() {
  pager = null;
  loadAudit();
}
export function initAudit() {
  $("audit-refresh").addEventListener("click", restart);
  $("audit-limit").addEventListener("change", restart);
  $("audit-next").addEventListener("click", () => { if (pager && turnPage(pager, 1)) loadAudit(); });
  $("audit-prev").addEventListener("click", () => { if (pager && turnPage(pager, -1)) loadAudit(); });
}
