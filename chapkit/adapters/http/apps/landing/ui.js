// DOM helpers: every value is written as text, never parsed as markup.

/** Create an element: `h("a", {href: "#/"}, "text", child)`; `on*` attributes become listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined && value !== null) el.setAttribute(name, String(value));
  append(el, children);
  return el;
}

/** A table; `columns`: `[{label, value: row => node|text, num?}]`. */
export function table(columns, rows, attrs = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      attrs,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : undefined, scope: "col" }, c.label)))),
      h(
        "tbody",
        {},
        rows.map((row) => h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : undefined }, c.value(row))))),
      ),
    ),
  );
}

/** A definition list of `[label, value]` pairs, leaving out empty values. */
export function facts(pairs) {
  const items = pairs.filter(([, v]) => v !== undefined && v !== null && v !== "");
  return h("dl", { class: "facts" }, items.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export function badge(status) {
  return h("span", { class: `badge status-${status}` }, status);
}

export function problemBox(id) {
  return h("div", { class: "problem", role: "alert", id });
}

/** Show an error's text (the problem `detail`) in a box. */
export function showProblem(box, error) {
  box.textContent = error ? error.message || String(error) : "";
}

export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  setTimeout(() => {
    if (box.textContent === message) box.textContent = "";
  }, 4000);
}

export function formatTime(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

export function formatBytes(bytes) {
  if (typeof bytes !== "number") return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formatNumber(value) {
  if (typeof value !== "number") return value === null || value === undefined ? "" : String(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1000 ? value.toFixed(1) : value.toPrecision(4);
}

export function shortId(id) {
  return id ? `…${String(id).slice(-8)}` : "";
}

const SAFE_URL = /^(https?:|mailto:|#|\/|\.\/)/i;

function inline(text) {
  // `code`, **bold** and [text](url), everything else as text.
  const nodes = [];
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  let match;
  while ((match = pattern.exec(text)) !== null) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    if (match[1] !== undefined) nodes.push(h("code", {}, match[1]));
    else if (match[2] !== undefined) nodes.push(h("strong", {}, match[2]));
    else if (SAFE_URL.test(match[4])) nodes.push(h("a", { href: match[4], rel: "noopener noreferrer" }, match[3]));
    else nodes.push(match[0]);
    last = pattern.lastIndex;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

/** A small, safe markdown subset: paragraphs, `code`, **bold**, links; never HTML. */
export function markdown(source) {
  const container = h("div", { class: "markdown" });
  for (const block of String(source || "").split(/\n\s*\n/)) {
    const text = block.trim();
    if (!text) continue;
    const lines = text.split("\n");
    if (lines.every((line) => /^\s*[-*]\s+/.test(line))) {
      container.append(h("ul", {}, lines.map((line) => h("li", {}, inline(line.replace(/^\s*[-*]\s+/, ""))))));
    } else {
      container.append(h("p", {}, inline(lines.join(" "))));
    }
  }
  return container;
}

/** An inline confirmation under `anchor`: resolves true on "yes". */
export function confirmInline(anchor, question, yesLabel) {
  return new Promise((resolve) => {
    const done = (answer) => {
      box.remove();
      resolve(answer);
    };
    const yes = h("button", { class: "danger", type: "button", onclick: () => done(true) }, yesLabel);
    const box = h(
      "div",
      { class: "confirm", role: "alertdialog", "aria-label": question },
      h("p", {}, question),
      h("div", { class: "actions" }, yes, h("button", { type: "button", onclick: () => done(false) }, "Keep it")),
    );
    anchor.after(box);
    yes.focus();
  });
}
