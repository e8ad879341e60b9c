// Tasks (list, run, output) and System (system info, mounted apps, a few /metrics figures).
import { api } from "./api.js";
import { artifactLink } from "./jobs.js";
import { poll } from "./poll.js";
import { badge, facts, formatNumber, h, problemBox, shortId, showProblem, table } from "./ui.js";

async function tasks(page) {
  const problem = problemBox("tasks-problem");
  const output = h("div", { id: "task-output", "aria-live": "polite" });
  const list = await api("/api/v1/tasks");
  page.append(h("h1", {}, "Tasks"), problem);
  let stop = null;
  const run = async (task) => {
    try {
      const accepted = await api(`/api/v1/tasks/${task.id}/$execute`, { method: "POST" });
      showProblem(problem, null);
      if (stop) stop();
      stop = poll(async () => {
        const job = await api(`/api/v1/jobs/${accepted.job_id}`);
        output.replaceChildren(
          h("h2", {}, `Run of ${task.command}`),
          h("p", {}, "Job ", h("span", { class: "mono" }, shortId(job.id)), " ", badge(job.status)),
          job.error ? h("pre", {}, job.error, job.error_traceback ? `\n${job.error_traceback}` : "") : "",
          job.artifact_id ? h("p", {}, "Output: ", artifactLink(job.artifact_id, "artifact")) : "",
        );
        if (job.artifact_id && job.status === "completed") {
          const artifact = await api(`/api/v1/artifacts/${job.artifact_id}`).catch(() => null);
          if (artifact) output.append(h("pre", { id: "task-result" }, JSON.stringify(artifact.data, null, 2)));
        }
        return !["completed", "failed", "canceled"].includes(job.status);
      });
    } catch (error) {
      showProblem(problem, error);
    }
  };
  page.append(
    list.length === 0
      ? h("p", { class: "muted" }, "No tasks.")
      : table(
          [
            { label: "Command", value: (t) => h("code", {}, t.command) },
            { label: "Type", value: (t) => t.task_type },
            { label: "Enabled", value: (t) => (t.enabled ? "yes" : "no") },
            { label: "", value: (t) => h("button", { type: "button", disabled: !t.enabled, onclick: () => run(t) }, "Run") },
          ],
          list,
          { id: "tasks" },
        ),
    output,
  );
  return () => stop && stop();
}

/** A few figures from Prometheus text: request and job counters, summed over their labels. */
export function metricFigures(text) {
  const sums = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([^\s]+)/.exec(line);
    if (!match || !/(_total|_count)$/.test(match[1]) || match[1].endsWith("_created")) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) sums.set(match[1], (sums.get(match[1]) || 0) + value);
  }
  return [...sums.entries()].filter(([name]) => /(ml_|job|request|task)/.test(name)).slice(0, 12);
}

async function system(page, ctx) {
  page.append(h("h1", {}, "System"));
  const info = await api("/api/v1/system");
  page.append(
    h(
      "section",
      { class: "card", id: "system-info" },
      facts([
        ["Host", info.hostname],
        ["Platform", info.platform],
        ["Python", info.python_version],
        ["Time", info.current_time],
        ["Time zone", info.timezone],
        ["chapkit", ctx.info?.chapkit_version],
      ]),
    ),
  );
  if (ctx.has("/api/v1/system/apps")) {
    const apps = await api("/api/v1/system/apps").catch(() => []);
    page.append(
      h("h2", {}, "Mounted apps"),
      table(
        [
          { label: "Name", value: (a) => h("a", { href: a.prefix }, a.name) },
          { label: "Prefix", value: (a) => h("code", {}, a.prefix) },
          { label: "Version", value: (a) => a.version },
          { label: "Description", value: (a) => a.description || "" },
        ],
        apps,
        { id: "apps" },
      ),
    );
  }
  // Only where the service serves metrics (`with_monitoring`): no request that is sure to 404.
  const response = ctx.has("/metrics") ? await api("/metrics", { raw: true }).catch(() => null) : null;
  if (response) {
    const figures = metricFigures(await response.text());
    if (figures.length) {
      page.append(
        h("h2", {}, "Monitoring"),
        table([{ label: "Metric", value: ([n]) => h("code", {}, n) }, { label: "Value", value: ([, v]) => formatNumber(v), num: true }], figures, { id: "metric-figures" }),
      );
    }
  }
}

export async function render(page, route, ctx) {
  return route.name === "tasks" ? tasks(page) : system(page, ctx);
}
