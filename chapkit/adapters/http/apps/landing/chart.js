// A hand-written SVG forecast plot: history, the median of the samples and the 25-75 and 5-95 bands.
import { s } from "./ui.js";

const W = 720;
const H = 320;
const M = { left: 52, right: 14, top: 14, bottom: 40 };

function niceTicks(low, high, count = 5) {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((st) => st >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function label(value) {
  return Math.abs(value) >= 10000 ? value.toExponential(1) : String(Number(value.toPrecision(4)));
}

/**
 * `periods`: every x value in order; `history`: `{period: value}`; `forecast`: rows `{period, median, q05, q25,
 * q75, q95}` (a forecast without samples gives `median` only). Returns the `<svg>`.
 */
export function forecastChart({ periods, history, forecast, title }) {
  const x = new Map(periods.map((p, i) => [p, i]));
  const values = [];
  for (const v of Object.values(history)) if (Number.isFinite(v)) values.push(v);
  for (const row of forecast) for (const k of ["median", "q05", "q95"]) if (Number.isFinite(row[k])) values.push(row[k]);
  let low = values.length ? Math.min(...values) : 0;
  let high = values.length ? Math.max(...values) : 1;
  if (low === high) {
    low -= 1;
    high += 1;
  }
  const pad = (high - low) * 0.05;
  low = low >= 0 && low - pad < 0 ? 0 : low - pad;
  high += pad;
  const px = (p) => M.left + (periods.length <= 1 ? 0.5 : x.get(p) / (periods.length - 1)) * (W - M.left - M.right);
  const py = (v) => M.top + (1 - (v - low) / (high - low)) * (H - M.top - M.bottom);
  const pt = (p, v) => `${px(p).toFixed(2)},${py(v).toFixed(2)}`;

  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img", "aria-label": title });
  svg.append(s("title", {}, title));
  const yTicks = niceTicks(low, high);
  for (const t of yTicks) {
    svg.append(s("line", { class: "axis", x1: M.left, x2: W - M.right, y1: py(t), y2: py(t), "stroke-dasharray": "2 3" }));
    svg.append(s("text", { x: M.left - 6, y: py(t) + 4, "text-anchor": "end" }, label(t)));
  }
  const every = Math.max(1, Math.ceil(periods.length / 8));
  periods.forEach((p, i) => {
    if (i % every !== 0 && i !== periods.length - 1) return;
    const anchor = periods.length > 1 && i === 0 ? "start" : periods.length > 1 && i === periods.length - 1 ? "end" : "middle";
    svg.append(s("text", { x: px(p), y: H - M.bottom + 16, "text-anchor": anchor }, p));
  });
  svg.append(s("line", { class: "axis", x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom }));

  const band = (lowKey, highKey, cls) => {
    const rows = forecast.filter((r) => Number.isFinite(r[lowKey]) && Number.isFinite(r[highKey]));
    if (rows.length === 0) return;
    const upper = rows.map((r) => pt(r.period, r[highKey]));
    const lower = rows.slice().reverse().map((r) => pt(r.period, r[lowKey]));
    svg.append(s("polygon", { class: cls, points: [...upper, ...lower].join(" ") }));
  };
  band("q05", "q95", "band-outer");
  band("q25", "q75", "band-inner");

  const historyPoints = periods.filter((p) => Number.isFinite(history[p]));
  if (historyPoints.length) {
    svg.append(s("polyline", { class: "history", points: historyPoints.map((p) => pt(p, history[p])).join(" ") }));
    for (const p of historyPoints) svg.append(s("circle", { class: "history-point", cx: px(p), cy: py(history[p]), r: 1.8 }));
  }
  const medianRows = forecast.filter((r) => Number.isFinite(r.median));
  if (medianRows.length) {
    svg.append(
      s("polyline", {
        class: "median",
        points: medianRows.map((r) => pt(r.period, r.median)).join(" "),
        "data-median": JSON.stringify(medianRows.map((r) => r.median)),
      }),
    );
    for (const r of medianRows) svg.append(s("circle", { cx: px(r.period), cy: py(r.median), r: 2.5, class: "median-point" }));
  }
  return svg;
}
