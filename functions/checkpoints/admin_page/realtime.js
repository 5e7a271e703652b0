// The console's real-time link (DESIGN.md §15): one WebSocket to the realtime endpoint, subscribed to what the
// signed-in person may follow (an owner: their own jobs; an admin: every job and the checkpoints). Each event frame asks the page to reload its visible view (debounced, so a
// burst of transitions costs one reload). While the socket is open the page stops its 10 s polling; when the
// socket closes or cannot open, the page polls again and the socket is retried with backoff.
import { getConfig, getSession } from "./core.js";

const OWNER_SCOPES = ["mine"];
const ADMIN_SCOPES = ["all", "checkpoints"];
const DEBOUNCE_MS = 300;
const BACKOFF_MS = [1000, 2000, 5000, 10000, 30000];  // then 30 s between attempts
const REPLY_TYPES = new Set(["subscribed", "error"]);  // answers to our own frames, not events

let socket = null;
let hooks = null;  // { onEvent, onLive, onDown, scopes } while signed in, null after stop()
let attempt = 0;
let retryTimer = null;
let debounceTimer = null;

// `realtimeUrl` from config.json (the cloud's WebSocket API); otherwise the API's own host (the local gateway
// upgrades /api/realtime on its own port).
export function realtimeBase(config) {
  if (config.realtimeUrl) return String(config.realtimeUrl);
  const base = new URL(config.apiBase || location.origin, location.href);
  return `${base.protocol === "https:" ? "wss:" : "ws:"}//${base.host}/api/realtime`;
}

export const isLive = () => Boolean(socket && socket.readyState === WebSocket.OPEN);

function schedule() {
  clearTimeout(retryTimer);
  const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  attempt += 1;
  retryTimer = setTimeout(open, delay);
}

function onFrame(event) {
  let frame;
  try {
    frame = JSON.parse(event.data);
  } catch (_err) {
    return;
  }
  if (!frame || typeof frame !== "object" || REPLY_TYPES.has(frame.type)) return;
  clearTimeout(debounceTimer);
  debounceTimer = setTimeout(() => { if (hooks) hooks.onEvent(); }, DEBOUNCE_MS);
}

function open() {
  const session = getSession();
  if (!hooks || !session || socket) return;
  const url = `${realtimeBase(getConfig())}?token=${encodeURIComponent(session.idToken)}`;
  let ws;
  try {
    ws = new WebSocket(url);
  } catch (_err) {
    schedule();
    return;
  }
  socket = ws;
  ws.addEventListener("open", () => {
    if (socket !== ws) return;
    attempt = 0;
    hooks.scopes.forEach((scope) => ws.send(JSON.stringify({ action: "subscribe", scope })));
    hooks.onLive();
    hooks.onEvent();  // frames are sent once: reload what may have changed while the socket was down
  });
  ws.addEventListener("message", (event) => { if (socket === ws) onFrame(event); });
  ws.addEventListener("close", () => {
    if (socket !== ws) return;
    socket = null;
    if (!hooks) return;
    hooks.onDown();
    schedule();
  });
}

// Opens the socket for the signed-in person (`admin`: every job and the checkpoints, else their own jobs);
// `onEvent` reloads the visible view, `onLive` / `onDown` say that the page may stop polling / must poll again.
export function startRealtime(handlers, admin) {
  stopRealtime();
  hooks = { ...handlers, scopes: admin ? ADMIN_SCOPES : OWNER_SCOPES };
  attempt = 0;
  open();
}

// Sign-out: no socket, no retry, no pending reload.
export function stopRealtime() {
  hooks = null;
  clearTimeout(retryTimer);
  clearTimeout(debounceTimer);
  const ws = socket;
  socket = null;
  if (ws) ws.close(1000);
}
