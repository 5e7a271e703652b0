// Agent Jobs admin page: plain JS modules, no build. Every API value is rendered with textContent / text nodes.
// This module signs the admin in and out (Cognito USER_PASSWORD_AUTH) and switches the tabs; each tab is its
// own module.
import { $, abortAll, hooks, message, replace, show, state } from "./core.js";
import { initAgents, loadAgents, resetAgents } from "./agents.js";
import { initAudit, loadAudit, resetAudit } from "./audit.js";
import { loadCheckpoints, resetCheckpoints } from "./checkpoints.js";
import { initDeadLetters, loadDeadLetters, resetDeadLetters } from "./dead-letters.js";
import { closeDialog, initDialog } from "./dialog.js";
import { focusJob, initJobs, jobHash, loadJob, loadJobs, resetJobs } from "./jobs.js";
import { initStats, loadStats } from "./stats.js";
import { initWorker, loadWorker } from "./worker.js";
import { isLive, startRealtime, stopRealtime } from "./realtime.js";

const SESSION_KEY = "agentJobsAdmin.session";
const REFRESH_MS = 10000;
const TABS = {  // what opening a tab loads, and what its 10 s refresh (or an event on the socket) reloads quietly
  checkpoints: { load: () => loadCheckpoints(), refresh: () => loadCheckpoints(true) },
  jobs: { load: () => (state.jobId ? loadJob() : loadJobs()) },
  agents: { load: () => loadAgents() },
  worker: { load: () => loadWorker(), refresh: () => loadWorker(true) },
  stats: { load: () => loadStats() },
  "dead-letters": { load: () => loadDeadLetters() },
  audit: { load: () => loadAudit() },
};

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
function authenticate(username, password) {
  if (challenge) {
    const newPassword = $("new-password").value;
    if (!newPassword) throw new Error("Choose a new password.");
    return cognito("RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED", ClientId: state.config.clientId, Session: challenge.session,
      ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
    });
  }
  return cognito("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH", ClientId: state.config.clientId,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
}
async function signIn(event) {
  event.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  if (!username || !password) { message("Enter your username and password.", "error"); return; }
  if (!state.config.clientId) { message("This admin page is not configured (no Cognito client id).", "error"); return; }
  $("sign-in").disabled = true;
  message("Signing in…", "info");
  try {
    const result = await authenticate(username, password);
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
    startSession(result.AuthenticationResult, username);
  } catch (err) {
    message(err.message || "Sign-in failed.", "error");
  } finally {
    $("sign-in").disabled = false;
  }
}
function startSession(auth, username) {
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
}

function resetViews() {
  resetCheckpoints();
  resetJobs();
  focusJob(null);
  resetAgents();
  resetDeadLetters();
  resetAudit();
  ["worker-view", "stats-view"].forEach((id) => replace($(id)));
}
function signOut(text, kind) {
  const session = state.session;
  if (session && session.accessToken) {
    cognito("GlobalSignOut", { AccessToken: session.accessToken }).catch(() => undefined);
  }
  state.session = null;
  sessionStorage.removeItem(SESSION_KEY);
  stopRealtime();
  indicate("polling");
  stopTimer();
  abortAll();
  resetViews();
  closeDialog();
  show($("app-view"), false);
  show($("not-admin-view"), false);
  show($("who"), false);
  show($("signin-view"), true);
  message(text || "", kind || "info");
  $("username").focus();
}
function enter() {
  const session = state.session;
  session.sub = decodeJwt(session.idToken).sub || "";  // the audit trail names people by this id
  show($("signin-view"), false);
  $("who-name").textContent = session.username;
  show($("who"), true);
  if (!groupsOf(decodeJwt(session.idToken)).includes("admins")) { notAdmin(); return; }
  show($("not-admin-view"), false);
  show($("app-view"), true);
  openRoute();
  startRealtime({ onEvent: reloadView, onLive: () => { stopTimer(); indicate("live"); }, onDown: pollAgain });
}
function notAdmin() {
  stopRealtime();
  indicate("polling");
  stopTimer();
  abortAll();
  show($("app-view"), false);
  show($("not-admin-view"), true);
  message("This page is for admins.", "error");
}

// ---- tabs, routes and refresh ------------------------------------------------------------------
// Routes: #<tab>, and #jobs/<id> for one job (the dead letters link to it); /admin/<tab> opens that tab too.
function route() {
  const [tab, ...rest] = location.hash.replace(/^#/, "").split("/");
  if (tab === "jobs" && rest.length) return { tab, jobId: decodeURIComponent(rest.join("/")) };
  if (TABS[tab]) return { tab };
  const fromPath = location.pathname.split("/").pop();
  return { tab: TABS[fromPath] ? fromPath : "checkpoints" };
}
function openRoute() {
  const wanted = route();
  if (wanted.jobId) focusJob(wanted.jobId);
  selectTab(wanted.tab);
}
function stopTimer() { clearInterval(state.timer); state.timer = null; }
function selectTab(tab) {
  state.tab = tab;
  const hash = tab === "jobs" ? jobHash() : `#${tab}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
  document.querySelectorAll("[data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === tab)));
  Object.keys(TABS).forEach((t) => show($(`panel-${t}`), t === tab));
  stopTimer();
  TABS[tab].load();
  if (!isLive()) startPolling(tab);
}
function startPolling(tab) {
  stopTimer();
  if (!TABS[tab].refresh) return;
  state.timer = setInterval(() => {
    if (!document.hidden && state.session && state.tab === tab) TABS[tab].refresh();
  }, REFRESH_MS);
}

// ---- real time (realtime.js): while the socket is open it replaces the polling ---------------------
function indicate(mode) {
  const el = $("live");
  el.textContent = mode;
  el.dataset.mode = mode;
}
function reloadView() {
  if (!state.session || $("app-view").hidden) return;
  const tab = TABS[state.tab];
  (tab.refresh || tab.load)();
}
function pollAgain() {
  indicate("polling");
  if (state.session && !$("app-view").hidden) startPolling(state.tab);
}

// ---- start -------------------------------------------------------------------------------------
function bindControls() {
  initDialog();
  initJobs();
  initAgents();
  initDeadLetters();
  initAudit();
  initWorker();
  initStats();
  $("signin-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut("Signed out.", "success"));
  $("not-admin-sign-out").addEventListener("click", () => signOut("Signed out.", "success"));
  document.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => {
    message("");
    selectTab(b.dataset.tab);
  }));
  $("checkpoints-refresh").addEventListener("click", () => loadCheckpoints());
  window.addEventListener("hashchange", () => {
    if (state.session && !$("app-view").hidden) { message(""); openRoute(); }
  });
}
async function loadConfig() {
  try {
    const response = await fetch("/admin/config.json", { credentials: "omit", cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    state.config = await response.json();
    state.config.apiBase = String(state.config.apiBase || "").replace(/\/+$/, "");
    return true;
  } catch (_err) {
    show($("signin-view"), true);
    $("sign-in").disabled = true;
    message("The admin page could not load its configuration (/admin/config.json).", "error");
    return false;
  }
}
async function start() {
  hooks.signOut = signOut;
  hooks.notAdmin = notAdmin;
  bindControls();
  if (!(await loadConfig())) return;
  try {
    state.session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch (_err) {
    state.session = null;
  }
  if (state.session && state.session.idToken && (!state.session.exp || state.session.exp * 1000 > Date.now())) enter();
  else if (state.session) signOut("Your session expired — sign in again.", "error");
  else signOut();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
