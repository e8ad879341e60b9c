// The console shell: hash routes, navigation, the key dialog and the service context every page reads.
import { api, onKeyNeeded } from "./api.js";
import { h, problemBox, showProblem } from "./ui.js";

const PAGES = [
  { name: "overview", label: "Overview", pattern: /^$/, module: "./overview.js" },
  { name: "configs", label: "Configs", pattern: /^configs(?:\/(new|[0-9A-Z]{26}))?$/, module: "./configs.js", needs: "/api/v1/configs" },
  { name: "train", label: "Train", pattern: /^train$/, module: "./run.js", needs: "/api/v1/ml/$train" },
  { name: "predict", label: "Predict", pattern: /^predict$/, module: "./run.js", needs: "/api/v1/ml/$predict" },
  { name: "models", label: "Models", pattern: /^models(?:\/([0-9A-Z]{26}))?$/, module: "./models.js", needs: "/api/v1/artifacts" },
  { name: "forecast", pattern: /^predictions\/([0-9A-Z]{26})$/, module: "./forecast.js", needs: "/api/v1/artifacts", navAs: "models" },
  { name: "jobs", label: "Jobs", pattern: /^jobs$/, module: "./jobs.js", needs: "/api/v1/jobs" },
  { name: "tasks", label: "Tasks", pattern: /^tasks$/, module: "./system.js", needs: "/api/v1/tasks" },
  { name: "system", label: "System", pattern: /^system$/, module: "./system.js", needs: "/api/v1/system" },
];

const context = { info: null, paths: null, infoError: null };
let cleanup = null;
let renderCount = 0;

/** Whether the service has this API path (from /openapi.json; unknown: assume it has). */
context.has = (path) => context.paths === null || context.paths.has(path);

async function loadContext() {
  const [info, openapi] = await Promise.allSettled([api("/api/v1/info"), api("/openapi.json")]);
  if (info.status === "fulfilled") context.info = info.value;
  else context.infoError = info.reason;
  if (openapi.status === "fulfilled" && openapi.value && openapi.value.paths) {
    context.paths = new Set(Object.keys(openapi.value.paths));
    context.openapi = openapi.value;
  }
  const name = context.info?.display_name || context.openapi?.info?.title || "Service";
  document.getElementById("service-name").textContent = name;
  document.title = `${name} · console`;
}

function currentRoute() {
  const [rawPath, rawQuery] = location.hash.replace(/^#\/?/, "").split("?");
  const path = decodeURIComponent(rawPath).replace(/\/$/, "");
  for (const page of PAGES) {
    const match = page.pattern.exec(path);
    if (match) return { page, params: match.slice(1), query: new URLSearchParams(rawQuery || "") };
  }
  return null;
}

function renderNav(active) {
  const nav = document.getElementById("nav");
  nav.replaceChildren(
    ...PAGES.filter((p) => p.label && (!p.needs || context.has(p.needs))).map((p) =>
      h("a", { href: `#/${p.name === "overview" ? "" : p.name}`, "aria-current": p.name === active ? "page" : undefined }, p.label),
    ),
  );
}

async function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const count = ++renderCount;
  const main = document.getElementById("main");
  const found = currentRoute();
  renderNav(found ? found.page.navAs || found.page.name : null);
  if (!found) {
    main.replaceChildren(h("h1", {}, "Not found"), h("p", {}, "No console page is at this address. ", h("a", { href: "#/" }, "Overview")));
    return;
  }
  main.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    const module = await import(found.page.module);
    if (count !== renderCount) return;
    const page = h("div", { class: "page", "data-page": found.page.name });
    main.replaceChildren(page);
    const result = await module.render(page, { name: found.page.name, params: found.params, query: found.query }, context);
    if (count !== renderCount) {
      if (typeof result === "function") result();
      return;
    }
    cleanup = typeof result === "function" ? result : null;
    page.dataset.ready = "true";
  } catch (error) {
    if (count !== renderCount) return;
    const box = problemBox("page-error");
    showProblem(box, error);
    main.replaceChildren(h("h1", {}, "Something went wrong"), box);
  }
}

function keyDialog(hadKey) {
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  document.getElementById("key-reason").textContent = hadKey
    ? "That API key was not accepted. Enter another one."
    : "This service needs an API key.";
  input.value = "";
  return new Promise((resolve) => {
    const form = document.getElementById("key-form");
    const submit = (event) => {
      event.preventDefault();
      if (!input.value) return;
      form.removeEventListener("submit", submit);
      dialog.close();
      resolve(input.value);
    };
    form.addEventListener("submit", submit);
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
}

onKeyNeeded((hadKey) => keyDialog(hadKey));
window.addEventListener("hashchange", () => {
  route();
  document.getElementById("main").focus({ preventScroll: true });
});
loadContext().finally(route);
