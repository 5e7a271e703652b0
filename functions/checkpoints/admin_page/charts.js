// Small dependency-free SVG charts for the stats tab: a stacked bar chart, grouped percentile bars and a
// horizontal bar chart. Built with createElementNS and text nodes only (no innerHTML, no style attributes: the page's
// CSP allows its own stylesheet only, so colours are classes in style.css). Each chart is a <figure> whose <svg> is
// role="img" with a <title> and <desc>, every bar carries its own <title> (the tooltip), and the numbers are also a
// text table under a <details>, for screen readers and for anyone who would rather read them.
import { h } from "./core.js";
import { table } from "./render.js";

const SVG = "http://www.w3.org/2000/svg";
const FONT = 12;  // px in the chart's own coordinates
let chartIds = 0;

export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    el.setAttribute(key === "testid" ? "data-testid" : key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    if (child instanceof Node) el.appendChild(child);
    else {
      const text = document.createTextNode("");
      text.textContent = String(child);
      el.appendChild(text);
    }
  }
  return el;
}

// A rounded top for the axis (1, 2, 2.5 or 5 × 10^k per step) and its step; whole steps for counts.
export function niceScale(max, { ticks = 4, whole = false } = {}) {
  if (!(max > 0)) return { top: whole ? ticks : 1, step: whole ? 1 : 1 / ticks };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= raw);
  if (whole) step = Math.max(1, Math.ceil(step));
  return { top: step * Math.ceil(max / step), step };
}

export const fmtMs = (ms) => (ms === null || ms === undefined ? "—"
  : ms < 10 ? `${Number(ms.toFixed(1))} ms` : ms < 1000 ? `${Math.round(ms)} ms`
    : `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))} s`);
export const fmtShare = (share) => (share === null || share === undefined ? "—" : `${(share * 100).toFixed(1)}%`);
const shorten = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function svgRoot(kind, width, height, title, description) {
  const id = `chart-${++chartIds}`;
  return s("svg", {
    class: `chart-svg ${kind}`, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-labelledby": `${id}-title ${id}-desc`, "font-size": FONT, testid: `${kind}-svg`,
  }, s("title", { id: `${id}-title` }, title), s("desc", { id: `${id}-desc` }, description));
}

// Horizontal gridlines with their values on the left; `y(v)` maps a value to the plot's y.
function yGrid(plot, scale, y, format) {
  const lines = [];
  for (let value = 0; value <= scale.top + 1e-9; value += scale.step) {
    lines.push(s("line", { class: "grid", x1: plot.left, x2: plot.right, y1: y(value), y2: y(value) }),
      s("text", { class: "tick", x: plot.left - 6, y: y(value) + FONT / 3, "text-anchor": "end" }, format(value)));
  }
  return s("g", { class: "y-axis", "aria-hidden": "true" }, lines);
}

function legend(items, testid) {
  return h("ul", { class: "legend", testid }, items.map(({ label, className }) => h("li", {},
    h("span", { class: `swatch ${className}`, "aria-hidden": "true" }), label)));
}

function numbers(rows, columns, testid) {
  return h("details", { class: "chart-numbers" }, h("summary", {}, "Show the numbers"), table(rows, columns, testid));
}

// The chart, its legend and caption, then its numbers (folded away).
function figure(kind, caption, svg, legendList, numbersTable) {
  return h("figure", { class: `chart ${kind}`, testid: kind }, svg, legendList,
    caption ? h("figcaption", {}, caption) : null, numbersTable);
}

/**
 * Stacked bars, one per category (e.g. an hour), stacked by series (e.g. statuses) in `series` order.
 * categories: [{ key, label, long, parts: { [series]: n } }]; `label` may be "" to leave a tick unlabelled.
 * seriesClass(series) → the CSS class that colours it; seriesLabel(series) → its name in the legend and table.
 */
export function stackedBarChart({ kind, title, description, caption, categories, series, seriesClass,
  seriesLabel = (name) => name, categoryHeading = "category", width = 1100, height = 280, empty }) {
  const plot = { left: 44, right: width - 12, top: 14, bottom: height - 30 };
  const totals = categories.map((c) => series.reduce((sum, name) => sum + (c.parts[name] || 0), 0));
  const scale = niceScale(Math.max(0, ...totals), { whole: true });
  const y = (value) => plot.bottom - (value / scale.top) * (plot.bottom - plot.top);
  const slot = (plot.right - plot.left) / Math.max(1, categories.length);
  const barWidth = Math.max(2, Math.min(44, slot * 0.72));
  const svg = svgRoot(kind, width, height, title, description);
  svg.appendChild(yGrid(plot, scale, y, (v) => String(Math.round(v))));
  const bars = s("g", { class: "bars" });
  categories.forEach((category, index) => {
    const x = plot.left + index * slot + (slot - barWidth) / 2;
    let base = 0;
    for (const name of series) {
      const value = category.parts[name] || 0;
      if (!value) continue;
      bars.appendChild(s("rect", {
        class: `bar ${seriesClass(name)}`, x, y: y(base + value), width: barWidth, height: y(base) - y(base + value),
        testid: "bar", "data-category": category.key, "data-series": name, "data-value": value,
      }, s("title", {}, `${category.long}: ${value} ${seriesLabel(name)}`)));
      base += value;
    }
    if (totals[index] && barWidth >= 14) {
      bars.appendChild(s("text", { class: "bar-total", x: x + barWidth / 2, y: y(base) - 4, "text-anchor": "middle",
        "aria-hidden": "true" }, String(totals[index])));
    }
    if (category.label) {
      bars.appendChild(s("text", { class: "tick", x: x + barWidth / 2, y: plot.bottom + FONT + 6,
        "text-anchor": "middle", testid: "category-label" }, category.label));
    }
  });
  svg.appendChild(bars);
  svg.appendChild(s("line", { class: "axis", x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom }));
  if (!totals.some(Boolean) && empty) {
    svg.appendChild(s("text", { class: "chart-empty", x: (plot.left + plot.right) / 2, y: (plot.top + plot.bottom) / 2,
      "text-anchor": "middle", testid: "chart-empty" }, empty));
  }
  const used = series.filter((name) => categories.some((c) => c.parts[name]));
  const rows = categories.map((c, index) => ({
    [categoryHeading]: c.long,
    ...Object.fromEntries(used.map((name) => [seriesLabel(name), c.parts[name] || 0])),
    total: totals[index],
  }));
  return figure(kind, caption, svg,
    used.length ? legend(used.map((name) => ({ label: seriesLabel(name), className: seriesClass(name) })), `${kind}-legend`) : null,
    numbers(rows, [categoryHeading, ...used.map(seriesLabel), "total"], `${kind}-table`));
}

/**
 * Grouped bars: for each group (e.g. all agents, then each agent) one bar per key (e.g. p50, p90, p95, p99).
 * groups: [{ key, label, values: { [key]: number|null }, note }]; a null value draws no bar.
 */
export function groupedBarChart({ kind, title, description, caption, groups, keys, keyClass, keyLabel = (k) => k,
  format = String, groupHeading = "group", width = 560, height = 300, empty }) {
  const plot = { left: 56, right: width - 10, top: 22, bottom: height - 44 };
  const values = groups.flatMap((g) => keys.map((k) => g.values[k])).filter((v) => typeof v === "number");
  const scale = niceScale(Math.max(0, ...values));
  const y = (value) => plot.bottom - (value / scale.top) * (plot.bottom - plot.top);
  const slot = (plot.right - plot.left) / Math.max(1, groups.length);
  const gap = Math.min(24, slot * 0.2);
  const barWidth = Math.max(3, Math.min(34, (slot - gap) / keys.length));
  const svg = svgRoot(kind, width, height, title, description);
  svg.appendChild(yGrid(plot, scale, y, format));
  const bars = s("g", { class: "bars" });
  groups.forEach((group, index) => {
    const start = plot.left + index * slot + (slot - barWidth * keys.length) / 2;
    keys.forEach((key, position) => {
      const value = group.values[key];
      if (typeof value !== "number") return;
      const x = start + position * barWidth;
      bars.appendChild(s("rect", {
        class: `bar ${keyClass(key)}`, x: x + 1, y: y(value), width: barWidth - 2, height: plot.bottom - y(value),
        testid: "bar", "data-group": group.key, "data-key": key, "data-value": value,
      }, s("title", {}, `${group.label} ${keyLabel(key)}: ${format(value)}`)));
    });
    const center = plot.left + index * slot + slot / 2;
    const maxChars = Math.max(6, Math.floor(slot / (FONT * 0.6)));
    bars.appendChild(s("g", {}, s("title", {}, group.label), s("text", { class: "tick group-label", x: center,
      y: plot.bottom + FONT + 6, "text-anchor": "middle", testid: "group-label" }, shorten(group.label, maxChars))));
    if (group.note) {
      bars.appendChild(s("text", { class: "tick note", x: center, y: plot.bottom + 2 * FONT + 10, "text-anchor": "middle" },
        group.note));
    }
  });
  svg.appendChild(bars);
  svg.appendChild(s("line", { class: "axis", x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom }));
  if (!values.length && empty) {
    svg.appendChild(s("text", { class: "chart-empty", x: (plot.left + plot.right) / 2, y: (plot.top + plot.bottom) / 2,
      "text-anchor": "middle", testid: "chart-empty" }, empty));
  }
  const rows = groups.map((g) => ({ [groupHeading]: g.label, ...Object.fromEntries(keys.map((k) => [keyLabel(k), format(g.values[k])])),
    ...(g.note ? { note: g.note } : {}) }));
  const columns = [groupHeading, ...keys.map(keyLabel), ...(groups.some((g) => g.note) ? ["note"] : [])];
  return figure(kind, caption, svg,
    groups.length ? legend(keys.map((k) => ({ label: keyLabel(k), className: keyClass(k) })), `${kind}-legend`) : null,
    numbers(rows, columns, `${kind}-table`));
}

/**
 * Horizontal bars on a 0…max track, one row per item: rows: [{ key, label, value: number|null, text }].
 * A null value draws an empty track with `text` (e.g. "no verdicts yet").
 */
export function horizontalBarChart({ kind, title, description, caption, rows, max = 1, format = String,
  labelHeading = "name", valueHeading = "value", width = 560, rowHeight = 30, empty, barClass = "bar-value" }) {
  const labelWidth = 190;
  const valueWidth = 130;
  const plot = { left: labelWidth, right: width - valueWidth, top: 8 };
  const height = Math.max(60, plot.top + rows.length * rowHeight + 26);
  const x = (value) => plot.left + (Math.min(value, max) / max) * (plot.right - plot.left);
  const svg = svgRoot(kind, width, height, title, description);
  const bottom = plot.top + rows.length * rowHeight;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((share) => share * max);
  svg.appendChild(s("g", { class: "x-axis", "aria-hidden": "true" }, ticks.map((value) => [
    s("line", { class: "grid", x1: x(value), x2: x(value), y1: plot.top, y2: bottom }),
    s("text", { class: "tick", x: x(value), y: bottom + FONT + 6, "text-anchor": "middle" }, format(value)),
  ])));
  const bars = s("g", { class: "bars" });
  rows.forEach((row, index) => {
    const top = plot.top + index * rowHeight;
    const middle = top + rowHeight / 2 + FONT / 3;
    bars.appendChild(s("g", {}, s("title", {}, row.label), s("text", { class: "tick row-label", x: plot.left - 8,
      y: middle, "text-anchor": "end", testid: "row-label" }, shorten(row.label, 28))));
    bars.appendChild(s("rect", { class: "track", x: plot.left, y: top + 6, width: plot.right - plot.left,
      height: rowHeight - 12 }));
    if (typeof row.value === "number") {
      bars.appendChild(s("rect", {
        class: `bar ${barClass}`, x: plot.left, y: top + 6, width: Math.max(1, x(row.value) - plot.left),
        height: rowHeight - 12, testid: "bar", "data-key": row.key, "data-value": row.value,
      }, s("title", {}, `${row.label}: ${row.text}`)));
    }
    bars.appendChild(s("text", { class: `bar-value-label${typeof row.value === "number" ? "" : " muted-text"}`,
      x: plot.right + 8, y: middle, testid: "value-label" }, row.text));
  });
  svg.appendChild(bars);
  if (!rows.length && empty) {
    svg.appendChild(s("text", { class: "chart-empty", x: width / 2, y: height / 2, "text-anchor": "middle",
      testid: "chart-empty" }, empty));
  }
  const tableRows = rows.map((row) => ({ [labelHeading]: row.label, [valueHeading]: row.text }));
  return figure(kind, caption, svg, null, numbers(tableRows, [labelHeading, valueHeading], `${kind}-table`));
}
