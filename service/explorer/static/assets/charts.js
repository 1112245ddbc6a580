// Bar charts in SVG: one row per group, the value written beside its bar, lower bounds drawn
// open-ended and marked "≥", amounts over a period (not one year) drawn apart and labelled.

import { el } from "./dom.js";
import { money } from "./format.js";

export function barChart({ id, title, caption, rows, unit }) {
  const max = Math.max(1, ...rows.map((r) => r.value || 0));
  const figure = el("figure", { class: "chart", id, "data-unit": unit });
  figure.append(el("h3", {}, title));
  if (!rows.length) {
    figure.append(el("p", { class: "empty" }, "Nothing to chart for this filter."));
  }
  const list = el("ul", { class: "bars" });
  for (const row of rows) {
    const share = row.value ? Math.max(0.5, (100 * row.value) / max) : 0;
    const text =
      row.value == null
        ? "no amount"
        : unit === "usd"
          ? `${row.lowerBound ? "≥ " : ""}${money(row.value, "USD")}`
          : String(row.value);
    const svg = svgEl("svg", {
      class: "bar",
      "aria-hidden": "true",
      focusable: "false",
      preserveAspectRatio: "none",
    });
    svg.append(
      svgEl("rect", {
        x: "0",
        y: "0",
        height: "100%",
        width: `${share}%`,
        class: [row.lowerBound ? "lower" : "", row.period ? "period" : ""].join(" ").trim(),
      }),
    );
    const item = el(
      "li",
      {
        class: `row${row.period ? " period" : ""}${row.lowerBound ? " lower" : ""}`,
        "data-key": row.key == null ? "" : String(row.key),
        "data-value": row.value == null ? "" : String(row.value),
        "data-lower-bound": String(Boolean(row.lowerBound)),
      },
      el("span", { class: "label" }, row.label),
      svg,
      el("span", { class: "value" }, text),
    );
    list.append(item);
  }
  figure.append(list);
  if (caption) figure.append(el("figcaption", {}, caption));
  return figure;
}

function svgEl(name, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}
