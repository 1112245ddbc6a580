// A record form built from the published JSON Schema (/schemas/{type}.schema.json).
//
// Every control sits in a field with `data-pointer` set to its JSON pointer (/sources/0/url),
// so the server's RFC 9457 `errors: [{pointer, detail}]` land beside the field they name.
// Read-only (server-managed) properties are left out. Browser validation is off: the server's
// rules are the ones that count, and its words are shown.

import { el, clear } from "./dom.js";

const LONG = new Set(["summary", "notes", "note", "description", "text"]);

export function resolve(schema, root) {
  let s = schema;
  while (s && s.$ref) s = root.$defs[s.$ref.split("/").pop()];
  if (s && s.anyOf) {
    const real = s.anyOf.filter((x) => x.type !== "null");
    if (real.length === 1) {
      return { ...resolve(real[0], root), nullable: true, title: s.title, description: s.description ?? real[0].description, default: s.default };
    }
  }
  return { ...s, title: schema.title || s?.title, description: schema.description || s?.description, default: schema.default ?? s?.default };
}

function label(name) {
  return String(name).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function one(name) {
  const word = label(name).toLowerCase();
  return word.endsWith("ies") ? `${word.slice(0, -3)}y` : word.replace(/s$/, "");
}

export function blank(schema, root) {
  const s = resolve(schema, root);
  if (s.default !== undefined) return structuredClone(s.default);
  if (s.nullable) return null;
  if (s.type === "object") {
    const out = {};
    for (const name of s.required || []) out[name] = blank(s.properties[name], root);
    return out;
  }
  if (s.type === "array") return [];
  if (s.type === "boolean") return false;
  if (s.enum) return s.enum[0];
  return "";
}

export class RecordForm {
  constructor(root, value, { onsubmit, submitLabel }) {
    this.root = root;
    this.value = value;
    this.node = el("form", { class: "record-form", novalidate: true });
    this.node.addEventListener("submit", (e) => {
      e.preventDefault();
      onsubmit(this.value);
    });
    this.submitLabel = submitLabel;
    this.render();
  }

  render() {
    const summary = el("div", { class: "form-errors", role: "alert", tabindex: "-1", hidden: true });
    const fields = this.object(this.root, "", this.value, true);
    clear(this.node, summary, fields, el("div", { class: "actions" },
      el("button", { type: "submit", class: "primary" }, this.submitLabel)));
  }

  object(schema, pointer, value, top = false) {
    const s = resolve(schema, this.root);
    const box = top ? el("div", { class: "fields" }) : el("div", { class: "object" });
    for (const [name, prop] of Object.entries(s.properties || {})) {
      if (prop.readOnly || name === "usd_derived") continue;
      const required = (s.required || []).includes(name);
      box.append(this.field(prop, `${pointer}/${name}`, value, name, required));
    }
    return box;
  }

  field(schema, pointer, parent, name, required) {
    const s = resolve(schema, this.root);
    const id = `f${pointer.replace(/[^a-z0-9]/gi, "-")}`;
    const title = (schema.title || label(name)) + (required ? " (required)" : "");
    const error = el("p", { class: "field-error", id: `${id}-error`, hidden: true });
    const help = s.description ? el("p", { class: "help", id: `${id}-help` }, s.description) : null;
    const described = [help && `${id}-help`, `${id}-error`].filter(Boolean).join(" ");
    const wrap = (control, kind = "field") =>
      el("div", { class: kind, "data-pointer": pointer }, control, help, error);
    const current = parent[name];

    if (s.type === "object") {
      if (current == null && s.nullable) {
        return wrap(el("fieldset", {}, el("legend", {}, title),
          el("button", { type: "button", onclick: () => { parent[name] = blank({ ...s, nullable: false, default: undefined }, this.root); this.render(); } }, `Add ${one(name)}`)), "group");
      }
      if (current == null) parent[name] = blank(s, this.root);
      const legend = el("legend", {}, title);
      const set = el("fieldset", {}, legend, this.object(s, pointer, parent[name]));
      if (s.nullable) set.append(el("button", { type: "button", class: "link", onclick: () => { parent[name] = null; this.render(); } }, `Remove ${one(name)}`));
      return wrap(set, "group");
    }

    if (s.type === "array") {
      const items = resolve(s.items, this.root);
      if (current == null) parent[name] = [];
      const list = parent[name];
      if (items.type !== "object") {
        const input = el("input", {
          id, type: "text", value: list.join(", "), "aria-describedby": described,
          oninput: (e) => { parent[name] = e.target.value.split(",").map((x) => x.trim()).filter(Boolean); },
        });
        return wrap([el("label", { for: id }, `${title}, separated by commas`), input]);
      }
      const set = el("fieldset", {}, el("legend", {}, title));
      list.forEach((item, i) => {
        const entry = el("fieldset", { class: "item", "data-pointer": `${pointer}/${i}` },
          el("legend", {}, `${label(one(name))} ${i + 1}`),
          this.object(items, `${pointer}/${i}`, item),
          el("button", { type: "button", class: "link", onclick: () => { list.splice(i, 1); this.render(); } }, `Remove ${one(name)} ${i + 1}`));
        set.append(entry);
      });
      set.append(el("button", { type: "button", onclick: () => { list.push(blank(items, this.root)); this.render(); } }, `Add ${one(name)}`));
      return wrap(set, "group");
    }

    let control;
    if (s.enum) {
      control = el("select", { id, name: pointer, "aria-describedby": described,
        onchange: (e) => { parent[name] = e.target.value === "" ? null : e.target.value; } },
        (s.nullable || !required) && !s.default ? el("option", { value: "" }, "(none)") : null,
        s.enum.map((v) => el("option", { value: v, selected: v === current }, v)));
    } else if (s.type === "boolean") {
      control = el("input", { id, type: "checkbox", name: pointer, checked: Boolean(current), "aria-describedby": described,
        onchange: (e) => { parent[name] = e.target.checked; } });
      return wrap(el("label", { for: id, class: "check" }, control, ` ${title}`), "field check");
    } else if (s.type === "integer" || s.type === "number") {
      control = el("input", { id, type: "number", step: s.type === "integer" ? "1" : "any", name: pointer,
        value: current ?? "", "aria-describedby": described,
        oninput: (e) => { const v = e.target.value.trim(); parent[name] = v === "" ? null : Number(v); } });
    } else {
      const long = LONG.has(name) || (s.maxLength || 0) >= 10000;
      control = el(long ? "textarea" : "input", { id, name: pointer, "aria-describedby": described,
        ...(long ? { rows: "3" } : { type: s.format === "uri" || name === "url" ? "url" : "text", value: current ?? "" }),
        oninput: (e) => { parent[name] = e.target.value === "" && s.nullable ? null : e.target.value; } });
      if (long) control.value = current ?? "";
    }
    return wrap([el("label", { for: id }, title), control]);
  }

  clearErrors() {
    for (const node of this.node.querySelectorAll(".field-error")) { node.hidden = true; node.textContent = ""; }
    for (const node of this.node.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    this.node.querySelector(".form-errors").hidden = true;
  }

  // Place each `{pointer, detail}` beside its field (or its nearest enclosing field).
  showErrors(errors, heading) {
    for (const node of this.node.querySelectorAll(".field-error")) { node.hidden = true; node.textContent = ""; }
    for (const node of this.node.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    const summary = this.node.querySelector(".form-errors");
    const items = [];
    let first = null;
    for (const { pointer = "", detail } of errors) {
      let p = pointer;
      let field = null;
      while (!(field = this.node.querySelector(`[data-pointer="${CSS.escape(p)}"]`)) && p) p = p.replace(/\/[^/]*$/, "");
      const where = pointer || "(the record)";
      const words = humane(pointer, detail);
      const said = words === detail ? detail : `${words} (${detail})`;
      items.push(el("li", {}, `${where}: ${said}`));
      if (!field) continue;
      const slot = field.querySelector(":scope > .field-error") || field.querySelector(".field-error");
      if (slot) { slot.hidden = false; slot.textContent = slot.textContent ? `${slot.textContent}; ${said}` : said; }
      const control = field.querySelector("input, select, textarea");
      if (control) { control.setAttribute("aria-invalid", "true"); first ||= control; }
    }
    clear(summary, el("p", {}, heading), el("ul", {}, items));
    summary.hidden = false;
    (first || summary).focus();
  }
}

// The server's words are exact but terse; say what to type where we know the field.
const HINTS = {
  url: "Enter a web address starting with http:// or https://.",
  value: "Enter a date as YYYY, YYYY-MM or YYYY-MM-DD.",
  published: "Enter a date as YYYY, YYYY-MM or YYYY-MM-DD.",
  accessed: "Enter a date as YYYY-MM-DD.",
  code: "Enter a three-letter country code such as CHN (EUU for the European Union).",
  country: "Enter a three-letter country code such as CHN (EUU for the European Union).",
  currency: "Enter a three-letter currency code such as USD or EUR.",
  tags: "Use lower-case words joined by hyphens, such as digital-silk-road.",
};

export function humane(pointer, detail) {
  const name = pointer.split("/").filter((x) => !/^\d+$/.test(x)).pop() || "";
  if (/pattern|valid|date/i.test(detail) && HINTS[name]) return HINTS[name];
  if (/^Field required/.test(detail)) return "This is required.";
  if (/at least 1 character/.test(detail)) return "This cannot be empty.";
  return detail;
}

// JSON Merge Patch (RFC 7396) from `before` to `after`, and its application.
export function mergePatch(before, after) {
  const patch = {};
  for (const k of Object.keys(after)) {
    const a = before?.[k];
    const b = after[k];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    patch[k] = isObject(a) && isObject(b) ? mergePatch(a, b) : b;
  }
  for (const k of Object.keys(before || {})) if (!(k in after)) patch[k] = null;
  return patch;
}

export function applyPatch(target, patch) {
  if (!isObject(patch)) return structuredClone(patch);
  const out = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyPatch(out[k], v);
  }
  return out;
}

function isObject(x) {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}
