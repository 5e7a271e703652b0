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

// ---- a job's tags and result ------------------------------------------------------------------
// Tag chips ("key:value"); `onPick(tag)` makes each one a button that filters by it.
export function tagChips(tags, onPick) {
  if (!Array.isArray(tags) || !tags.length) return null;
  return h("span", { class: "tags" }, tags.map((tag) => (onPick
    ? h("button", { type: "button", class: "tag", testid: "tag-chip", title: `Show only jobs tagged ${tag}`,
      onclick: (event) => { event.stopPropagation(); onPick(tag); } }, tag)
    : h("span", { class: "tag", testid: "tag-chip" }, tag))));
}

const LONG_CHARS = 1200;
const LONG_LINES = 18;
const CODE_HINT = /(^|\n)\s*(def |class |import |from \S+ import |function |const |let |var |export |return |#include |package |public |SELECT |CREATE )|[{};]\s*\n/;
const lineCount = (text) => text.split("\n").length;
const isLong = (text) => text.length > LONG_CHARS || lineCount(text) > LONG_LINES;
export const looksLikeCode = (text) => text.includes("\n") && CODE_HINT.test(text);

// A block that shows its first lines and a "Show all" toggle when it is long (a CSS class, no inline style).
export function collapsible(block, text) {
  if (!isLong(text)) return block;
  block.classList.add("collapsible", "collapsed");
  const toggle = h("button", { type: "button", class: "link", testid: "expand", "aria-expanded": "false" },
    `Show all (${lineCount(text).toLocaleString("en-US")} lines)`);
  toggle.addEventListener("click", () => {
    const collapsed = block.classList.toggle("collapsed");
    toggle.setAttribute("aria-expanded", String(!collapsed));
    toggle.textContent = collapsed ? `Show all (${lineCount(text).toLocaleString("en-US")} lines)` : "Show less";
  });
  return h("div", { class: "collapsible-wrap" }, block, toggle);
}
// A text value: code in a monospace block, prose wrapped; both fold when long.
export function textBlock(text, testid) {
  const code = looksLikeCode(text);
  const block = code ? h("pre", { class: "code", testid: testid ? `${testid}-code` : "result-code" }, h("code", {}, text))
    : h("div", { class: "prose", testid: testid ? `${testid}-text` : "result-text" }, text);
  return collapsible(block, text);
}
function jsonBlock(value) {
  const text = JSON.stringify(value, null, 2);
  return collapsible(h("pre", { class: "json", testid: "result-json" }, text), text);
}
const isTextField = (v) => typeof v === "string" && (v.length > 160 || v.includes("\n"));
const TEXT_DEPTH = 3;  // long texts are lifted out of the JSON down to this depth (result.input.notes)
// Long strings (with their path) lifted out of `value`, and `value` with each replaced by a short pointer.
function liftTexts(value, path, depth, texts) {
  if (isTextField(value) && path.length) {
    texts.push({ path: path.join("."), text: value });
    return `‹${value.length.toLocaleString("en-US")} characters: shown below as “${path.join(".")}”›`;
  }
  if (depth >= TEXT_DEPTH || value === null || typeof value !== "object" || isFiles(value)) return value;
  if (Array.isArray(value)) return value.map((v, i) => liftTexts(v, [...path, String(i)], depth + 1, texts));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, liftTexts(v, [...path, k], depth + 1, texts)]));
}
// A job's result, readable: its summary first, files as code, long texts as wrapped text or code blocks (folded
// when long), and the rest as pretty-printed JSON. All text nodes.
export function resultPreview(value) {
  const box = h("div", { class: "result", testid: "result-preview" });
  if (value === null || value === undefined) { box.appendChild(h("p", { class: "muted" }, "No result yet.")); return box; }
  if (typeof value === "string") { box.appendChild(textBlock(value)); return box; }
  if (isFiles(value) || isRows(value)) { box.appendChild(renderData(value)); return box; }
  const summary = isObject(value) && typeof value.summary === "string" ? value.summary : null;
  const rest = isObject(value) ? { ...value } : value;
  if (summary !== null) delete rest.summary;
  const files = isObject(rest) ? Object.entries(rest).filter(([, v]) => isFiles(v)) : [];
  files.forEach(([key]) => delete rest[key]);
  const texts = [];
  const lifted = liftTexts(rest, [], 0, texts);
  const hasRest = isObject(lifted) ? Object.keys(lifted).length > 0 : true;
  box.append(...[
    summary !== null ? h("p", { class: "summary prewrap", testid: "result-summary" }, summary) : null,
    ...files.map(([key, v]) => h("section", {}, h("h4", {}, humanize(key)), renderData(v))),
    hasRest ? jsonBlock(lifted) : null,
    ...texts.map(({ path, text }) => h("section", { testid: "result-field", "data-path": path },
      h("h4", {}, path), textBlock(text))),
  ].filter(Boolean));
  return box;
}
