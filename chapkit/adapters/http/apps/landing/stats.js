// Quantiles of forecast samples (linear interpolation between order statistics, as numpy's default).

export const SAMPLE = /^sample_(\d+)$/;

/** The `sample_<n>` columns, in sample order, as `[name, index]`. */
export function sampleColumns(columns) {
  return columns
    .map((name, index) => [name, index, SAMPLE.exec(name)])
    .filter(([, , m]) => m)
    .sort((a, b) => Number(a[2][1]) - Number(b[2][1]))
    .map(([name, index]) => [name, index]);
}

/** The `p`-quantile (0..1) of numbers, linear between order statistics; NaN for none. */
export function quantile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * p;
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
}

export const LEVELS = { q05: 0.05, q25: 0.25, median: 0.5, q75: 0.75, q95: 0.95 };

/** The summary of one row's samples: `{q05, q25, median, q75, q95}`. */
export function summarise(values) {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  const out = {};
  for (const [name, p] of Object.entries(LEVELS)) out[name] = quantile(sorted, p);
  return out;
}
