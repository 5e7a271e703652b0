// A filtered, paged list of jobs (DESIGN.md §16 filters: status, type, tag, agent, priority, created after/before),
// used twice: "My jobs" (GET /api/jobs) and the admins' "All jobs" (GET /api/admin/jobs). Every list request goes
// through `latest(view, path)`, and a page token lives in the pager of the filter that produced it: a new filter
// starts a new pager, so a token never pages another query.
import {
  $, badge, currentUser, empty, fmtTime, h, latest, loading, newPager, pageToken, replace, report, show, STALE,
  turnPage,
} from "./core.js";
import { tagChips } from "./render.js";

const STATUSES = ["PENDING", "ASSIGNED", "IN_PROGRESS", "COMPLETED", "FAILED", "REJECTED", "RESUBMISSION_REQUIRED",
  "CANCELLED"];
const JOB_TYPES = ["simple-task", "code-generation", "data-processing", "long-task"];
export const TAG_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}:[^\u0000-\u001f\u007f]{1,128}$/;

const option = (value, label, selected) => h("option", { value, selected: selected || null }, label ?? value);
function field(label, control, errorId) {
  return h("label", {}, label, control, errorId ? h("span", { class: "field-error", id: errorId, testid: errorId, hidden: true }) : null);
}

// The filter form of a list whose element ids start with `prefix` (the admin list keeps its old ids: jobs-status…).
function filterForm(prefix) {
  const id = (name) => `${prefix}-${name}`;
  return h("form", { id: id("filter"), class: "toolbar filters", novalidate: true },
    field("Status", h("select", { id: id("status"), testid: id("status") }, option("", "any"), STATUSES.map((s) => option(s)))),
    field("Type", h("input", { id: id("type"), testid: id("type"), list: id("types"), placeholder: "any", size: 14,
      maxlength: 64 }), null),
    h("datalist", { id: id("types") }, JOB_TYPES.map((t) => option(t))),
    field("Tag", h("input", { id: id("tag"), testid: id("tag"), placeholder: "key:value", size: 14, maxlength: 193 }),
      id("tag-error")),
    field("Agent", h("select", { id: id("agent"), testid: id("agent") }, option("", "any"))),
    field("Priority", h("select", { id: id("priority"), testid: id("priority") }, option("", "any"),
      [10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((p) => option(String(p))))),
    field("Created after", h("input", { id: id("after"), testid: id("after"), type: "datetime-local" }), id("after-error")),
    field("Created before", h("input", { id: id("before"), testid: id("before"), type: "datetime-local" })),
    field("Per page", h("select", { id: id("limit"), testid: id("limit") }, ["10", "20", "50"].map((n) => option(n, n, n === "20")))),
    h("button", { type: "submit", testid: id("apply"), class: "primary" }, "Apply"),
    h("button", { type: "button", id: id("clear"), testid: id("clear") }, "Clear"));
}

// The form's filter, checked: {filter} or {errors: {field id: message}}. Times are sent as ISO-8601 UTC.
function readFilter(prefix) {
  const value = (name) => $(`${prefix}-${name}`).value.trim();
  const errors = {};
  const tag = value("tag");
  if (tag && !TAG_PATTERN.test(tag)) errors["tag-error"] = "A tag is key:value, e.g. team:search (key: a-z, 0-9, _ . -).";
  const iso = (raw) => (raw ? new Date(raw).toISOString() : "");
  const after = iso(value("after"));
  const before = iso(value("before"));
  if (after && before && after >= before) errors["after-error"] = "“Created after” must be earlier than “Created before”.";
  const filter = { status: value("status"), jobType: value("type"), tag, agentId: value("agent"),
    priority: value("priority"), createdAfter: after, createdBefore: before, limit: value("limit") || "20" };
  return Object.keys(errors).length ? { errors } : { filter };
}
function showErrors(prefix, errors) {
  ["tag-error", "after-error"].forEach((name) => {
    const el = $(`${prefix}-${name}`);
    el.textContent = errors[name] || "";
    show(el, Boolean(errors[name]));
  });
}
function query(pager) {
  const params = new URLSearchParams();
  Object.entries(pager.filter).forEach(([key, v]) => { if (v) params.set(key, v); });
  const token = pageToken(pager);
  if (token) params.set("nextToken", token);
  return params.toString();
}

// An owner by a short form of their user id (the whole id on hover); the signed-in person is "you".
function owner(userId) {
  if (!userId) return "—";
  if (userId === (currentUser() || {}).sub) return "you";
  return h("code", { class: "small", title: userId }, userId.length > 10 ? `${userId.slice(0, 8)}…` : userId);
}

export function createJobList({ prefix, view, endpoint, container, openJob, showOwner, emptyText }) {
  let pager = null;
  let agents = new Map();  // id → name, for the Agent filter and column
  const el = (name) => $(`${prefix}-${name}`);

  function table(jobs) {
    const heads = ["Name", "Status", "Type", "Tags", "Priority", "Agent", "Attempt", showOwner ? "Owner" : null, "Created"]
      .filter(Boolean);
    return h("div", { class: "table-wrap" }, h("table", { class: "clickable jobs", testid: `${prefix}-table` },
      h("thead", {}, h("tr", {}, heads.map((c) => h("th", {}, c)))),
      h("tbody", {}, jobs.map((job) => h("tr", {
        testid: "job-row", "data-id": job.id, "data-status": job.status, tabindex: 0,
        onclick: () => openJob(job.id), onkeydown: (event) => event.key === "Enter" && openJob(job.id),
      },
      h("td", { class: "job-name" }, h("a", { href: `/app/jobs/${encodeURIComponent(job.id)}`, class: "job-link",
        onclick: (event) => event.stopPropagation() }, job.name || job.id)),
      h("td", {}, badge(job.status)), h("td", {}, job.jobType),
      h("td", {}, tagChips(job.tags, pickTag) || h("span", { class: "muted" }, "—")),
      h("td", {}, String(job.priority ?? "—")),
      h("td", {}, job.assignedAgentId ? agents.get(job.assignedAgentId) || job.assignedAgentId : h("span", { class: "muted" }, "—")),
      h("td", {}, String(job.attempt ?? 0)),
      showOwner ? h("td", { class: "nowrap" }, owner(job.userId)) : null,
      h("td", { class: "nowrap" }, fmtTime(job.createdAt)))))));
  }
  async function fillAgents() {
    if (agents.size) return;
    try {
      const data = await latest(`${view}-agents`, "/api/agents");
      if (data === STALE) return;
      agents = new Map((data.agents || []).map((a) => [a.id, a.name || a.id]));
      const select = el("agent");
      const chosen = select.value;
      replace(select, option("", "any"), [...agents].map(([id, name]) => option(id, name, id === chosen)));
    } catch (_err) {
      // the agent filter is a convenience: the list works without it
    }
  }
  async function load(quiet) {
    if (!pager) {
      const read = readFilter(prefix);
      if (read.errors) { showErrors(prefix, read.errors); return; }
      pager = newPager(read.filter);
    }
    const current = pager;
    const list = el("list");
    if (!quiet || !list.firstChild) replace(list, loading("Loading jobs…"));
    el("next").disabled = true;
    el("prev").disabled = true;
    const names = fillAgents();  // in parallel with the list; cached after the first load
    try {
      const data = await latest(view, `${endpoint}?${query(current)}`);
      if (data === STALE) return;
      await names;
      if (current !== pager) return;  // a filter applied meanwhile owns the list now
      const jobs = data.jobs || [];
      current.next = data.nextToken || null;
      el("page").textContent = `page ${current.page + 1}`;
      el("prev").disabled = current.page === 0;
      el("next").disabled = !current.next;
      const filtered = Object.entries(current.filter).some(([k, v]) => k !== "limit" && v);
      if (!jobs.length) {
        replace(list, filtered || current.page ? empty("No jobs match these filters.", `${prefix}-empty`) : emptyText());
        return;
      }
      replace(list, table(jobs));
    } catch (err) {
      replace(list, empty(err.status === 400 ? `The API refused this filter: ${err.message}` : "Could not load jobs.",
        `${prefix}-error`));
      report(err, "Could not load jobs.");
    }
  }
  function apply() {
    const read = readFilter(prefix);
    showErrors(prefix, read.errors || {});
    if (read.errors) return;
    pager = newPager(read.filter);
    load();
  }
  function pickTag(tag) {
    el("tag").value = tag;
    apply();
  }
  function page(delta) {
    if (pager && turnPage(pager, delta)) load();
  }
  function reset() {
    pager = null;
    agents = new Map();
    const form = el("filter");
    if (form) form.reset();
    replace(el("list"));
  }
  function init() {
    container.appendChild(filterForm(prefix));
    el("filter").addEventListener("submit", (event) => { event.preventDefault(); apply(); });
    el("clear").addEventListener("click", () => { el("filter").reset(); apply(); });
    el("next").addEventListener("click", () => page(1));
    el("prev").addEventListener("click", () => page(-1));
  }
  return { init, load, reset };
}
