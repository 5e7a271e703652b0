// How API data is shown: tables, field lists, generated files as code, logs. Text nodes only.
import { badge, empty, fmtTime, fmtValue, h, humanize, isObject } from "./core.js";

const STATUS_COLUMNS = new Set(["status", "jobStatus"]);
const isFiles = (v) => Array.isArray(v) && v.length > 0
  && v.every((f) => isObject(f) && typeof f.path === "string" && "content" in f);
export const isRows = (v) => Array.isArray(v) && v.length > 0 && v.every(isObject);
export const pretty = (v) => h("pre", { class: "json" }, JSON.stringify(v, null, 2));

function cell(column, value) {
  return STATUS_COLUMNS.has(column) && typeof value === "string" ? badge(value) : fmtValue(column, value);
}
export function table(rows, columns, testid) {
  const cols = columns || [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return h("div", { class: "table-wrap" }, h("table", { testid },
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, humanize(c))))),
    h("tbody", {}, rows.map((r) => h("tr", {}, cols.map((c) => h("td", {}, cell(c, r[c]))))))));
}
function files(list) {
  return h("div", { class: "files" }, list.map((f) => h("figure", { class: "file" },
    h("figcaption", {}, f.path),
    h("pre", { class: "code" }, h("code", {}, typeof f.content === "string" ? f.content : JSON.stringify(f.content, null, 2))))));
}
const special = (v, depth) => isFiles(v) || isRows(v) || (isObject(v) && depth < 3
  && Object.values(v).some((c) => special(c, depth + 1)));
export function renderData(value, depth) {
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
export function fields(obj, keys, labels) {
  return h("dl", { class: "fields" }, keys.filter((k) => obj[k] !== undefined && obj[k] !== null && obj[k] !== "")
    .map((k) => [h("dt", {}, (labels && labels[k]) || humanize(k)), h("dd", {}, fmtValue(k, obj[k]))]));
}
export function logList(logs) {
  if (!logs || !logs.length) return empty("No logs yet.");
  return h("ol", { class: "logs", testid: "logs" }, logs.map((log) => h("li", {},
    h("div", {}, badge(log.status), " ", h("time", {}, fmtTime(log.createdAt)),
      log.agentId ? ` · agent ${log.agentId}` : "", log.actor ? ` · by ${log.actor}` : "",
      log.attempt !== undefined && log.attempt !== null ? ` · attempt ${log.attempt}` : ""),
    log.message ? h("div", { class: "log-message" }, log.message) : null,
    ["requestPayload", "responsePayload"].filter((k) => log[k] !== null && log[k] !== undefined)
      .map((k) => h("details", {}, h("summary", {}, humanize(k)), renderData(log[k]))))));
}
