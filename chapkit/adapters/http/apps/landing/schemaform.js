// A form generated from a JSON Schema (pydantic's): strings, numbers, integers, booleans, enums, arrays of
// simple values, nested objects and `$defs` references; anything else is edited as JSON in its field.
import { h } from "./ui.js";

const SIMPLE = new Set(["string", "number", "integer", "boolean"]);

/** Resolve `$ref` (`#/$defs/Name`) and pydantic's optional `anyOf: [X, {type: null}]`. */
export function resolve(schema, root) {
  let current = schema || {};
  for (let depth = 0; depth < 20; depth++) {
    if (current.$ref) {
      const name = current.$ref.replace(/^#\/\$defs\//, "");
      const { $ref, ...rest } = current;
      current = { ...(root.$defs?.[name] || {}), ...rest };
      continue;
    }
    if (Array.isArray(current.anyOf)) {
      const others = current.anyOf.filter((o) => o.type !== "null");
      if (others.length === 1 && others.length < current.anyOf.length) {
        const { anyOf, ...rest } = current;
        current = { ...resolve(others[0], root), ...rest, nullable: true };
        continue;
      }
    }
    if (Array.isArray(current.allOf) && current.allOf.length === 1) {
      const { allOf, ...rest } = current;
      current = { ...resolve(allOf[0], root), ...rest };
      continue;
    }
    return current;
  }
  return current;
}

function kindOf(schema) {
  if (Array.isArray(schema.enum)) return "enum";
  if (schema.const !== undefined) return "enum";
  if (SIMPLE.has(schema.type)) return schema.type;
  if (schema.type === "array") return "array";
  if (schema.type === "object" && schema.properties) return "object";
  return "json";
}

function fieldId(path) {
  return `field-${path.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

/**
 * Build the form for `schema` with `value`; returns `{element, read, showErrors}`. `read()` gives the value
 * (throws on unparsable JSON fields); `showErrors([{path, message}])` puts messages at the fields and returns
 * the ones no field took.
 */
export function schemaForm(schema, root, value, path = "") {
  const fields = [];
  const element = build(resolve(schema, root), root, value, path, "", fields, true);
  return {
    element,
    read: () => readNode(element),
    showErrors(errors) {
      for (const field of fields) {
        field.error.textContent = "";
        field.input.removeAttribute("aria-invalid");
      }
      const left = [];
      for (const error of errors) {
        const field = fields.find((f) => f.path === error.path) || fields.find((f) => error.path.startsWith(`${f.path}.`));
        if (field) {
          field.error.textContent = field.error.textContent ? `${field.error.textContent}; ${error.message}` : error.message;
          field.input.setAttribute("aria-invalid", "true");
        } else left.push(error);
      }
      const first = fields.find((f) => f.error.textContent);
      if (first) first.input.focus();
      return left;
    },
  };
}

function build(schema, root, value, path, name, fields, required) {
  const kind = kindOf(schema);
  const title = schema.title || name;
  if (kind === "object") {
    const set = h("fieldset", { "data-kind": "object", "data-path": path }, path ? h("legend", {}, title) : null);
    if (schema.description && path) set.append(h("p", { class: "hint" }, schema.description));
    const requiredNames = new Set(schema.required || []);
    for (const [key, child] of Object.entries(schema.properties)) {
      const childValue = value && typeof value === "object" ? value[key] : undefined;
      const node = build(resolve(child, root), root, childValue, path ? `${path}.${key}` : key, key, fields, requiredNames.has(key));
      node.dataset.key = key;
      set.append(node);
    }
    if (schema.additionalProperties && value && typeof value === "object") {
      // Keys the schema does not declare travel along unchanged.
      const extra = Object.fromEntries(Object.entries(value).filter(([k]) => !(k in schema.properties)));
      set.dataset.extra = JSON.stringify(extra);
    }
    return set;
  }
  const id = fieldId(path);
  const initial = value !== undefined ? value : schema.default;
  let input;
  if (kind === "boolean") {
    input = h("input", { type: "checkbox", id, checked: initial === true });
  } else if (kind === "enum") {
    const options = Array.isArray(schema.enum) ? schema.enum : [schema.const];
    input = h(
      "select",
      { id },
      !required || schema.nullable ? h("option", { value: "" }, "—") : null,
      options.map((option) => h("option", { value: JSON.stringify(option), selected: initial === option }, String(option))),
    );
  } else if (kind === "number" || kind === "integer") {
    input = h("input", {
      type: "number",
      id,
      inputmode: kind === "integer" ? "numeric" : "decimal",
      step: kind === "integer" ? "1" : "any",
      value: initial ?? "",
    });
  } else if (kind === "string") {
    input = h("input", { type: "text", id, value: initial ?? "" });
  } else if (kind === "array" && SIMPLE.has(resolve(schema.items, root).type)) {
    input = h("textarea", { id, rows: 3 }, Array.isArray(initial) ? initial.join("\n") : "");
    input.dataset.items = resolve(schema.items, root).type;
  } else {
    input = h("textarea", { id, class: "json", rows: 4 }, initial === undefined ? "" : JSON.stringify(initial, null, 2));
  }
  const effective = kind === "array" && !input.dataset.items ? "json" : kind;
  const error = h("p", { class: "field-error", id: `${id}-error`, "data-error-for": path });
  input.setAttribute("aria-describedby", `${id}-error ${id}-hint`);
  input.setAttribute("name", path);
  const hints = [schema.description, effective === "array" ? "One value per line." : null, effective === "json" ? "JSON." : null];
  if (schema.minimum !== undefined) hints.push(`At least ${schema.minimum}.`);
  if (schema.maximum !== undefined) hints.push(`At most ${schema.maximum}.`);
  if (schema.default !== undefined && kind !== "boolean") hints.push(`Default: ${JSON.stringify(schema.default)}.`);
  const hint = h("span", { class: "hint", id: `${id}-hint` }, hints.filter(Boolean).join(" "));
  const label = h("label", { for: id }, title, required ? " *" : "");
  const wrapper =
    kind === "boolean"
      ? h("div", { class: "field check" }, input, label, hint, error)
      : h("div", { class: "field" }, label, input, hint, error);
  wrapper.dataset.kind = effective;
  wrapper.dataset.path = path;
  if (schema.nullable) wrapper.dataset.nullable = "true";
  fields.push({ path, input, error });
  return wrapper;
}

function readNode(node) {
  const kind = node.dataset.kind;
  if (kind === "object") {
    const out = node.dataset.extra ? JSON.parse(node.dataset.extra) : {};
    for (const child of node.children) {
      if (!child.dataset.key) continue;
      const value = readNode(child);
      if (value !== undefined) out[child.dataset.key] = value;
    }
    return out;
  }
  const input = node.querySelector("input, select, textarea");
  const text = input.type === "checkbox" ? null : input.value;
  const empty = () => (node.dataset.nullable ? null : undefined);
  switch (kind) {
    case "boolean":
      return input.checked;
    case "enum":
      return text === "" ? empty() : JSON.parse(text);
    case "number":
    case "integer":
      // An unparsable number goes to the service as typed, so its answer names the field.
      if (text.trim() === "") return empty();
      return Number.isNaN(Number(text)) ? text : Number(text);
    case "string":
      return text === "" ? empty() : text;
    case "array": {
      const items = text.split("\n").map((t) => t.trim()).filter((t) => t !== "");
      const type = input.dataset.items;
      if (type === "number" || type === "integer") return items.map((t) => (Number.isNaN(Number(t)) ? t : Number(t)));
      if (type === "boolean") return items.map((t) => t === "true");
      return items;
    }
    default: {
      if (text.trim() === "") return empty();
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new FieldError(node.dataset.path, `Not valid JSON: ${error.message}`);
      }
    }
  }
}

/** A value a field holds that cannot be read (unparsable JSON). */
export class FieldError extends Error {
  constructor(path, message) {
    super(message);
    this.path = path;
  }
}
