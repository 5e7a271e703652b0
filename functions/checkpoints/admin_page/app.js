// Agent Jobs console: plain JS modules, no build; every API value is rendered as text (textContent / text nodes).
// This module signs people in and out and shows the view the router names; each view is its own module and gets
// what it needs as arguments. Owners get My jobs, New job and each job's page; admins also get the admin views.
import { $, abortAll, configure, currentUser, getSession, hooks, message, setSession, show } from "./core.js";
import { initAgents, loadAgents, resetAgents } from "./agents.js";
import { initAudit, loadAudit, resetAudit } from "./audit.js";
import { loadCheckpoints, resetCheckpoints } from "./checkpoints.js";
import { initDeadLetters, loadDeadLetters, resetDeadLetters } from "./dead-letters.js";
import { closeDialog, initDialog } from "./dialog.js";
import { initJob, loadJob, resetJob } from "./job.js";
import { initJobs, loadJobs, resetJobs } from "./jobs.js";
import { initMine, loadMine, resetMine } from "./mine.js";
import { initNewJob, loadNewJob, resetNewJob } from "./new-job.js";
import { isLive, startRealtime, stopRealtime } from "./realtime.js";
import { back, canonical, jobPath, navigate, startRouter } from "./router.js";
import { globalSignOut, restoreSession, saveSession } from "./session.js";
import { initSignIn } from "./signin.js";
import { initStats, loadStats } from "./stats.js";
import { initWorker, loadWorker } from "./worker.js";

const REFRESH_MS = 10000;
// What showing a view loads, and what its 10 s poll (or an event on the socket) reloads quietly.
const VIEWS = {
  mine: { title: "My jobs", load: () => loadMine(), refresh: () => loadMine(true) },
  new: { title: "New job", still: true, load: (route) => loadNewJob(route.query.get("template")) },  // a form: no live reload
  job: { title: "Job", load: (route) => loadJob(route.id), refresh: (route) => loadJob(route.id, true) },
  checkpoints: { title: "Checkpoints", admin: true, load: () => loadCheckpoints(), refresh: () => loadCheckpoints(true) },
  // a live update keeps the rows shown until the new answer replaces them (never a blank "Loading…" mid-read)
  "all-jobs": { title: "All jobs", admin: true, load: () => loadJobs(), refresh: () => loadJobs(true) },
  agents: { title: "Agents", admin: true, load: () => loadAgents() },
  worker: { title: "Worker", admin: true, load: () => loadWorker(), refresh: () => loadWorker(true) },
  stats: { title: "Stats", admin: true, load: () => loadStats() },
  "dead-letters": { title: "Dead letters", admin: true, load: () => loadDeadLetters() },
  audit: { title: "Audit", admin: true, load: () => loadAudit() },
};
const PANELS = ["mine", "new", "job", "forbidden", ...Object.keys(VIEWS).filter((v) => VIEWS[v].admin)];

let route = null;  // the route shown
let timer = null;  // the 10 s poll while the socket is down

// ---- views ------------------------------------------------------------------------------------
function highlight(tab) {
  document.querySelectorAll("[data-tab]").forEach((el) => el.setAttribute("aria-selected", String(el.dataset.tab === tab)));
}
function showPanel(name) {
  PANELS.forEach((panel) => show($(`panel-${panel}`), panel === name));
}
function render(next) {
  const user = currentUser();
  if (!user) return;
  if (route && route.view === "job" && next.view !== "job") resetJob();
  route = next;
  message("");
  stopTimer();
  const view = VIEWS[next.view];
  document.title = `Agent Jobs — ${view.title}`;
  if (view.admin && !user.admin) { forbidden(); return; }
  showPanel(next.view);
  highlight(next.view === "job" ? null : next.view);
  view.load(next);
  if (!isLive()) startPolling();
}
function forbidden() {
  showPanel("forbidden");
  highlight(null);
  message("This page is for admins.", "error");
}
// The job page belongs under My jobs, or, for an admin looking at someone else's job, under All jobs.
function whose(job) {
  const user = currentUser();
  if (!user || !route || route.view !== "job") return;
  highlight(!job ? null : user.admin && job.userId !== user.sub ? "all-jobs" : "mine");
}
function stopTimer() { clearInterval(timer); timer = null; }
function startPolling() {
  stopTimer();
  const view = route && VIEWS[route.view];
  if (!view || !view.refresh) return;
  const polled = route;
  timer = setInterval(() => {
    if (!document.hidden && currentUser() && route === polled) view.refresh(polled);
  }, REFRESH_MS);
}
// An event on the socket: reload the visible view quietly.
function reloadView() {
  if (!currentUser() || !route || $("app-view").hidden || !$("panel-forbidden").hidden) return;
  const view = VIEWS[route.view];
  if (view.refresh) view.refresh(route);
  else if (!view.still) view.load(route);
}
function indicate(mode) {
  const el = $("live");
  el.textContent = mode;
  el.dataset.mode = mode;
}
function pollAgain() {
  indicate("polling");
  if (currentUser() && !$("app-view").hidden) startPolling();
}

// ---- signing in and out -------------------------------------------------------------------------
function enter(session) {
  setSession(session);
  show($("signin-view"), false);
  $("who-name").textContent = session.username;
  show($("who"), true);
  show($("nav-admin"), session.admin);
  show($("app-view"), true);
  route = null;
  render(canonical());
  startRealtime({ onEvent: reloadView, onLive: () => { stopTimer(); indicate("live"); }, onDown: pollAgain }, session.admin);
}
function resetViews() {
  [resetMine, resetNewJob, resetJob, resetCheckpoints, resetJobs, resetAgents, resetDeadLetters, resetAudit]
    .forEach((reset) => reset());
  ["worker-view", "stats-view"].forEach((id) => { $(id).textContent = ""; });
}
function signOut(text, kind) {
  globalSignOut(getSession());
  setSession(null);
  saveSession(null);
  stopRealtime();
  indicate("polling");
  stopTimer();
  abortAll();
  resetViews();
  closeDialog();
  route = null;
  show($("app-view"), false);
  show($("who"), false);
  show($("signin-view"), true);
  message(text || "", kind || "info");
  $("username").focus();
}

// ---- start ------------------------------------------------------------------------------------
function openJob(id) { navigate(jobPath(id)); }
function bindControls() {
  initDialog();
  initMine(openJob);
  initJobs(openJob);
  initJob(whose);
  initNewJob((job) => { navigate(jobPath(job.id)); message(`Job created: ${job.name || job.id}.`, "success"); });
  initAgents();
  initDeadLetters();
  initAudit();
  initWorker();
  initStats();
  initSignIn(enter);
  $("sign-out").addEventListener("click", () => signOut("Signed out.", "success"));
  $("job-back").addEventListener("click", () => {  // to the list it was opened from, or the one it belongs to
    back(document.querySelector('[data-tab="all-jobs"][aria-selected="true"]') ? "/app/all-jobs" : "/app/jobs");
  });
  $("checkpoints-refresh").addEventListener("click", () => loadCheckpoints());
  startRouter(render);
}
async function loadConfig() {
  try {
    const response = await fetch("/app/config.json", { credentials: "omit", cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    const config = await response.json();
    if (!config.clientId) throw new Error("no Cognito client id");
    configure(config);
    return true;
  } catch (_err) {
    show($("signin-view"), true);
    $("sign-in").disabled = true;
    message("The console could not load its configuration (/app/config.json).", "error");
    return false;
  }
}
async function start() {
  hooks.signOut = signOut;
  hooks.notAdmin = forbidden;
  canonical();  // an /admin link becomes the console's own address before anything is shown
  bindControls();
  if (!(await loadConfig())) return;
  const restored = restoreSession();
  if (restored.session) enter(restored.session);
  else signOut(restored.expired ? "Your session expired — sign in again." : "", restored.expired ? "error" : "info");
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
