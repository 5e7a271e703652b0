// The console's shared core: DOM helpers (text nodes only), the message bar and the API client whose
// `latest(view, path)` lets every view show the answer to its latest request only. The client holds the page's
// configuration and the signed-in session (set by app.js through `configure` / `setSession`); views never
// write them and read the signed-in person only through `currentUser()`.

let config = { apiBase: "", cognitoEndpoint: "", clientId: "", realtimeUrl: "" };
let session = null;  // { idToken, accessToken, exp, username, sub, admin } while signed in
// Set by app.js: what a 401 (sign out) or a 403 (not an admin) does; the API client only reports them.
export const hooks = { signOut: () => undefined, notAdmin: () => undefined };
export function configure(loaded) {
  config = { ...loaded, apiBase: String(loaded.apiBase || "").replace(/\/+$/, "") };
}
export const getConfig = () => config;
export function setSession(next) { session = next; }
export const getSession = () => session;
// Who is signed in, for views that show "(you)" or admin-only controls; null when signed out.
export const currentUser = () => (session ? { username: session.username, sub: session.sub, admin: session.admin } : null);
export const $ = (id) => document.getElementById(id);
export const enc = encodeURIComponent;

// ---- DOM helpers -------------------------------------------------------------------------------
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "testid") el.setAttribute("data-testid", value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}
export const clear = (el) => { while (el.firstChild) el.removeChild(el.firstChild); return el; };
export const replace = (el, ...children) => { clear(el); children.flat(Infinity).forEach((c) => c && el.appendChild(c)); };
export const show = (el, visible) => { el.hidden = !visible; };
export const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
export const loading = (text) => h("p", { class: "muted loading", testid: "loading" }, text || "Loading…");
export const empty = (text, testid) => h("p", { class: "empty", testid: testid || "empty" }, text);
export const badge = (status, testid) => h("span", { class: `badge ${status}`, testid }, status);

export function fmtTime(value) {
  if (value === null || value === undefined || value === "") return "";
  const epoch = /^\d{10,13}$/.test(String(value));  // SQS timestamps are epoch milliseconds
  const d = new Date(epoch ? Number(value) * (String(value).length === 10 ? 1000 : 1) : value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}
export function fmtValue(key, value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number" && /rate|ratio/i.test(key || "") && value >= 0 && value <= 1) {
    return `${(value * 100).toFixed(1)}%`;
  }
  if (typeof value === "object") return JSON.stringify(value);
  const text = String(value);
  return /At$|^since$|^deadline$/.test(key || "") ? fmtTime(text) : text;
}
// "assignedAgentId" → "Assigned agent id": sentence case, as the page's own headings are written.
export const humanize = (key) => String(key).replace(/([a-z])([A-Z])/g, "$1 $2").replace(/[_-]+/g, " ")
  .toLowerCase().replace(/^./, (c) => c.toUpperCase());
// How far a time is from now, in words: "in 4 min", "12 s ago".
export function fromNow(iso) {
  const ms = new Date(iso).getTime() - Date.now();
  if (Number.isNaN(ms)) return "";
  const s = Math.round(Math.abs(ms) / 1000);
  const span = s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
  return ms >= 0 ? `in ${span}` : `${span} ago`;
}

// ---- messages ----------------------------------------------------------------------------------
let messageTimer = null;
export function message(text, kind) {
  const el = $("message");
  clearTimeout(messageTimer);
  el.textContent = text || "";
  el.className = `message ${kind || "info"}`;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  show(el, Boolean(text));
  if (text && kind === "success") messageTimer = setTimeout(() => show(el, false), 8000);
}

// ---- API ---------------------------------------------------------------------------------------
export class ApiError extends Error {
  constructor(status, code, text, field) { super(text); this.status = status; this.code = code; this.field = field; }
}
// `extra` adds request headers (an Idempotency-Key on create).
export async function api(method, path, body, signal, extra) {
  if (!session) throw new ApiError(401, "UNAUTHORIZED", "not signed in");
  if (session.exp && session.exp * 1000 < Date.now()) {
    hooks.signOut("Your session expired — sign in again.", "error");
    throw new ApiError(401, "UNAUTHORIZED", "session expired");
  }
  const headers = { ...(extra || {}), Authorization: `Bearer ${session.idToken}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(config.apiBase + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", signal,
    });
  } catch (_err) {
    if (signal && signal.aborted) throw new ApiError(0, "ABORTED", "superseded by a later request");
    throw new ApiError(0, "NETWORK", "The API could not be reached. Check your connection and try again.");
  }
  const data = await response.json().catch(() => ({}));
  if (signal && signal.aborted) throw new ApiError(0, "ABORTED", "superseded by a later request");
  if (response.status === 401) {
    hooks.signOut("Your session expired — sign in again.", "error");
    throw new ApiError(401, "UNAUTHORIZED", "session expired");
  }
  if (response.status === 403) {
    hooks.notAdmin();
    throw new ApiError(403, "FORBIDDEN", "This page is for admins.");
  }
  if (!response.ok || data.success === false) {
    const detail = data.error || {};
    throw new ApiError(response.status, detail.code || "ERROR",
      detail.message || data.message || `Request failed (${response.status}).`, detail.field);
  }
  return data;
}

// ---- the latest answer only --------------------------------------------------------------------
// Every view (a list, the job detail, a checkpoint's preview, an agent's scorecard, the agents of the reassign
// dialog) shows the answer to its latest request only. Starting a request aborts the view's earlier one, and an
// answer that still arrives for a superseded request is dropped: on a slow connection the unfiltered list the
// Jobs tab opened with must never overwrite the filtered list asked for after it.
const inFlight = new Map();  // view name → the AbortController of its latest request
export const STALE = null;
export async function latest(view, path) {
  const previous = inFlight.get(view);
  if (previous) previous.abort();
  const controller = new AbortController();
  inFlight.set(view, controller);
  const current = () => inFlight.get(view) === controller && !controller.signal.aborted;
  try {
    const data = await api("GET", path, undefined, controller.signal);
    return current() ? data : STALE;
  } catch (err) {
    if (!current()) return STALE;  // superseded (or signed out): nobody waits for this answer any more
    throw err;
  } finally {
    if (inFlight.get(view) === controller) inFlight.delete(view);
  }
}
export function abort(view) { inFlight.get(view)?.abort(); }
export function abortAll() {
  inFlight.forEach((controller) => controller.abort());
  inFlight.clear();
}
export function report(err, fallback) {
  if (err && (err.status === 401 || err.status === 403)) return;  // already handled
  message(err && err.message ? err.message : fallback, "error");
}

// ---- paging ------------------------------------------------------------------------------------
// A page token is only valid for the query that produced it, so tokens live in a pager that belongs to one
// applied query (a filter, a Refresh): a new query starts a new pager, and only the latest request's answer
// may give a pager its next token.
export const newPager = (filter) => ({ filter, tokens: [null], page: 0, next: null });
export const pageToken = (pager) => pager.tokens[pager.page];
export function turnPage(pager, delta) {
  if (delta > 0 && pager.next) {
    pager.tokens = pager.tokens.slice(0, pager.page + 1).concat([pager.next]);
    pager.page += 1;
    return true;
  }
  if (delta < 0 && pager.page > 0) {
    pager.page -= 1;
    return true;
  }
  return false;
}
