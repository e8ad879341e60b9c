// Train and Predict: pick a config or a model, data from a CSV file or generated, `$validate`, run, follow the job.
import { api } from "./api.js";
import { csvToFrame } from "./csv.js";
import { artifactLink, duration } from "./jobs.js";
import { poll } from "./poll.js";
import { badge, h, problemBox, shortId, showProblem } from "./ui.js";

const TERMINAL = new Set(["completed", "failed", "canceled"]);

/** Trained models (level-0 artifacts of either contract shape), newest first. */
export async function trainedModels() {
  const artifacts = await api("/api/v1/artifacts?content=false");
  return artifacts
    .filter((a) => a.parent_id === null && ["trained_model", "ml_training_workspace"].includes(a.data?.ml_type || a.data?.type))
    .filter((a) => (a.data?.metadata?.status ?? "success") !== "failed")
    .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
}

function fileField(id, label) {
  const input = h("input", { type: "file", id, accept: ".csv,text/csv" });
  const info = h("span", { class: "hint", id: `${id}-info` });
  return { input, info, element: h("div", { class: "field" }, h("label", { for: id }, label), input, info) };
}

async function readFrame(field) {
  const file = field.input.files[0];
  if (!file) throw new Error(`Choose a CSV file for "${field.input.labels[0].textContent}"`);
  const frame = csvToFrame(await file.text());
  field.info.textContent = `${frame.data.length} rows; columns: ${frame.columns.join(", ")}`;
  return frame;
}

export async function render(page, route, ctx) {
  const training = route.name === "train";
  const canGenerate = ctx.has("/api/v1/ml/$generate-sample-data");
  const canValidate = ctx.has("/api/v1/ml/$validate");
  page.append(h("h1", {}, training ? "Train a model" : "Predict"));
  const problem = problemBox("run-problem");

  // What to run with.
  let subject;
  if (training) {
    const configs = await api("/api/v1/configs");
    if (configs.length === 0) {
      page.append(h("p", {}, "No config yet. ", h("a", { href: "#/configs/new" }, "Create one"), " first."));
      return;
    }
    subject = h("select", { id: "subject" }, configs.map((c) => h("option", { value: c.id, selected: c.id === route.query.get("config") }, `${c.name} (${shortId(c.id)})`)));
  } else {
    const models = await trainedModels();
    if (models.length === 0) {
      page.append(h("p", {}, "No trained model yet. ", h("a", { href: "#/train" }, "Train one"), " first."));
      return;
    }
    subject = h(
      "select",
      { id: "subject" },
      models.map((m) => h("option", { value: m.id, selected: m.id === route.query.get("model"), "data-config": m.data?.config_id || m.data?.metadata?.config_id || "" }, `${shortId(m.id)} · ${new Date(m.created_at).toLocaleString()}`)),
    );
  }

  // Where the data comes from.
  const sourceCsv = h("input", { type: "radio", name: "source", value: "csv", id: "source-csv", checked: true });
  const sourceGen = h("input", { type: "radio", name: "source", value: "generate", id: "source-generate" });
  const files = training ? [fileField("data-csv", "Training data (CSV)")] : [fileField("historic-csv", "Historic data (CSV)"), fileField("future-csv", "Future data (CSV)")];
  const locations = h("input", { type: "number", id: "gen-locations", value: 3, min: 1, max: 100 });
  const periods = h("input", { type: "number", id: "gen-periods", value: 36, min: 1, max: 520 });
  const generated = h(
    "div",
    { id: "generate-options", hidden: true },
    h("div", { class: "field" }, h("label", { for: "gen-locations" }, "Locations"), locations),
    h("div", { class: "field" }, h("label", { for: "gen-periods" }, "Periods of history"), periods),
  );
  const uploads = h("div", { id: "csv-options" }, files.map((f) => f.element));
  const sourceBox = h(
    "fieldset",
    {},
    h("legend", {}, "Data"),
    h("div", { class: "field check" }, sourceCsv, h("label", { for: "source-csv" }, "Upload CSV files")),
    canGenerate ? h("div", { class: "field check" }, sourceGen, h("label", { for: "source-generate" }, "Generate sample data")) : null,
    h("p", { class: "hint" }, training
      ? "Columns: time_period, location, the target and the covariates."
      : "Historic: as for training; future: the periods to predict, without the target."),
    uploads,
    generated,
  );
  const diagnostics = h("ul", { class: "diagnostics", id: "diagnostics" });
  const validateButton = h("button", { type: "button", id: "validate" }, "Validate");
  const submitButton = h("button", { type: "button", class: "primary", id: "submit", disabled: canValidate }, training ? "Train" : "Predict");
  const jobBox = h("div", { id: "job", "aria-live": "polite" });
  page.append(
    h(
      "form",
      { class: "schema-form", novalidate: true, onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field" }, h("label", { for: "subject" }, training ? "Config" : "Trained model"), subject),
      sourceBox,
      h("div", { class: "actions" }, canValidate ? validateButton : null, submitButton),
    ),
    problem,
    diagnostics,
    jobBox,
  );

  let body = null;
  const reset = () => {
    body = null;
    diagnostics.replaceChildren();
    if (canValidate) submitButton.disabled = true;
  };
  const chooseSource = () => {
    generated.hidden = !sourceGen.checked;
    uploads.hidden = sourceGen.checked;
    reset();
  };
  sourceCsv.addEventListener("change", chooseSource);
  sourceGen.addEventListener("change", chooseSource);
  for (const input of [subject, locations, periods, ...files.map((f) => f.input)]) input.addEventListener("change", reset);

  const buildBody = async () => {
    const id = subject.value;
    if (sourceGen.checked) {
      const config = training ? id : subject.selectedOptions[0].dataset.config;
      const query = new URLSearchParams({ kind: training ? "train" : "predict", num_locations: locations.value, num_periods: periods.value, seed: "1" });
      if (config) query.set("config_id", config);
      const sample = await api(`/api/v1/ml/$generate-sample-data?${query}`);
      return training ? { ...sample, config_id: id } : { ...sample, model_artifact_id: id };
    }
    if (training) return { config_id: id, data: await readFrame(files[0]) };
    return { model_artifact_id: id, historic: await readFrame(files[0]), future: await readFrame(files[1]) };
  };

  validateButton.addEventListener("click", async () => {
    reset();
    validateButton.disabled = true;
    try {
      body = await buildBody();
      const answer = await api("/api/v1/ml/$validate", { method: "POST", body: { type: training ? "train" : "predict", ...body } });
      diagnostics.replaceChildren(
        h("li", { id: "validation-result", "data-valid": String(answer.valid) }, answer.valid ? "✔ The request is valid." : "✘ The request is not valid."),
        ...answer.diagnostics.map((d) =>
          h("li", { "data-code": d.code }, h("span", { class: `badge sev-${d.severity}` }, d.severity), " ", h("code", {}, d.code), d.field ? ` (${d.field})` : "", `: ${d.message}`),
        ),
      );
      submitButton.disabled = !answer.valid;
      showProblem(problem, null);
    } catch (error) {
      body = null;
      showProblem(problem, error);
    } finally {
      validateButton.disabled = false;
    }
  });

  let stop = null;
  submitButton.addEventListener("click", async () => {
    submitButton.disabled = true;
    try {
      const payload = body || (await buildBody());
      const accepted = await api(`/api/v1/ml/$${training ? "train" : "predict"}`, { method: "POST", body: payload });
      showProblem(problem, null);
      follow(accepted.job_id, accepted.artifact_id);
    } catch (error) {
      showProblem(problem, error);
      submitButton.disabled = false;
    }
  });

  const follow = (jobId, artifactId) => {
    if (stop) stop();
    const status = h("span", { id: "job-status" }, "submitted");
    const detail = h("div", {});
    jobBox.replaceChildren(h("h2", {}, "Job"), h("p", {}, h("a", { href: "#/jobs", class: "mono" }, shortId(jobId)), " ", status), detail);
    stop = poll(async () => {
      const job = await api(`/api/v1/jobs/${jobId}`);
      status.replaceChildren(badge(job.status), " ", duration(job));
      status.dataset.status = job.status;
      if (!TERMINAL.has(job.status)) return true;
      if (job.status === "completed") {
        const link = artifactLink(job.artifact_id || artifactId, training ? "trained_model" : "prediction");
        link.id = "result-link";
        link.textContent = training ? "Open the trained model" : "Open the forecast";
        detail.replaceChildren(h("p", {}, link));
      } else if (job.error) {
        detail.replaceChildren(h("p", { class: "job-error" }, job.error), job.error_traceback ? h("pre", {}, job.error_traceback) : "");
      }
      submitButton.disabled = canValidate && body === null;
      return false;
    });
  };
  return () => stop && stop();
}
