// The console's paths (DESIGN.md §17) and the tiny router between them (history.pushState, no hash routing).
//   /app, /app/jobs          my jobs            /app/new[?template=<id>]   create a job
//   /app/jobs/<id>           one job's page     /app/<admin view>          checkpoints, all-jobs, agents, …
// /admin is the admins' old way in: /admin, /admin/<tab> and its hash links (#<tab>, #jobs/<id>) are rewritten to
// the same console's /app paths, so a bookmark keeps working and every page has one address.
export const ADMIN_VIEWS = ["checkpoints", "all-jobs", "agents", "worker", "stats", "dead-letters", "audit"];
const ADMIN_ALIASES = {  // the old admin page's tab names (and seed 004's /admin/agent-checkpoints)
  checkpoints: "checkpoints", "agent-checkpoints": "checkpoints", jobs: "all-jobs", agents: "agents",
  worker: "worker", stats: "stats", "dead-letters": "dead-letters", audit: "audit",
};
const ROOT = "/app";

let onRoute = () => undefined;

function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch (_err) {
    return part;
  }
}
// {view, id?, query} for a location; `view` is "mine", "new", "job" or an admin view.
export function parse(loc) {
  const parts = loc.pathname.split("/").filter(Boolean);
  const query = new URLSearchParams(loc.search);
  const [hashHead, ...hashRest] = loc.hash.replace(/^#/, "").split("/");
  if (hashHead === "jobs" && hashRest.length) return { view: "job", id: decode(hashRest.join("/")), query };
  if (ADMIN_ALIASES[hashHead]) return { view: ADMIN_ALIASES[hashHead], query };
  if (parts[0] === "admin") return { view: ADMIN_ALIASES[parts[1]] || "checkpoints", query };
  if (parts[1] === "jobs" && parts.length > 2) return { view: "job", id: decode(parts.slice(2).join("/")), query };
  if (parts[1] === "new") return { view: "new", query };
  if (ADMIN_VIEWS.includes(parts[1])) return { view: parts[1], query };
  return { view: "mine", query };
}
export function pathOf(route) {
  if (route.view === "job") return `${ROOT}/jobs/${encodeURIComponent(route.id)}`;
  if (route.view === "mine") return `${ROOT}/jobs`;
  return `${ROOT}/${route.view}`;
}
export const jobPath = (id) => pathOf({ view: "job", id });

// The canonical address of where the browser is (an /admin link rewritten in place), and its route.
export function canonical() {
  const route = parse(location);
  const search = route.view === "new" && route.query.get("template") ? `?template=${encodeURIComponent(route.query.get("template"))}` : "";
  const wanted = pathOf(route) + search;
  if (location.pathname + location.search + location.hash !== wanted) history.replaceState(history.state, "", wanted);
  return route;
}
export function navigate(path, options) {
  const current = location.pathname + location.search;
  if (path !== current && options && options.replace) history.replaceState(history.state, "", path);
  else if (path !== current) history.pushState({ fromConsole: true }, "", path);
  onRoute(canonical());
}
// Back to where the person came from when that was a page of the console, else to `fallback`.
export function back(fallback) {
  if (history.state && history.state.fromConsole) history.back();
  else navigate(fallback);
}

// Same-origin links to /app… are followed in place (a modified click still opens a new tab).
function intercept(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || !(url.pathname === ROOT || url.pathname.startsWith(`${ROOT}/`))) return;
  event.preventDefault();
  history.pushState({ fromConsole: true }, "", url.pathname + url.search);
  onRoute(canonical());
}

export function startRouter(handler) {
  onRoute = handler;
  window.addEventListener("popstate", () => onRoute(canonical()));
  window.addEventListener("hashchange", () => onRoute(canonical()));
  document.addEventListener("click", intercept);
}
