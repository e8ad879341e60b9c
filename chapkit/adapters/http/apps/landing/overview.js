// Overview: the service described for people, its health, version and what it offers.
import { api } from "./api.js";
import { facts, h, markdown, problemBox, showProblem } from "./ui.js";

/** The assessed statuses as CHAP defines them (chapkit.adapters.http.ml_info.AssessedStatus). */
export const ASSESSED = {
  gray: "Deprecated or not for use",
  red: "Experimental prototype",
  orange: "Promising, on limited data",
  yellow: "Ready for more rigorous testing",
  green: "Validated, for production",
};

const OFFERS = [
  ["/api/v1/configs", "Configs", "model configurations, created and edited here", "#/configs"],
  ["/api/v1/ml/$train", "Machine learning", "train models and predict with them", "#/train"],
  ["/api/v1/tasks", "Tasks", "commands and functions run as jobs", "#/tasks"],
  ["/api/v1/jobs", "Jobs", "the scheduler's jobs, live", "#/jobs"],
  ["/api/v1/artifacts", "Artifacts", "trained models and their forecasts", "#/models"],
];

function link(url) {
  return url ? h("a", { href: url, rel: "noopener noreferrer" }, url) : null;
}

function assessed(status) {
  if (!status) return null;
  return h(
    "span",
    { class: "assessed", id: "assessed-status", "data-status": status },
    h("span", { class: `dot dot-${status}`, "aria-hidden": "true" }),
    h("strong", {}, status),
    ` — ${ASSESSED[status] || "unknown status"}`,
  );
}

function chips(items, id) {
  if (!Array.isArray(items) || items.length === 0) return null;
  return h("ul", { class: "chips", id }, items.map((item) => h("li", { class: "chip" }, String(item))));
}

function bounds(info) {
  const low = info.min_prediction_periods;
  const high = info.max_prediction_periods;
  if (low == null && high == null) return null;
  if (low != null && high != null) return `${low} to ${high} periods`;
  return low != null ? `at least ${low} periods` : `at most ${high} periods`;
}

export async function render(page, _route, ctx) {
  const info = ctx.info || {};
  page.append(h("h1", { id: "overview-title" }, info.display_name || "Service"));
  if (ctx.infoError) {
    const box = problemBox("service-error");
    showProblem(box, { message: `Could not load the service information: ${ctx.infoError.message}` });
    page.append(box);
  }
  if (info.summary) page.append(h("p", { class: "muted", id: "service-summary" }, info.summary));
  if (info.description) page.append(h("section", { id: "service-description", "aria-label": "Description" }, markdown(info.description)));

  const model = h("section", { class: "card" }, h("h2", {}, "Model"));
  model.append(
    facts([
      ["Target", info.target ? h("code", {}, info.target) : null],
      ["Required covariates", chips(info.required_covariates, "covariates")],
      ["Other covariates", info.allow_free_additional_continuous_covariates === undefined ? null : info.allow_free_additional_continuous_covariates ? "accepted" : "not accepted"],
      ["Period type", info.period_type],
      ["Prediction horizon", bounds(info)],
      ["Needs geometry", info.requires_geo === undefined ? null : info.requires_geo ? "yes" : "no"],
      ["Assessed status", assessed(info.author_assessed_status)],
    ]),
  );
  const people = h("section", { class: "card" }, h("h2", {}, "Authorship"));
  people.append(
    facts([
      ["Author", info.author],
      ["Author's note", info.author_note],
      ["Organisation", info.organization],
      ["Contact", info.contact_email ? h("a", { href: `mailto:${info.contact_email}` }, info.contact_email) : null],
      ["Citation", info.citation_info],
      ["Repository", link(info.repository_url)],
      ["Documentation", link(info.documentation_url)],
    ]),
  );
  const health = h("span", { id: "health" }, "checking…");
  const about = h("section", { class: "card" }, h("h2", {}, "Service"));
  about.append(
    facts([
      ["Health", health],
      ["Version", info.version ? h("span", { id: "service-version" }, info.version) : null],
      ["Git revision", info.git_revision ? h("code", {}, info.git_revision) : "not set"],
      ["chapkit", info.chapkit_version],
      ["API documentation", h("span", {}, h("a", { href: "/docs" }, "Swagger UI (/docs)"), " · ", h("a", { href: "/redoc" }, "ReDoc (/redoc)"))],
    ]),
  );
  const offers = h("ul", { id: "offers" });
  for (const [path, label, what, href] of OFFERS) {
    if (ctx.paths && !ctx.paths.has(path)) continue;
    offers.append(h("li", {}, h("a", { href }, label), `: ${what} (`, h("code", {}, path.replace(/\/\$train$/, "")), ")"));
  }
  if (!offers.childElementCount) offers.append(h("li", {}, "Service information and health only."));
  page.append(h("div", { class: "grid" }, model, people, about), h("h2", {}, "What this service offers"), offers);

  try {
    const result = await api("/health", { raw: true }).then((r) => r.json());
    health.replaceChildren(h("span", { class: `badge status-${result.status}` }, result.status));
  } catch (error) {
    if (error.problem && error.problem.status) {
      health.replaceChildren(h("span", { class: "badge status-unhealthy" }, error.problem.status));
    } else {
      health.textContent = error.status === 404 ? "no health endpoint" : `unknown (${error.message})`;
    }
  }
}
