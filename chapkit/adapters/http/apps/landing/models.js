// Trained models: training facts, reported metrics, a comparison table and their predictions.
import { api } from "./api.js";
import { trainedModels } from "./run.js";
import { facts, formatBytes, formatDuration, formatNumber, formatTime, h, shortId, table } from "./ui.js";

/** A model's reported metrics (`data.metrics`, or `metadata.metrics` in the newer shape): `{name: number}`. */
export function metricsOf(data) {
  const metrics = data?.metrics ?? data?.metadata?.metrics;
  if (!metrics || typeof metrics !== "object") return {};
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => typeof v === "number"));
}

function metricsText(metrics) {
  const entries = Object.entries(metrics);
  return entries.length ? entries.map(([k, v]) => `${k} ${formatNumber(v)}`).join(", ") : "—";
}

function field(data, key) {
  return data?.[key] ?? data?.metadata?.[key];
}

async function configNames() {
  try {
    return new Map((await api("/api/v1/configs")).map((c) => [c.id, c.name]));
  } catch {
    return new Map();
  }
}

function compareTable(models) {
  const names = [...new Set(models.flatMap((m) => Object.keys(metricsOf(m.data))))].sort();
  if (names.length === 0) return h("p", { class: "muted", id: "compare" }, "None of these models reported metrics.");
  return table(
    [
      { label: "Metric", value: (name) => name },
      ...models.map((m) => ({ label: shortId(m.id), value: (name) => formatNumber(metricsOf(m.data)[name]), num: true })),
    ],
    names,
    { id: "compare" },
  );
}

async function list(page) {
  const [models, configs] = await Promise.all([trainedModels(), configNames()]);
  page.append(h("h1", {}, "Trained models"));
  if (models.length === 0) {
    page.append(h("p", { class: "muted" }, "No trained model yet. ", h("a", { href: "#/train" }, "Train one"), "."));
    return;
  }
  // The list leaves content out; metrics are small and live beside it, so one fetch per model reads them.
  const full = await Promise.all(models.map((m) => api(`/api/v1/artifacts/${m.id}?content=false`).catch(() => m)));
  const selected = new Set();
  const compareButton = h("button", { type: "button", id: "compare-button", disabled: true }, "Compare metrics");
  const compareHolder = h("div", {});
  compareButton.addEventListener("click", () => {
    compareHolder.replaceChildren(h("h2", {}, "Metrics compared"), compareTable(full.filter((m) => selected.has(m.id))));
  });
  page.append(
    table(
      [
        {
          label: "Compare",
          value: (m) => {
            const box = h("input", { type: "checkbox", "aria-label": `Compare model ${m.id}`, "data-model": m.id });
            box.addEventListener("change", () => {
              if (box.checked) selected.add(m.id);
              else selected.delete(m.id);
              compareButton.disabled = selected.size === 0;
            });
            return box;
          },
        },
        { label: "Model", value: (m) => h("a", { href: `#/models/${m.id}`, class: "mono" }, shortId(m.id)) },
        { label: "Config", value: (m) => { const id = field(m.data, "config_id"); return id ? h("a", { href: `#/configs/${id}` }, configs.get(id) || shortId(id)) : ""; } },
        { label: "Trained", value: (m) => formatTime(field(m.data, "completed_at") || m.created_at) },
        { label: "Took", value: (m) => formatDuration(field(m.data, "duration_seconds")), num: true },
        { label: "Size", value: (m) => formatBytes(field(m.data, "model_size_bytes")), num: true },
        { label: "Type", value: (m) => field(m.data, "model_type") || m.data?.ml_type || m.data?.type || "" },
        { label: "Metrics", value: (m) => h("span", { class: "metrics" }, metricsText(metricsOf(m.data))) },
      ],
      full,
      { id: "models" },
    ),
    h("div", { class: "actions" }, compareButton),
    compareHolder,
  );
}

async function detail(page, id) {
  const [model, artifacts, configs] = await Promise.all([
    api(`/api/v1/artifacts/${id}?content=false`),
    api("/api/v1/artifacts?content=false"),
    configNames(),
  ]);
  const data = model.data || {};
  const configId = field(data, "config_id");
  page.append(h("h1", {}, "Model ", h("span", { class: "mono muted", title: id }, shortId(id))));
  page.append(
    facts([
      ["Id", h("code", {}, id)],
      ["Kind", data.ml_type || data.type],
      ["Config", configId ? h("a", { href: `#/configs/${configId}` }, configs.get(configId) || configId) : null],
      ["Trained", formatTime(field(data, "completed_at") || model.created_at)],
      ["Training took", formatDuration(field(data, "duration_seconds"))],
      ["Model type", field(data, "model_type")],
      ["Size", formatBytes(field(data, "model_size_bytes"))],
    ]),
  );
  const metrics = metricsOf(data);
  page.append(h("h2", {}, "Metrics"));
  page.append(
    Object.keys(metrics).length
      ? table([{ label: "Metric", value: ([k]) => k }, { label: "Value", value: ([, v]) => formatNumber(v), num: true }], Object.entries(metrics), { id: "metrics" })
      : h("p", { class: "muted", id: "metrics" }, "This model reported no metrics."),
  );
  const predictions = artifacts
    .filter((a) => a.parent_id === id)
    .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  page.append(
    h("h2", {}, "Predictions"),
    h("div", { class: "actions" }, h("a", { class: "button primary", href: `#/predict?model=${id}` }, "Predict with this model")),
    predictions.length === 0
      ? h("p", { class: "muted" }, "No prediction yet.")
      : table(
          [
            { label: "Prediction", value: (a) => h("a", { href: `#/predictions/${a.id}`, class: "mono" }, shortId(a.id)) },
            { label: "Kind", value: (a) => a.data?.ml_type || a.data?.type || "" },
            { label: "Created", value: (a) => formatTime(a.created_at) },
          ],
          predictions,
          { id: "predictions" },
        ),
  );
}

export async function render(page, route) {
  return route.params[0] ? detail(page, route.params[0]) : list(page);
}
