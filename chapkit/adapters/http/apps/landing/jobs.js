// Jobs: the scheduler's jobs, polled at most once a second while the page is visible.
import { api } from "./api.js";
import { poll } from "./poll.js";
import { badge, confirmInline, formatDuration, formatTime, h, problemBox, shortId, showProblem, table, toast } from "./ui.js";

const STATUSES = ["pending", "running", "completed", "failed", "canceled"];
const ACTIVE = new Set(["pending", "running"]);

export function duration(job) {
  if (!job.started_at) return "";
  const end = job.finished_at ? new Date(job.finished_at) : new Date();
  return formatDuration((end - new Date(job.started_at)) / 1000);
}

/** The link to what a job produced: a model, a prediction, or the artifact itself. */
export function artifactLink(artifactId, kind) {
  if (!artifactId) return "";
  const href = kind === "prediction" || kind === "ml_prediction" ? `#/predictions/${artifactId}` : `#/models/${artifactId}`;
  return h("a", { href, class: "mono" }, shortId(artifactId));
}

function errorCell(job) {
  if (!job.error) return "";
  const cell = h("div", {}, h("span", { class: "job-error" }, job.error));
  if (job.error_traceback) cell.append(h("details", {}, h("summary", {}, "Traceback"), h("pre", {}, job.error_traceback)));
  return cell;
}

export async function render(page) {
  const filter = h(
    "select",
    { id: "status-filter", "aria-label": "Status" },
    h("option", { value: "" }, "All statuses"),
    STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const problem = problemBox("jobs-problem");
  const holder = h("div", { id: "jobs-table" }, h("p", { class: "muted" }, "Loading…"));
  const updated = h("span", { class: "muted small", id: "jobs-updated" });
  page.append(
    h("h1", {}, "Jobs"),
    h("div", { class: "actions" }, h("label", { for: "status-filter" }, "Show "), filter, updated),
    problem,
    holder,
  );
  let lastSignature = "";
  const kinds = new Map();  // artifact id -> ml kind, learnt once per artifact

  const cancel = async (job, button) => {
    const active = ACTIVE.has(job.status);
    const ok = await confirmInline(button, active ? `Cancel job ${job.id}?` : `Delete the record of job ${job.id}?`, active ? "Cancel the job" : "Delete");
    if (!ok) return;
    try {
      await api(`/api/v1/jobs/${job.id}`, { method: "DELETE" });
      toast(active ? "Job canceled" : "Job deleted");
      showProblem(problem, null);
      await refresh();
    } catch (error) {
      showProblem(problem, error);
    }
  };

  const refresh = async () => {
    const status = filter.value;
    const jobs = await api(`/api/v1/jobs${status ? `?status_filter=${encodeURIComponent(status)}` : ""}`);
    if (page.querySelector(".confirm")) return;  // keep the table still while a confirmation is open
    jobs.sort((a, b) => String(b.submitted_at).localeCompare(String(a.submitted_at)));
    await Promise.all(
      jobs
        .filter((j) => j.artifact_id && j.status === "completed" && !kinds.has(j.artifact_id))
        .slice(0, 20)
        .map((j) =>
          api(`/api/v1/artifacts/${j.artifact_id}?content=false`)
            .then((a) => kinds.set(j.artifact_id, a?.data?.ml_type || a?.data?.type || "artifact"))
            .catch(() => kinds.set(j.artifact_id, null)),
        ),
    );
    const rows = jobs;
    // Re-render only when something changed (or a job is running): a focused button stays focused.
    const signature = JSON.stringify([status, rows, [...kinds]]);
    if (signature === lastSignature && !rows.some((j) => ACTIVE.has(j.status))) {
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
      return;
    }
    lastSignature = signature;
    holder.replaceChildren(
      rows.length === 0
        ? h("p", { class: "muted" }, status ? `No ${status} jobs.` : "No jobs yet.")
        : table(
            [
              { label: "Job", value: (j) => h("span", { class: "mono", title: j.id }, shortId(j.id)) },
              { label: "Status", value: (j) => badge(j.status) },
              { label: "Submitted", value: (j) => formatTime(j.submitted_at) },
              { label: "Duration", value: (j) => duration(j), num: true },
              { label: "Result", value: (j) => (j.status === "completed" && kinds.get(j.artifact_id) !== null ? artifactLink(j.artifact_id, kinds.get(j.artifact_id)) : "") },
              { label: "Error", value: errorCell },
              {
                label: "",
                value: (j) => {
                  const button = h("button", { type: "button", class: "danger", "data-job": j.id }, ACTIVE.has(j.status) ? "Cancel" : "Delete");
                  button.addEventListener("click", () => cancel(j, button));
                  return button;
                },
              },
            ],
            rows,
            { id: "jobs", "data-count": rows.length },
          ),
    );
    updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    showProblem(problem, null);
  };

  filter.addEventListener("change", () => refresh().catch((e) => showProblem(problem, e)));
  return poll(() => refresh().catch((error) => showProblem(problem, error)));
}
