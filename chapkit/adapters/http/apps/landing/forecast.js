// A prediction: a plot and a table per location, history when the prediction carries it, downloads.
import { api, download } from "./api.js";
import { forecastChart } from "./chart.js";
import { sampleColumns, summarise } from "./stats.js";
import { facts, formatNumber, formatTime, h, problemBox, shortId, showProblem, table } from "./ui.js";

/** The predictions frame of either contract shape (`predictions` or `content`). */
export function predictionFrame(data) {
  for (const key of ["predictions", "content"]) {
    const frame = data?.[key];
    if (frame && Array.isArray(frame.columns) && Array.isArray(frame.data)) return frame;
  }
  return null;
}

/** The history frame, where either contract shape keeps it (`data.history` or `metadata.history`). */
export function historyFrame(data) {
  const frame = data?.history ?? data?.metadata?.history;
  return frame && Array.isArray(frame.columns) && Array.isArray(frame.data) ? frame : null;
}

function targetColumn(frame, preferred) {
  if (preferred && frame.columns.includes(preferred)) return preferred;
  const candidates = frame.columns.filter((c) => !["location", "time_period"].includes(c) && !/^sample_\d+$/.test(c));
  return candidates.find((c) => frame.data.some((r) => typeof r[frame.columns.indexOf(c)] === "number")) ?? null;
}

/** Per location: the forecast rows (quantiles or a line) and the history, ready to plot. */
export function byLocation(frame, history, target) {
  const loc = frame.columns.indexOf("location");
  const tp = frame.columns.indexOf("time_period");
  const samples = sampleColumns(frame.columns);
  const targetIndex = target ? frame.columns.indexOf(target) : -1;
  const out = new Map();
  const entry = (name) => {
    if (!out.has(name)) out.set(name, { forecast: [], history: {} });
    return out.get(name);
  };
  for (const row of frame.data) {
    const name = loc >= 0 ? String(row[loc]) : "all";
    const period = tp >= 0 ? String(row[tp]) : String(entry(name).forecast.length);
    if (samples.length) entry(name).forecast.push({ period, ...summarise(samples.map(([, i]) => row[i])) });
    else entry(name).forecast.push({ period, median: targetIndex >= 0 ? row[targetIndex] : NaN });
  }
  if (history) {
    const hLoc = history.columns.indexOf("location");
    const hTp = history.columns.indexOf("time_period");
    const hTarget = history.columns.indexOf(target && history.columns.includes(target) ? target : targetColumn(history, target));
    if (hTp >= 0 && hTarget >= 0) {
      for (const row of history.data) {
        const value = row[hTarget];
        if (typeof value === "number") entry(hLoc >= 0 ? String(row[hLoc]) : "all").history[String(row[hTp])] = value;
      }
    }
  }
  for (const item of out.values()) item.forecast.sort((a, b) => a.period.localeCompare(b.period));
  return { locations: [...out.keys()].sort(), data: out, withSamples: samples.length > 0, sampleCount: samples.length };
}

export async function render(page, route, ctx) {
  const id = route.params[0];
  const artifact = await api(`/api/v1/artifacts/${id}`);
  const data = artifact.data || {};
  const frame = predictionFrame(data);
  page.append(h("h1", {}, "Forecast ", h("span", { class: "mono muted", title: id }, shortId(id))));
  const modelId = data.model_artifact_id || data.metadata?.model_artifact_id || artifact.parent_id;
  const configId = data.config_id || data.metadata?.config_id;
  page.append(
    facts([
      ["Model", modelId ? h("a", { href: `#/models/${modelId}`, class: "mono" }, shortId(modelId)) : null],
      ["Config", configId ? h("a", { href: `#/configs/${configId}`, class: "mono" }, shortId(configId)) : null],
      ["Created", formatTime(artifact.created_at)],
    ]),
  );
  const problem = problemBox("forecast-problem");
  const downloads = h(
    "div",
    { class: "actions" },
    ["csv", "parquet"].map((format) =>
      h(
        "button",
        {
          type: "button",
          id: `download-${format}`,
          onclick: () =>
            download(`/api/v1/artifacts/${id}/$download?format=${format}`, `artifact_${id}.${format}`)
              .then(() => showProblem(problem, null))
              .catch((e) => showProblem(problem, e)),
        },
        `Download ${format === "csv" ? "CSV" : "Parquet"}`,
      ),
    ),
  );
  page.append(downloads, problem);
  if (!frame) {
    page.append(h("p", { class: "muted", id: "no-predictions" }, "This artifact holds no prediction table."));
    return;
  }
  const target = targetColumn(frame, ctx.info?.target);
  const history = historyFrame(data);
  const summary = byLocation(frame, history, target);
  const picker = h(
    "select",
    { id: "location-picker" },
    summary.locations.map((name) => h("option", { value: name }, name)),
  );
  page.append(
    h("div", { class: "actions" }, h("label", { for: "location-picker" }, "Location"), picker),
    h(
      "p",
      { class: "muted small" },
      summary.withSamples
        ? `${summary.sampleCount} samples per period; the line is their median, the bands hold the middle 50% and 90%.`
        : `No samples: the line is the predicted ${target ?? "value"}.`,
      history ? " History: the last observed values of the target." : " No history was stored with this prediction.",
    ),
  );
  const plotHolder = h("div", { id: "plot" });
  const legend = h(
    "div",
    { class: "legend" },
    history ? h("span", { class: "l-history" }, "history") : null,
    h("span", { class: "l-median" }, summary.withSamples ? "median" : target ?? "prediction"),
    summary.withSamples ? [h("span", { class: "l-inner" }, "25–75%"), h("span", { class: "l-outer" }, "5–95%")] : null,
  );
  const tableHolder = h("div", { id: "forecast-table" });
  page.append(plotHolder, legend, h("h2", {}, "Values"), tableHolder);

  const show = () => {
    const name = picker.value;
    const item = summary.data.get(name);
    const periods = [...new Set([...Object.keys(item.history), ...item.forecast.map((r) => r.period)])].sort();
    const chart = forecastChart({ periods, history: item.history, forecast: item.forecast, title: `Forecast for ${name}` });
    const exposed = h("script", { type: "application/json", id: "plot-data" });
    exposed.textContent = JSON.stringify({
      location: name,
      target,
      periods: item.forecast.map((r) => r.period),
      median: item.forecast.map((r) => r.median),
      q05: item.forecast.map((r) => r.q05 ?? null),
      q25: item.forecast.map((r) => r.q25 ?? null),
      q75: item.forecast.map((r) => r.q75 ?? null),
      q95: item.forecast.map((r) => r.q95 ?? null),
      history: item.history,
    });
    plotHolder.replaceChildren(chart, exposed);
    const columns = [{ label: "Period", value: (r) => r.period }];
    if (summary.withSamples) {
      columns.push(
        { label: "Median", value: (r) => formatNumber(r.median), num: true },
        { label: "5%", value: (r) => formatNumber(r.q05), num: true },
        { label: "25%", value: (r) => formatNumber(r.q25), num: true },
        { label: "75%", value: (r) => formatNumber(r.q75), num: true },
        { label: "95%", value: (r) => formatNumber(r.q95), num: true },
      );
    } else columns.push({ label: target ?? "Value", value: (r) => formatNumber(r.median), num: true });
    tableHolder.replaceChildren(table(columns, item.forecast, { id: "forecast-values" }));
  };
  picker.addEventListener("change", show);
  show();
}
