// Configs: the list, a form generated from `GET /api/v1/configs/$schema`, a JSON editor, delete, linked artifacts.
import { api, fieldErrors } from "./api.js";
import { FieldError, schemaForm } from "./schemaform.js";
import { confirmInline, formatTime, h, problemBox, shortId, showProblem, table, toast } from "./ui.js";

function summary(data) {
  const text = JSON.stringify(data ?? {});
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

async function list(page) {
  const configs = await api("/api/v1/configs");
  configs.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  page.append(
    h("h1", {}, "Configs"),
    h("div", { class: "actions" }, h("a", { class: "button primary", href: "#/configs/new", id: "new-config" }, "New config")),
    configs.length === 0
      ? h("p", { class: "muted" }, "No configs yet: create one to train a model with it.")
      : table(
          [
            { label: "Name", value: (c) => h("a", { href: `#/configs/${c.id}` }, c.name || "(unnamed)") },
            { label: "Id", value: (c) => h("span", { class: "mono", title: c.id }, shortId(c.id)) },
            { label: "Updated", value: (c) => formatTime(c.updated_at) },
            { label: "Values", value: (c) => h("code", {}, summary(c.data)) },
            { label: "", value: (c) => h("a", { href: `#/train?config=${c.id}` }, "Train") },
          ],
          configs,
          { id: "configs" },
        ),
  );
}

/** The schema of a config body `{name, data}`, from the service's `$schema` document. */
export function bodySchema(document) {
  const data = document.$defs?.ModelConfiguration || document.properties?.data || { type: "object" };
  return {
    type: "object",
    properties: { name: document.properties?.name || { type: "string", title: "Name" }, data: { ...data, title: "Values" } },
    required: ["name", "data"],
    $defs: document.$defs,
  };
}

async function editor(page, id) {
  const [document, config] = await Promise.all([
    api("/api/v1/configs/$schema"),
    id ? api(`/api/v1/configs/${id}`) : Promise.resolve(null),
  ]);
  const schema = bodySchema(document);
  let value = config ? { name: config.name, data: config.data } : { name: "", data: undefined };
  page.append(h("h1", {}, config ? `Config ${config.name}` : "New config"));
  if (config) page.append(h("p", { class: "muted small mono" }, config.id));

  const problem = problemBox("config-problem");
  const formTab = h("button", { type: "button", role: "tab", "aria-selected": "true", id: "tab-form" }, "Form");
  const jsonTab = h("button", { type: "button", role: "tab", "aria-selected": "false", id: "tab-json" }, "JSON");
  const holder = h("div", {});
  const json = h("textarea", { class: "json", id: "config-json", "aria-label": "Config as JSON", hidden: true });
  let form = null;
  let mode = "form";
  const buildForm = () => {
    form = schemaForm(schema, document, value);
    holder.replaceChildren(form.element);
  };
  buildForm();
  const current = () => (mode === "form" ? form.read() : JSON.parse(json.value));
  const switchTo = (next) => {
    if (next === mode) return;
    try {
      value = current();
    } catch (error) {
      showProblem(problem, error);
      return;
    }
    showProblem(problem, null);
    mode = next;
    formTab.setAttribute("aria-selected", String(mode === "form"));
    jsonTab.setAttribute("aria-selected", String(mode === "json"));
    if (mode === "json") json.value = JSON.stringify(value, null, 2);
    else buildForm();
    holder.hidden = mode !== "form";
    json.hidden = mode !== "json";
  };
  formTab.addEventListener("click", () => switchTo("form"));
  jsonTab.addEventListener("click", () => switchTo("json"));

  const save = h("button", { type: "submit", class: "primary", id: "save-config" }, config ? "Save" : "Create");
  const element = h(
    "form",
    { class: "schema-form", novalidate: true, id: "config-form" },
    h("div", { class: "tabs", role: "tablist" }, formTab, jsonTab),
    holder,
    json,
    problem,
    h("div", { class: "actions" }, save, h("a", { href: "#/configs" }, "Back to the list")),
  );
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body;
    try {
      body = current();
    } catch (error) {
      if (error instanceof FieldError) form.showErrors([{ path: error.path, message: error.message }]);
      showProblem(problem, error);
      return;
    }
    save.disabled = true;
    try {
      const saved = await api(config ? `/api/v1/configs/${config.id}` : "/api/v1/configs", {
        method: config ? "PUT" : "POST",
        body,
      });
      showProblem(problem, null);
      if (mode === "form") form.showErrors([]);
      toast(config ? "Config saved" : "Config created");
      if (config) location.hash = `#/configs/${saved.id}`;
      else location.hash = `#/configs/${saved.id}`;
    } catch (error) {
      const errors = fieldErrors(error.problem);
      let left = errors;
      if (mode === "form" && errors.length) {
        left = form.showErrors(errors.map((e) => (e.path.startsWith("data") || e.path === "name" ? e : { ...e, path: `data.${e.path}` })));
      }
      if (errors.length && left.length === 0) showProblem(problem, { message: "Some values were not accepted: see the fields above." });
      else showProblem(problem, error);
    } finally {
      save.disabled = false;
    }
  });
  page.append(element);

  if (!config) return;
  const remove = h("button", { type: "button", class: "danger", id: "delete-config" }, "Delete config");
  remove.addEventListener("click", async () => {
    if (!(await confirmInline(remove, `Delete config "${config.name}"? This cannot be undone.`, "Delete"))) return;
    try {
      await api(`/api/v1/configs/${config.id}`, { method: "DELETE" });
      toast("Config deleted");
      location.hash = "#/configs";
    } catch (error) {
      showProblem(problem, error);
    }
  });
  const linked = h("div", { id: "linked-artifacts" }, h("p", { class: "muted" }, "Loading…"));
  page.append(h("h2", {}, "Artifacts linked to this config"), linked, h("h2", {}, "Danger zone"), h("div", { class: "actions" }, remove));
  try {
    const artifacts = await api(`/api/v1/configs/${config.id}/$artifacts`);
    linked.replaceChildren(
      artifacts.length === 0
        ? h("p", { class: "muted" }, "None yet. ", h("a", { href: `#/train?config=${config.id}` }, "Train a model with this config"), ".")
        : table(
            [
              { label: "Artifact", value: (a) => h("a", { href: `#/models/${a.id}`, class: "mono" }, shortId(a.id)) },
              { label: "Kind", value: (a) => a.data?.ml_type || a.data?.type || "" },
              { label: "Created", value: (a) => formatTime(a.created_at) },
            ],
            artifacts,
          ),
    );
  } catch (error) {
    linked.replaceChildren(h("p", { class: "muted" }, `Linked artifacts are not available: ${error.message}`));
  }
}

export async function render(page, route) {
  const id = route.params[0];
  if (!id) return list(page);
  return editor(page, id === "new" ? null : id);
}
