// The console's API client: fetch with the API key of this tab (sessionStorage, never a URL or localStorage).
const KEY_STORE = "chapkit-api-key";
const HEADER_STORE = "chapkit-api-key-header";

/** A refused or failed request; `problem` is the parsed problem document (RFC 9457) when there is one. */
export class ApiError extends Error {
  constructor(status, problem, message) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

let askForKey = null;
let pendingKey = null;

/** Install the function that asks the person for a key: `(hadKey, problem) => Promise<string>`. */
export function onKeyNeeded(handler) {
  askForKey = handler;
}

function keyHeader() {
  return sessionStorage.getItem(HEADER_STORE) || "X-API-Key";
}

/** The human text of a problem or of FastAPI's `{"detail": [...]}` validation answer. */
export function problemText(problem, status) {
  if (problem && typeof problem.detail === "string" && problem.detail) return problem.detail;
  if (problem && Array.isArray(problem.detail)) {
    return problem.detail.map((e) => `${(e.loc || []).filter((p) => p !== "body").join(".")}: ${e.msg}`).join("; ");
  }
  if (problem && problem.title) return problem.title;
  return `The service answered ${status}`;
}

/** The field errors of a 422 answer, either shape, as `[{path, message}]` (`path` without the `body` prefix). */
export function fieldErrors(problem) {
  const list = Array.isArray(problem?.errors) ? problem.errors : Array.isArray(problem?.detail) ? problem.detail : [];
  return list.map((e) => {
    const loc = Array.isArray(e.loc) ? e.loc.slice() : [];
    if (loc[0] === "body") loc.shift();
    return { path: loc.join("."), message: e.msg || String(e) };
  });
}

async function waitForKey(hadKey, problem) {
  if (!askForKey) throw new ApiError(401, problem, problemText(problem, 401));
  if (!pendingKey) {
    pendingKey = askForKey(hadKey, problem).finally(() => {
      pendingKey = null;
    });
  }
  return pendingKey;
}

/**
 * Call the API. `body` is sent as JSON; `raw` returns the Response (for downloads and text).
 * A 401 asks for a key (once for every request waiting) and tries again with it.
 */
export async function api(path, { method = "GET", body, raw = false, signal } = {}) {
  for (;;) {
    const key = sessionStorage.getItem(KEY_STORE);
    const headers = { Accept: "application/json, application/problem+json" };
    if (key) headers[keyHeader()] = key;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: "no-store",
    });
    if (response.status === 401) {
      const problem = await response.json().catch(() => ({}));
      sessionStorage.removeItem(KEY_STORE);
      if (problem.auth_header) sessionStorage.setItem(HEADER_STORE, problem.auth_header);
      const entered = await waitForKey(Boolean(key), problem);
      sessionStorage.setItem(KEY_STORE, entered);
      continue;
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => null);
      throw new ApiError(response.status, problem, problemText(problem, response.status));
    }
    if (raw) return response;
    if (response.status === 204) return null;
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }
}

/** Fetch a file with the key and hand it to the browser as a download. */
export async function download(path, fallbackName) {
  const response = await api(path, { raw: true });
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/.exec(disposition);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = match ? match[1] : fallbackName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
