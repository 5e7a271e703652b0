// Agent Jobs admin page: plain JS, no build. Every API value is rendered with textContent / text nodes.
"use strict";

(() => {
  const SESSION_KEY = "agentJobsAdmin.session";
  const REFRESH_MS = 10000;
  const TABS = ["checkpoints", "jobs", "worker", "stats"];
  const state = {
    config: null, session: null, tab: "checkpoints", timer: null, pager: null, jobId: null, checkpointRows: new Map(),
  };
  const $ = (id) => document.getElementById(id);

  // ---- DOM helpers -------------------------------------------------------------------------------
  function h(tag, attrs, ...children) {
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
  const clear = (el) => { while (el.firstChild) el.removeChild(el.firstChild); return el; };
  const replace = (el, ...children) => { clear(el); children.flat(Infinity).forEach((c) => c && el.appendChild(c)); };
  const show = (el, visible) => { el.hidden = !visible; };
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const loading = (text) => h("p", { class: "muted loading", testid: "loading" }, text || "Loading…");
  const empty = (text, testid) => h("p", { class: "empty", testid: testid || "empty" }, text);

  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
  }
  function fmtValue(key, value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "number" && /rate|ratio/i.test(key || "") && value >= 0 && value <= 1) {
      return `${(value * 100).toFixed(1)}%`;
    }
    if (typeof value === "object") return JSON.stringify(value);
    const text = String(value);
    return /At$|^since$/.test(key || "") ? fmtTime(text) : text;
  }
  const humanize = (key) => String(key).replace(/([a-z])([A-Z])/g, "$1 $2").replace(/[_-]+/g, " ")
    .replace(/^./, (c) => c.toUpperCase());

  // ---- messages ----------------------------------------------------------------------------------
  let messageTimer = null;
  function message(text, kind) {
    const el = $("message");
    clearTimeout(messageTimer);
    el.textContent = text || "";
    el.className = `message ${kind || "info"}`;
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    show(el, Boolean(text));
    if (text && kind === "success") messageTimer = setTimeout(() => show(el, false), 8000);
  }

  // ---- confirmation dialog -----------------------------------------------------------------------
  let pendingConfirm = null;
  let submitConfirm = () => undefined;
  function confirmDialog({ title, text, reason, select, ok, danger }) {
    const dialog = $("confirm-dialog");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text || "";
    $("confirm-ok").textContent = ok || "Confirm";
    $("confirm-ok").className = danger ? "danger" : "primary";
    show($("confirm-error"), false);
    const fields = clear($("confirm-fields"));
    let reasonInput = null;
    let selectInput = null;
    if (select) {
      selectInput = h("select", { testid: select.testid, id: "confirm-select" },
        select.options.map((o) => h("option", { value: o.value }, o.label)));
      fields.appendChild(h("label", { for: "confirm-select" }, select.label, selectInput));
    }
    if (reason) {
      reasonInput = h("textarea", { testid: reason.testid, id: "confirm-reason", rows: 3, maxlength: reason.maxlength || 2000 });
      fields.appendChild(h("label", { for: "confirm-reason" }, reason.label, reasonInput));
    }
    if (pendingConfirm) pendingConfirm(null);
    return new Promise((resolve) => {
      pendingConfirm = (answer) => { pendingConfirm = null; if (dialog.open) dialog.close(); resolve(answer); };
      submitConfirm = () => {
        const value = reasonInput ? reasonInput.value.trim() : "";
        if (reason && reason.required && !value) {
          $("confirm-error").textContent = reason.missing || "A reason is required.";
          show($("confirm-error"), true);
          reasonInput.focus();
          return;
        }
        pendingConfirm({ reason: value, value: selectInput ? selectInput.value : null });
      };
      dialog.showModal();
      (reasonInput || selectInput || $("confirm-ok")).focus();
    });
  }
  function initDialog() {
    const dialog = $("confirm-dialog");
    $("confirm-form").addEventListener("submit", (event) => { event.preventDefault(); submitConfirm(); });
    $("confirm-cancel").addEventListener("click", () => pendingConfirm && pendingConfirm(null));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); if (pendingConfirm) pendingConfirm(null); });
  }

  // ---- session and Cognito -----------------------------------------------------------------------
  function decodeJwt(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const bytes = Uint8Array.from(atob(part + "===".slice((part.length + 3) % 4)), (c) => c.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (_err) {
      return {};
    }
  }
  function groupsOf(claims) {
    const raw = claims["cognito:groups"];
    if (Array.isArray(raw)) return raw.map(String);
    return typeof raw === "string" ? raw.replace(/[[\],]/g, " ").split(/\s+/).filter(Boolean) : [];
  }

  async function cognito(target, body) {
    const response = await fetch(state.config.cognitoEndpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}`,
      },
      body: JSON.stringify(body),
      credentials: "omit",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const kind = String(data.__type || "").split("#").pop();
      const text = kind === "NotAuthorizedException" ? "Incorrect username or password."
        : data.message || data.Message || `Sign-in failed (${response.status}).`;
      throw new Error(text);
    }
    return data;
  }

  let challenge = null;
  async function signIn(event) {
    event.preventDefault();
    const username = $("username").value.trim();
    const password = $("password").value;
    if (!username || !password) { message("Enter your username and password.", "error"); return; }
    if (!state.config.clientId) { message("This admin page is not configured (no Cognito client id).", "error"); return; }
    $("sign-in").disabled = true;
    message("Signing in…", "info");
    try {
      let result;
      if (challenge) {
        const newPassword = $("new-password").value;
        if (!newPassword) throw new Error("Choose a new password.");
        result = await cognito("RespondToAuthChallenge", {
          ChallengeName: "NEW_PASSWORD_REQUIRED", ClientId: state.config.clientId, Session: challenge.session,
          ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
        });
      } else {
        result = await cognito("InitiateAuth", {
          AuthFlow: "USER_PASSWORD_AUTH", ClientId: state.config.clientId,
          AuthParameters: { USERNAME: username, PASSWORD: password },
        });
      }
      if (result.ChallengeName === "NEW_PASSWORD_REQUIRED") {
        const params = result.ChallengeParameters || {};
        challenge = { session: result.Session, username: params.USER_ID_FOR_SRP || username };
        show($("new-password-field"), true);
        message("Your account needs a new password: choose one and sign in again.", "info");
        return;
      }
      if (!result.AuthenticationResult || !result.AuthenticationResult.IdToken) {
        throw new Error(`Sign-in needs a step this page does not support (${result.ChallengeName || "unknown"}).`);
      }
      challenge = null;
      show($("new-password-field"), false);
      const auth = result.AuthenticationResult;
      const claims = decodeJwt(auth.IdToken);
      state.session = {
        idToken: auth.IdToken, accessToken: auth.AccessToken || "",
        exp: Number(claims.exp || 0), username: claims["cognito:username"] || claims.email || username,
      };
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
      $("password").value = "";
      $("new-password").value = "";
      message("", "info");
      enter();
    } catch (err) {
      message(err.message || "Sign-in failed.", "error");
    } finally {
      $("sign-in").disabled = false;
    }
  }

  function signOut(text, kind) {
    const session = state.session;
    if (session && session.accessToken) {
      cognito("GlobalSignOut", { AccessToken: session.accessToken }).catch(() => undefined);
    }
    state.session = null;
    sessionStorage.removeItem(SESSION_KEY);
    stopTimer();
    abortAll();
    state.checkpointRows.clear();
    state.pager = null;
    ["checkpoints-list", "jobs-list", "job-detail", "worker-view", "stats-view"].forEach((id) => clear($(id)));
    if (pendingConfirm) pendingConfirm(null);
    show($("app-view"), false);
    show($("not-admin-view"), false);
    show($("who"), false);
    show($("signin-view"), true);
    message(text || "", kind || "info");
    $("username").focus();
  }

  function enter() {
    const session = state.session;
    show($("signin-view"), false);
    $("who-name").textContent = session.username;
    show($("who"), true);
    if (!groupsOf(decodeJwt(session.idToken)).includes("admins")) { notAdmin(); return; }
    show($("not-admin-view"), false);
    show($("app-view"), true);
    selectTab(initialTab());
  }
  function notAdmin() {
    stopTimer();
    abortAll();
    show($("app-view"), false);
    show($("not-admin-view"), true);
    message("This page is for admins.", "error");
  }

  // ---- API ---------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, text) { super(text); this.status = status; this.code = code; }
  }
  async function api(method, path, body, signal) {
    if (!state.session) throw new ApiError(401, "UNAUTHORIZED", "not signed in");
    if (state.session.exp && state.session.exp * 1000 < Date.now()) {
      signOut("Your session expired — sign in again.", "error");
      throw new ApiError(401, "UNAUTHORIZED", "session expired");
    }
    const headers = { Authorization: `Bearer ${state.session.idToken}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(state.config.apiBase + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", signal,
      });
    } catch (_err) {
      if (signal && signal.aborted) throw new ApiError(0, "ABORTED", "superseded by a later request");
      throw new ApiError(0, "NETWORK", "The API could not be reached. Check your connection and try again.");
    }
    const data = await response.json().catch(() => ({}));
    if (signal && signal.aborted) throw new ApiError(0, "ABORTED", "superseded by a later request");
    if (response.status === 401) {
      signOut("Your session expired — sign in again.", "error");
      throw new ApiError(401, "UNAUTHORIZED", "session expired");
    }
    if (response.status === 403) {
      notAdmin();
      throw new ApiError(403, "FORBIDDEN", "This page is for admins.");
    }
    if (!response.ok || data.success === false) {
      const detail = data.error || {};
      throw new ApiError(response.status, detail.code || "ERROR",
        detail.message || data.message || `Request failed (${response.status}).`);
    }
    return data;
  }
  const enc = encodeURIComponent;

  // ---- the latest answer only --------------------------------------------------------------------
  // Every view (a list, the job detail, a checkpoint's preview, the agents of the reassign dialog) shows
  // the answer to its latest request only. Starting a request aborts the view's earlier one, and an answer
  // that still arrives for a superseded request is dropped: on a slow connection the unfiltered list the
  // Jobs tab opened with must never overwrite the filtered list asked for after it.
  const inFlight = new Map();  // view name → the AbortController of its latest request
  const STALE = null;
  async function latest(view, path) {
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
  function abortAll() {
    inFlight.forEach((controller) => controller.abort());
    inFlight.clear();
  }
  function report(err, fallback) {
    if (err && (err.status === 401 || err.status === 403)) return;  // already handled
    message(err && err.message ? err.message : fallback, "error");
  }

  // ---- data preview ------------------------------------------------------------------------------
  const isFiles = (v) => Array.isArray(v) && v.length > 0
    && v.every((f) => isObject(f) && typeof f.path === "string" && "content" in f);
  const isRows = (v) => Array.isArray(v) && v.length > 0 && v.every(isObject);
  const pretty = (v) => h("pre", { class: "json" }, JSON.stringify(v, null, 2));

  function table(rows, columns, testid) {
    const cols = columns || [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return h("div", { class: "table-wrap" }, h("table", { testid },
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, humanize(c))))),
      h("tbody", {}, rows.map((r) => h("tr", {}, cols.map((c) => h("td", {}, fmtValue(c, r[c]))))))));
  }
  function files(list) {
    return h("div", { class: "files" }, list.map((f) => h("figure", { class: "file" },
      h("figcaption", {}, f.path),
      h("pre", { class: "code" }, h("code", {}, typeof f.content === "string" ? f.content : JSON.stringify(f.content, null, 2))))));
  }
  const special = (v, depth) => isFiles(v) || isRows(v) || (isObject(v) && depth < 3
    && Object.values(v).some((c) => special(c, depth + 1)));
  function renderData(value, depth) {
    const level = depth || 0;
    if (value === null || value === undefined) return h("p", { class: "muted" }, "No data.");
    if (isFiles(value)) return files(value);
    if (isRows(value)) return table(value);
    if (!isObject(value) || !special(value, level)) return pretty(value);
    const out = h("div", { class: "data" });
    const rest = {};
    for (const [key, child] of Object.entries(value)) {
      if (special(child, level + 1)) out.appendChild(h("section", {}, h("h4", {}, key), renderData(child, level + 1)));
      else rest[key] = child;
    }
    if (Object.keys(rest).length) out.insertBefore(pretty(rest), out.firstChild);
    return out;
  }
  function fields(obj, keys) {
    return h("dl", { class: "fields" }, keys.filter((k) => obj[k] !== undefined && obj[k] !== null && obj[k] !== "")
      .map((k) => [h("dt", {}, humanize(k)), h("dd", {}, fmtValue(k, obj[k]))]));
  }
  function logList(logs) {
    if (!logs || !logs.length) return empty("No logs yet.");
    return h("ol", { class: "logs", testid: "logs" }, logs.map((log) => h("li", {},
      h("div", {}, h("span", { class: `badge ${log.status}` }, log.status), " ", h("time", {}, fmtTime(log.createdAt)),
        log.agentId ? ` · agent ${log.agentId}` : "", log.actor ? ` · by ${log.actor}` : "",
        log.attempt !== undefined && log.attempt !== null ? ` · attempt ${log.attempt}` : ""),
      log.message ? h("div", { class: "log-message" }, log.message) : null,
      ["requestPayload", "responsePayload"].filter((k) => log[k] !== null && log[k] !== undefined)
        .map((k) => h("details", {}, h("summary", {}, humanize(k)), renderData(log[k]))))));
  }

  // ---- checkpoints -------------------------------------------------------------------------------
  async function loadCheckpoints(quiet) {
    const list = $("checkpoints-list");
    if (!quiet && !list.firstChild) replace(list, loading("Loading checkpoints…"));
    try {
      const data = await latest("checkpoints", "/api/admin/agent-checkpoints");
      if (data === STALE) return;
      syncCheckpoints((data.checkpoints || []).filter((c) => !c.status || c.status === "PENDING"));
      $("checkpoints-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (!state.checkpointRows.size) replace(list, empty("Could not load checkpoints.", "checkpoints-error"));
      report(err, "Could not load checkpoints.");
    }
  }
  function syncCheckpoints(checkpoints) {
    const list = $("checkpoints-list");
    const seen = new Set(checkpoints.map((c) => c.id));
    for (const [id, row] of state.checkpointRows) if (!seen.has(id)) { row.remove(); state.checkpointRows.delete(id); }
    [...list.children].forEach((child) => { if (!child.matches("[data-testid=checkpoint-row]")) child.remove(); });
    if (!checkpoints.length) { list.appendChild(empty("No pending checkpoints", "checkpoints-empty")); return; }
    for (const cp of checkpoints) {
      let row = state.checkpointRows.get(cp.id);
      if (!row) { row = checkpointRow(cp); state.checkpointRows.set(cp.id, row); }
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

  // ---- jobs --------------------------------------------------------------------------------------
  // A page token is only valid for the query that produced it, so tokens live in a pager that belongs to
  // one applied filter (not to what the form shows now): Apply starts a new pager, and only the latest
  // request's answer may give a pager its next token.
  function readJobFilter() {
    return { status: $("jobs-status").value, jobType: $("jobs-type").value.trim(), limit: $("jobs-limit").value };
  }
  const newPager = (filter) => ({ filter, tokens: [null], page: 0, next: null });
  function jobQuery(pager) {
    const params = new URLSearchParams();
    if (pager.filter.status) params.set("status", pager.filter.status);
    if (pager.filter.jobType) params.set("jobType", pager.filter.jobType);
    params.set("limit", pager.filter.limit);
    const token = pager.tokens[pager.page];
    if (token) params.set("nextToken", token);
    return params.toString();
  }
  async function loadJobs() {
    const pager = state.pager || (state.pager = newPager(readJobFilter()));
    const list = $("jobs-list");
    replace(list, loading("Loading jobs…"));
    $("jobs-next").disabled = true;
    $("jobs-prev").disabled = true;
    try {
      const data = await latest("jobs", `/api/admin/jobs?${jobQuery(pager)}`);
      if (data === STALE) return;
      const jobs = data.jobs || [];
      pager.next = data.nextToken || null;
      $("jobs-page").textContent = `page ${pager.page + 1}`;
      $("jobs-prev").disabled = pager.page === 0;
      $("jobs-next").disabled = !pager.next;
      if (!jobs.length) { replace(list, empty("No jobs match these filters.", "jobs-empty")); return; }
      const cols = ["name", "jobType", "status", "priority", "attempt", "assignedAgentId", "updatedAt"];
      replace(list, h("div", { class: "table-wrap" }, h("table", { class: "clickable" },
        h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, humanize(c))))),
        h("tbody", {}, jobs.map((job) => h("tr", {
          testid: "job-row", "data-id": job.id, "data-status": job.status, tabindex: 0,
          onclick: () => openJob(job.id), onkeydown: (event) => event.key === "Enter" && openJob(job.id),
        }, cols.map((c) => h("td", {}, c === "status" ? h("span", { class: `badge ${job.status}` }, job.status)
          : fmtValue(c, job[c])))))))));
    } catch (err) {
      replace(list, empty("Could not load jobs.", "jobs-error"));
      report(err, "Could not load jobs.");
    }
  }
  function pageJobs(delta) {
    const pager = state.pager;
    if (!pager) return;
    if (delta > 0 && pager.next) {
      pager.tokens = pager.tokens.slice(0, pager.page + 1).concat([pager.next]);
      pager.page += 1;
    } else if (delta < 0 && pager.page > 0) {
      pager.page -= 1;
    } else {
      return;
    }
    loadJobs();
  }

  function openJob(id) {
    state.jobId = id;
    show($("jobs-list-view"), false);
    show($("job-detail-view"), true);
    loadJob();
  }
  function closeJob() {
    state.jobId = null;
    inFlight.get("job")?.abort();
    show($("job-detail-view"), false);
    show($("jobs-list-view"), true);
    loadJobs();
  }
  async function loadJob() {
    const box = $("job-detail");
    replace(box, loading("Loading job…"));
    try {
      const data = await latest("job", `/api/admin/jobs/${enc(state.jobId)}`);
      if (data === STALE) return;
      const job = data.job || {};
      replace(box,
        h("div", { class: "toolbar" }, h("h2", {}, job.name || job.id),
          h("span", { class: `badge ${job.status}`, testid: "job-status" }, job.status)),
        h("div", { class: "actions" },
          actionButton("job-resubmit", "Force resubmit", () => jobAction(job, "resubmit")),
          actionButton("job-complete", "Force complete", () => jobAction(job, "complete")),
          actionButton("job-reassign", "Reassign", () => reassign(job)),
          actionButton("job-recheck", "Re-check", () => jobAction(job, "recheck")),
          FINAL.includes(job.status) ? null : h("button", { type: "button", class: "danger", testid: "job-cancel",
            onclick: () => cancelJob(job) }, job.status === "ASSIGNED" ? "Cancel assignment" : "Cancel job")),
        fields(job, ["id", "jobType", "priority", "attempt", "maxAttempts", "autoResubmit", "assignedAgentId",
          "userId", "createdAt", "updatedAt", "feedback"]),
        job.description ? h("section", {}, h("h3", {}, "Description"), h("p", { class: "prewrap" }, job.description)) : null,
        job.acceptanceCriteria ? h("section", {}, h("h3", {}, "Acceptance criteria"),
          h("p", { class: "prewrap" }, job.acceptanceCriteria)) : null,
        job.waitingFor ? h("p", { class: "notice" }, `Waiting for ${job.waitingFor.reason || "a decision"}`) : null,
        h("section", {}, h("h3", {}, "Timeline"), timeline(data.timeline)),
        h("section", {}, h("h3", {}, "Input data"), renderData(job.inputData)),
        job.result !== null && job.result !== undefined
          ? h("section", {}, h("h3", {}, "Result"), renderData(job.result)) : null,
        h("section", {}, h("h3", {}, "Checkpoints"), (data.checkpoints || []).length
          ? table(data.checkpoints, ["stage", "attempt", "status", "decidedBy", "decidedAt", "comment", "feedback",
            "rejectionReason", "cancelReason", "expiresAt"], "job-checkpoints")
          : empty("No checkpoints.")),
        h("section", {}, h("h3", {}, "Logs"), logList(data.logs)));
    } catch (err) {
      replace(box, empty(err.message || "Could not load the job.", "job-error"));
      report(err, "Could not load the job.");
    }
  }
  const actionButton = (testid, label, onclick) => h("button", { type: "button", testid, onclick }, label);
  const FINAL = ["COMPLETED", "REJECTED", "CANCELLED"];  // no cancel from these (the API answers 409)
  async function cancelJob(job) {
    const unassign = job.status === "ASSIGNED";
    const answer = await confirmDialog({
      title: unassign ? "Cancel the assignment?" : "Cancel this job?",
      text: unassign ? `${job.name || job.id} goes back to PENDING without its agent.`
        : `${job.name || job.id} is stopped for good: its agent is told, its checkpoints close, nothing completes it.`,
      ok: unassign ? "Cancel assignment" : "Cancel job", danger: true,
      reason: { label: "Reason (optional)", required: false, testid: "cancel-reason" },
    });
    if (!answer) return;
    const body = answer.reason ? { reason: answer.reason } : undefined;
    await runJobAction(`/api/jobs/${enc(job.id)}/cancel`, body, unassign ? "Assignment cancelled." : "Job cancelled.");
  }
  function timeline(items) {
    if (!items || !items.length) return empty("No events yet.");
    return h("ol", { class: "timeline", testid: "timeline" }, items.map((t) => h("li", {},
      h("span", { class: `badge ${t.status}` }, t.status), " ", h("time", {}, fmtTime(t.at)),
      t.message ? h("span", { class: "muted" }, ` — ${t.message}`) : null)));
  }
  const ACTIONS = {
    resubmit: { title: "Force resubmit?", text: "The job is sent to its agent again.", reason: false },
    complete: { title: "Force complete?", text: "The job is marked COMPLETED without the judge.", reason: true },
    recheck: { title: "Re-check?", text: "The judge evaluates the job's result again.", reason: null },
  };
  async function jobAction(job, action) {
    const spec = ACTIONS[action];
    const answer = await confirmDialog({
      title: spec.title, text: `${spec.text} Job: ${job.name || job.id}`, ok: humanize(action),
      reason: spec.reason === null ? null
        : { label: spec.reason ? "Reason (required)" : "Reason (optional)", required: spec.reason, testid: "action-reason" },
    });
    if (!answer) return;
    const body = spec.reason === null ? undefined : answer.reason ? { reason: answer.reason } : {};
    await runJobAction(`/api/admin/jobs/${enc(job.id)}/${action}`, body, `${humanize(action)} requested.`);
  }
  async function reassign(job) {
    let agents;
    try {
      const data = await latest("agents", "/api/admin/agents");
      if (data === STALE) return;  // a later Reassign asked again
      agents = data.agents || [];
    } catch (err) { report(err, "Could not load agents."); return; }
    const options = agents.filter((a) => a.id !== job.assignedAgentId)
      .map((a) => ({ value: a.id, label: `${a.name || a.id}${a.status && a.status !== "ACTIVE" ? ` (${a.status})` : ""}` }));
    if (!options.length) { message("There is no other agent to reassign this job to.", "warning"); return; }
    const answer = await confirmDialog({
      title: "Reassign job?", text: `Give ${job.name || job.id} to another agent.`, ok: "Reassign",
      select: { label: "Agent", options, testid: "reassign-agent" },
    });
    if (!answer) return;
    await runJobAction(`/api/admin/jobs/${enc(job.id)}/reassign`, { agentId: answer.value }, "Job reassigned.");
  }
  async function runJobAction(path, body, done) {
    try {
      await api("POST", path, body);
      message(done, "success");
    } catch (err) {
      if (err.status === 409) message(`Not possible in the job's current state: ${err.message}`, "warning");
      else report(err, "The action failed.");
    }
    if (state.jobId && state.session) loadJob();
  }

  // ---- worker ------------------------------------------------------------------------------------
  async function loadWorker(quiet) {
    const box = $("worker-view");
    if (!quiet || !box.firstChild) replace(box, loading("Loading worker status…"));
    try {
      const data = await latest("worker", "/api/admin/agent-worker");
      if (data === STALE) return;
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
    } catch (err) {
      replace(box, empty("Could not load the worker status.", "worker-error"));
      report(err, "Could not load the worker status.");
    }
  }
  async function workerCall(method, body, done) {
    try {
      await api(method, "/api/admin/agent-worker", body);
      message(done, "success");
    } catch (err) {
      report(err, "The worker request failed.");
    }
    if (state.session) loadWorker(true);
  }

  // ---- stats -------------------------------------------------------------------------------------
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
  async function loadStats() {
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

  // ---- tabs and refresh --------------------------------------------------------------------------
  function stopTimer() { clearInterval(state.timer); state.timer = null; }
  function initialTab() {
    const fromHash = location.hash.replace("#", "");
    const fromPath = location.pathname.split("/").pop();
    if (TABS.includes(fromHash)) return fromHash;
    return TABS.includes(fromPath) ? fromPath : "checkpoints";
  }
  function selectTab(tab) {
    state.tab = tab;
    if (location.hash !== `#${tab}`) history.replaceState(null, "", `#${tab}`);
    document.querySelectorAll("[data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === tab)));
    TABS.forEach((t) => show($(`panel-${t}`), t === tab));
    stopTimer();
    if (tab === "checkpoints") loadCheckpoints();
    if (tab === "jobs") { if (state.jobId) loadJob(); else loadJobs(); }
    if (tab === "worker") loadWorker();
    if (tab === "stats") loadStats();
    if (tab === "checkpoints" || tab === "worker") {
      state.timer = setInterval(() => {
        if (document.hidden || !state.session) return;
        if (state.tab === "checkpoints") loadCheckpoints(true);
        else loadWorker(true);
      }, REFRESH_MS);
    }
  }

  // ---- start -------------------------------------------------------------------------------------
  async function start() {
    initDialog();
    $("signin-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", () => signOut("Signed out.", "success"));
    $("not-admin-sign-out").addEventListener("click", () => signOut("Signed out.", "success"));
    document.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => {
      message("");
      selectTab(b.dataset.tab);
    }));
    $("checkpoints-refresh").addEventListener("click", () => loadCheckpoints());
    $("worker-refresh").addEventListener("click", () => loadWorker());
    $("stats-refresh").addEventListener("click", () => loadStats());
    $("jobs-filter").addEventListener("submit", (event) => {
      event.preventDefault();
      state.pager = newPager(readJobFilter());
      loadJobs();
    });
    $("jobs-next").addEventListener("click", () => pageJobs(1));
    $("jobs-prev").addEventListener("click", () => pageJobs(-1));
    $("job-back").addEventListener("click", closeJob);
    $("job-reload").addEventListener("click", loadJob);
    try {
      const response = await fetch("/admin/config.json", { credentials: "omit", cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      state.config = await response.json();
      state.config.apiBase = String(state.config.apiBase || "").replace(/\/+$/, "");
    } catch (_err) {
      show($("signin-view"), true);
      $("sign-in").disabled = true;
      message("The admin page could not load its configuration (/admin/config.json).", "error");
      return;
    }
    try {
      state.session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    } catch (_err) {
      state.session = null;
    }
    if (state.session && state.session.idToken && (!state.session.exp || state.session.exp * 1000 > Date.now())) enter();
    else if (state.session) signOut("Your session expired — sign in again.", "error");
    else signOut();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
