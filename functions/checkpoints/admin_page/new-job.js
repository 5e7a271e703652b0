// The Create form (/app/new): a blank job or one from a template (GET /api/templates; POST /api/jobs with
// templateId + variables, DESIGN.md §16). Every field is checked here first — the inputData JSON parsed, its size
// and depth bounded, tags in key:value form — and each error is shown next to its field; the API's own refusal is
// shown next to the field it names. A template's fields are prefilled so the person sees what they get; only
// the fields they change are sent, as overrides of the template's body.
import { $, api, ApiError, clear, h, latest, message, replace, report, show, STALE } from "./core.js";
import { TAG_PATTERN } from "./job-list.js";

const MAX_INPUT_BYTES = 64 * 1024;  // the API's inputData limit (models/jobs.py MAX_INPUT_BYTES)
const MAX_DEPTH = 32;  // the API's JSON depth limit (models/base.py MAX_JSON_DEPTH)
const MAX_TAGS = 10;
const MAX_TEXT = 10000;
const JOB_TYPE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}/g;
const FIELDS = ["template", "name", "description", "criteria", "type", "priority", "tags", "input", "variables"];
// The API's field names (error.field) → the form's
const API_FIELDS = { templateId: "template", name: "name", description: "description", taskDescription: "description",
  acceptanceCriteria: "criteria", jobType: "type", priority: "priority", tags: "tags", inputData: "input",
  variables: "variables" };

let templates = [];  // what GET /api/templates answered
let prefill = null;  // the form's values as the chosen template filled them
let onCreated = () => undefined;
let attempt = { body: null, key: null };  // the same body sent again reuses its Idempotency-Key

const input = (name) => $(`new-${name}`);
function setError(name, text) {
  const el = $(`error-${name}`);
  el.textContent = text || "";
  show(el, Boolean(text));
  const control = input(name);
  if (control) control.setAttribute("aria-invalid", text ? "true" : "false");
}
const clearErrors = () => FIELDS.forEach((name) => setError(name, ""));

// ---- checks -----------------------------------------------------------------------------------
export function depthOf(value) {
  let deepest = 0;
  const stack = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop();
    if (node === null || typeof node !== "object") continue;
    deepest = Math.max(deepest, depth);
    if (depth > MAX_DEPTH) return depth;
    Object.values(node).forEach((child) => stack.push([child, depth + 1]));
  }
  return deepest;
}
// The inputData textarea as an object, or the reason it cannot be sent.
export function parseInput(text) {
  const raw = text.trim();
  if (!raw) return { value: {} };
  const bytes = new TextEncoder().encode(raw).length;
  if (bytes > MAX_INPUT_BYTES) return { error: `Input data is ${Math.ceil(bytes / 1024)} KB; the limit is 64 KB.` };
  let value;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { error: `Input data is not valid JSON: ${err.message}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { error: "Input data must be a JSON object, like {\"userId\": \"user-123\"}." };
  }
  if (depthOf(value) > MAX_DEPTH) return { error: `Input data is nested more than ${MAX_DEPTH} levels deep.` };
  return { value };
}
export function parseTags(text) {
  const tags = [...new Set(text.split(",").map((t) => t.trim()).filter(Boolean))];
  if (tags.length > MAX_TAGS) return { error: `At most ${MAX_TAGS} tags.` };
  const bad = tags.find((t) => !TAG_PATTERN.test(t));
  if (bad) return { error: `“${bad}” is not a tag: write key:value, e.g. team:search (key: a-z, 0-9, _ . -).` };
  return { value: tags };
}

// ---- the form's values ------------------------------------------------------------------------
function values() {
  return {
    name: input("name").value.trim(), description: input("description").value.trim(),
    criteria: input("criteria").value.trim(), type: input("type").value.trim(), priority: input("priority").value.trim(),
    tags: input("tags").value.trim(), input: input("input").value.trim(),
  };
}
// {body} to POST, or {errors: {field: message}}.
function buildBody() {
  const v = values();
  const errors = {};
  const template = templates.find((t) => t.id === input("template").value) || null;
  const changed = (key) => !prefill || v[key] !== prefill[key];
  const body = {};
  if (template) {
    body.templateId = template.id;
    const variables = {};
    for (const el of $("new-variables").querySelectorAll("input[data-variable]")) {
      if (!el.value.trim()) errors.variables = `Fill in every variable (${el.dataset.variable} is empty).`;
      variables[el.dataset.variable] = el.value;
    }
    body.variables = variables;
  } else if (!v.description) errors.description = "Describe the task: the agent works from this text.";
  if (v.name.length > 200) errors.name = "At most 200 characters.";
  if (v.description.length > MAX_TEXT) errors.description = `At most ${MAX_TEXT.toLocaleString("en-US")} characters.`;
  if (v.criteria.length > MAX_TEXT) errors.criteria = `At most ${MAX_TEXT.toLocaleString("en-US")} characters.`;
  if (v.type && !JOB_TYPE.test(v.type)) errors.type = "Lowercase letters, digits and dashes, e.g. simple-task.";
  const priority = Number(v.priority);
  if (v.priority && !(Number.isInteger(priority) && priority >= 1 && priority <= 10)) {
    errors.priority = "A whole number from 1 (lowest) to 10 (highest).";
  }
  const tags = parseTags(v.tags);
  if (tags.error) errors.tags = tags.error;
  const data = parseInput(v.input);
  if (data.error) errors.input = data.error;
  if (Object.keys(errors).length) return { errors };
  const send = (key) => Boolean(v[key]) && changed(key);
  if (send("name")) body.name = v.name;
  if (send("description")) body.description = v.description;
  if (send("criteria")) body.acceptanceCriteria = v.criteria;
  if (send("type")) body.jobType = v.type;
  if (send("priority")) body.priority = priority;
  if (send("tags")) body.tags = tags.value;
  if (send("input")) body.inputData = data.value;
  return { body };
}

// ---- templates --------------------------------------------------------------------------------
function variablesOf(template) {
  if (Array.isArray(template.variables)) return template.variables;
  return [...new Set([...JSON.stringify(template.body || {}).matchAll(VARIABLE)].map((m) => m[1]))];
}
function fillFrom(template) {
  const body = (template && template.body) || {};
  input("name").value = body.name || "";
  input("description").value = body.description || body.taskDescription || "";
  input("criteria").value = body.acceptanceCriteria || "";
  input("type").value = body.jobType || "simple-task";
  input("priority").value = String(body.priority || 5);
  input("tags").value = (body.tags || []).join(", ");
  input("input").value = body.inputData ? JSON.stringify(body.inputData, null, 2) : "{}";
  prefill = template ? values() : null;
  const names = template ? variablesOf(template) : [];
  const box = clear($("new-variables"));
  show($("new-variables-box"), names.length > 0);
  names.forEach((name) => box.appendChild(h("label", {}, name,
    h("input", { "data-variable": name, testid: `var-${name}`, maxlength: 2000, required: true, size: 30 }))));
  $("new-template-about").textContent = template
    ? `${template.description || "No description."}${template.shared ? " · shared by an admin" : ""}` : "Start from an empty form.";
}
export async function loadNewJob(wanted) {
  clearErrors();
  const select = input("template");
  try {
    const data = await latest("templates", "/api/templates?limit=100");
    if (data === STALE) return;
    templates = data.templates || [];
  } catch (err) {
    templates = [];
    if (err.status !== 404) report(err, "Could not load the templates.");
  }
  const chosen = wanted && templates.some((t) => t.id === wanted) ? wanted : select.value;
  replace(select, h("option", { value: "" }, "Blank job"),
    templates.map((t) => h("option", { value: t.id }, `${t.name}${t.shared ? " (shared)" : ""}`)));
  select.value = templates.some((t) => t.id === chosen) ? chosen : "";
  if (select.value !== (prefill ? prefill.templateId : "")) chooseTemplate();
}
function chooseTemplate() {
  clearErrors();
  const template = templates.find((t) => t.id === input("template").value) || null;
  fillFrom(template);
  if (prefill) prefill.templateId = template.id;
}

// ---- submit -----------------------------------------------------------------------------------
async function submit(event) {
  event.preventDefault();
  clearErrors();
  const built = buildBody();
  if (built.errors) {
    Object.entries(built.errors).forEach(([name, text]) => setError(name, text));
    const first = FIELDS.find((name) => built.errors[name]);
    (first === "variables" ? $("new-variables").querySelector("input") : input(first))?.focus();
    message("Some fields need fixing before the job can be created.", "error");
    return;
  }
  const text = JSON.stringify(built.body);
  if (attempt.body !== text) attempt = { body: text, key: crypto.randomUUID() };
  $("new-submit").disabled = true;
  try {
    const data = await api("POST", "/api/jobs", built.body, undefined, { "Idempotency-Key": attempt.key });
    attempt = { body: null, key: null };
    resetNewJob();
    onCreated(data.job);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 401 || err.status === 403) return;
    const field = API_FIELDS[String(err.field || "").split(/[.[]/)[0]];
    if (field) setError(field, err.message);
    message(`The job was not created: ${err.message}`, "error");
  } finally {
    $("new-submit").disabled = false;
  }
}
export function resetNewJob() {
  $("new-form").reset();
  input("template").value = "";
  fillFrom(null);
  clearErrors();
}
export function initNewJob(created) {
  onCreated = created;
  $("new-form").addEventListener("submit", submit);
  input("template").addEventListener("change", chooseTemplate);
  $("new-blank").addEventListener("click", () => { input("template").value = ""; chooseTemplate(); });
  fillFrom(null);
}
