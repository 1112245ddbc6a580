// The explorer: find, look and curate, with the whole view state in the page's own query
// string (/explorer?c=projects&country=KEN&sort=-usd), so a view can be bookmarked and shared.

import { api, ApiError, capabilities, explain, key, vocab } from "./api.js";
import { barChart } from "./charts.js";
import { clear, el } from "./dom.js";
import { applyPatch, mergePatch, RecordForm } from "./form.js";
import { fuzzy, money, plural, when } from "./format.js";

const main = document.getElementById("main");
const notice = document.getElementById("notice");
const COLLECTIONS = { projects: "project", events: "event" };
const PAGE = 20;
const LABELS = {
  country: "Country", sector: "Sector", kind: "Kind", status: "Status", dual_use: "Dual use",
  confidence: "Confidence", tag: "Tag", has_conflicts: "Has conflicts", organisation: "Organisation",
  q: "Search", year_from: "From year", year_to: "To year", usd_min: "At least USD",
  usd_max: "At most USD", parent: "Part of", umbrella: "Under umbrella", updated_since: "Changed since",
};
const SORTS = {
  relevance: "Best match", "-updated_at": "Recently changed", updated_at: "Least recently changed",
  "-created_at": "Newest entries", created_at: "Oldest entries", "-date": "Latest date first",
  date: "Earliest date first", "-year": "Latest year first", year: "Earliest year first",
  "-usd": "Largest USD first", usd: "Smallest USD first", title: "Title A to Z",
  "-title": "Title Z to A", id: "Id A to Z", "-id": "Id Z to A",
};
// Facet values read better with the vocabulary's words.
const VIEW_PARAMS = new Set(["view", "c", "id", "code"]);

function say(text, { error = false } = {}) {
  notice.hidden = !text;
  notice.className = error ? "notice error" : "notice";
  notice.setAttribute("role", error ? "alert" : "status");
  notice.textContent = text || "";
}

function state() {
  return new URLSearchParams(location.search);
}

function collectionOf(params) {
  const c = params.get("c");
  return c in COLLECTIONS ? c : "projects";
}

function link(params) {
  const s = params.toString();
  return `/explorer${s ? `?${s}` : ""}`;
}

function go(params, { replace = false } = {}) {
  history[replace ? "replaceState" : "pushState"](null, "", link(params));
  render();
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[href^='/explorer']");
  if (!a || a.target || event.ctrlKey || event.metaKey || event.shiftKey || event.button) return;
  event.preventDefault();
  history.pushState(null, "", a.getAttribute("href"));
  say("");
  render();
});
window.addEventListener("popstate", () => render());

// Filters: the API's own query parameters, so the page's query string is the API's.
function apiFilters(params, caps) {
  const out = new URLSearchParams();
  for (const [k, v] of params) if (caps.filters.includes(k) && v !== "") out.append(k, v);
  return out;
}

function values(params, name) {
  return params.getAll(name).flatMap((v) => v.split(",")).filter(Boolean);
}

function withValues(params, name, list) {
  const next = new URLSearchParams(params);
  next.delete(name);
  if (list.length) next.set(name, list.join(","));
  return next;
}

async function names() {
  const v = await vocab();
  const countries = Object.fromEntries(v.countries.map((c) => [c.code, c.name]));
  countries.EUU ||= "European Union";
  const sectors = Object.fromEntries(v.sectors.map((s) => [s.code, s.label]));
  return { v, countries, sectors };
}

function valueLabel(n, facet, value) {
  if (facet === "country") return n.countries[value] || value;
  if (facet === "sector") return n.sectors[value] || value;
  return String(value).replace(/-/g, " ").replace(/_/g, " ");
}

// ---------------------------------------------------------------- the key

function keyBox() {
  const box = document.getElementById("keybox");
  if (key.get()) {
    clear(box, el("span", { class: "who" }, sessionStorage.getItem("srt-explorer-role") || "Key set"),
      el("button", { type: "button", onclick: () => { key.clear(); sessionStorage.removeItem("srt-explorer-role"); keyBox(); render(); say("The key is forgotten in this tab."); } }, "Forget key"));
    return;
  }
  const input = el("input", { id: "key-input", type: "password", autocomplete: "off", required: true });
  const form = el("form", { class: "keyform", hidden: true, onsubmit: async (e) => {
    e.preventDefault();
    const secret = input.value.trim();
    if (!secret) return;
    key.set(secret);
    try {
      await api("/v1/keys");
      sessionStorage.setItem("srt-explorer-role", "Admin key");
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        sessionStorage.setItem("srt-explorer-role", "Key set (not admin)");
      } else {
        key.clear();
        say(explain(err), { error: true });
        return;
      }
    }
    keyBox();
    render();
    say("Key accepted. It is kept in this tab only, never in the link.");
  } },
  el("label", { for: "key-input" }, "API key"), input,
  el("button", { type: "submit" }, "Use this key"),
  el("p", { class: "help" }, "Kept in this tab's session storage; gone when the tab closes."));
  const open = el("button", { type: "button", "aria-expanded": "false", onclick: () => {
    form.hidden = !form.hidden; open.setAttribute("aria-expanded", String(!form.hidden)); if (!form.hidden) input.focus();
  } }, "Sign in with a key");
  clear(box, open, form);
}

// ---------------------------------------------------------------- find

function tabs(params, view) {
  const c = collectionOf(params);
  return el("nav", { class: "tabs", "aria-label": "Collections" },
    Object.keys(COLLECTIONS).map((name) => {
      const p = new URLSearchParams(params);
      p.set("c", name);
      if (name !== c) for (const k of ["kind", "status", "cursor", "sort"]) p.delete(k);
      if (view !== "list") p.set("view", view); else p.delete("view");
      return el("a", { href: link(p), "aria-current": name === c ? "page" : null }, name === "projects" ? "Projects" : "Events");
    }));
}

function chips(params, caps, n) {
  const box = el("div", { class: "chips", role: "list", "aria-label": "Active filters" });
  for (const name of caps.filters) {
    const list = ["q", "year_from", "year_to", "usd_min", "usd_max", "updated_since"].includes(name)
      ? params.getAll(name).filter(Boolean) : values(params, name);
    for (const value of list) {
      const shown = name === "q" ? `“${value}”` : valueLabel(n, name, value);
      const next = name === "q" || !caps.filters.includes(name) ? withValues(params, name, [])
        : withValues(params, name, list.filter((x) => x !== value));
      if (["year_from", "year_to", "usd_min", "usd_max", "updated_since", "q"].includes(name)) next.delete(name);
      box.append(el("span", { role: "listitem", class: "chip" },
        `${LABELS[name] || name}: ${shown}`,
        el("button", { type: "button", class: "remove", "aria-label": `Remove filter ${LABELS[name] || name}: ${shown}`,
          onclick: () => go(next) }, "×")));
    }
  }
  if (box.children.length > 1) {
    const none = new URLSearchParams();
    for (const k of VIEW_PARAMS) if (params.get(k)) none.set(k, params.get(k));
    box.append(el("button", { type: "button", class: "link", onclick: () => go(none) }, "Clear all filters"));
  }
  return box;
}

function searchForm(params, c) {
  const input = el("input", { id: "q", type: "search", name: "q", value: params.get("q") || "",
    placeholder: c === "projects" ? "cables, Beidou, Horizon 2020…" : "forum 2019, Huawei…" });
  return el("form", { role: "search", class: "search", onsubmit: (e) => {
    e.preventDefault();
    const next = new URLSearchParams(params);
    const q = input.value.trim();
    if (q) next.set("q", q); else next.delete("q");
    if (!q && next.get("sort") === "relevance") next.delete("sort");
    go(next);
  } },
  el("label", { for: "q" }, `Search ${c}`), input, el("button", { type: "submit" }, "Search"));
}

async function facetPanel(params, caps, n, c) {
  const panel = el("div", { class: "facet-groups" });
  const wanted = caps.facets.filter((f) => !["year", "organisation"].includes(f) && caps.filters.includes(f));
  const years = caps.facets.includes("year") ? ["year"] : [];
  const query = apiFilters(params, caps);
  query.set("by", [...wanted, ...years].join(","));
  const { data } = await api(`/v1/${c}/facets?${query}`);
  for (const facet of wanted) {
    const chosen = values(params, facet);
    const counts = data[facet] || [];
    const seen = new Set(counts.map((x) => String(x.value)));
    for (const v of chosen) if (!seen.has(v)) counts.push({ value: v, count: 0 });
    const set = el("fieldset", { class: "facet", "data-facet": facet }, el("legend", {}, LABELS[facet] || facet));
    if (!counts.length) set.append(el("p", { class: "empty" }, "None for this filter."));
    counts.forEach((item, i) => {
      const value = String(item.value);
      const id = `facet-${facet}-${value}`;
      const box = el("input", { type: "checkbox", id, value, checked: chosen.includes(value),
        onchange: (e) => {
          const list = e.target.checked ? [...chosen, value] : chosen.filter((x) => x !== value);
          go(withValues(params, facet, list));
        } });
      set.append(el("div", { class: `option${i >= 8 && !chosen.includes(value) ? " extra" : ""}` }, box,
        el("label", { for: id }, valueLabel(n, facet, value), " ", el("span", { class: "count" }, `(${item.count})`))));
    });
    if (counts.length > 8) {
      const more = el("button", { type: "button", class: "link", "aria-expanded": "false", onclick: () => {
        const open = set.classList.toggle("open");
        more.setAttribute("aria-expanded", String(open));
        more.textContent = open ? "Show fewer" : `Show all ${counts.length}`;
      } }, `Show all ${counts.length}`);
      set.append(more);
    }
    panel.append(set);
  }
  // Boolean filters the API offers without a facet (has_conflicts).
  for (const flag of caps.filters.filter((f) => f.startsWith("has_") && !wanted.includes(f))) {
    const id = `flag-${flag}`;
    panel.append(el("div", { class: "facet option" },
      el("input", { type: "checkbox", id, checked: params.get(flag) === "true",
        onchange: (e) => { const next = new URLSearchParams(params); if (e.target.checked) next.set(flag, "true"); else next.delete(flag); go(next); } }),
      el("label", { for: id }, `Only records with ${flag.slice(4).replace(/_/g, " ")}`)));
  }
  if (caps.filters.includes("year_from")) {
    const known = (data.year || []).map((x) => x.value).filter((y) => y != null);
    const lo = known.length ? Math.min(...known) : "";
    const hi = known.length ? Math.max(...known) : "";
    const from = el("input", { id: "year-from", type: "number", inputmode: "numeric", min: "1800", max: "2100", value: params.get("year_from") || "", placeholder: String(lo) });
    const to = el("input", { id: "year-to", type: "number", inputmode: "numeric", min: "1800", max: "2100", value: params.get("year_to") || "", placeholder: String(hi) });
    panel.append(el("form", { class: "facet years", onsubmit: (e) => {
      e.preventDefault();
      const next = new URLSearchParams(params);
      for (const [name, input] of [["year_from", from], ["year_to", to]]) {
        if (input.value) next.set(name, input.value); else next.delete(name);
      }
      go(next);
    } },
    el("fieldset", {}, el("legend", {}, "Years"),
      el("div", { class: "pair" },
        el("div", {}, el("label", { for: "year-from" }, "From"), from),
        el("div", {}, el("label", { for: "year-to" }, "To"), to)),
      el("button", { type: "submit" }, "Apply years"))));
  }
  return panel;
}

function card(record, c, n) {
  const href = link(new URLSearchParams({ view: "record", c, id: record.id }));
  const bits = [
    record.kind && valueLabel(n, "kind", record.kind),
    record.status && valueLabel(n, "status", record.status),
    record.year ?? (record.start ? record.start.value : null),
    (record.country_codes || []).slice(0, 6).map((x) => n.countries[x] || x).join(", "),
  ].filter(Boolean);
  const conflicts = record.quality?.conflicts?.length || 0;
  return el("li", { class: "card", "data-id": record.id },
    el("h3", {}, el("a", { href }, record.title)),
    el("p", { class: "meta" }, bits.join(" · ")),
    record.usd != null ? el("p", { class: "money" }, `${record.usd_lower_bound ? "at least " : ""}${money(record.usd, "USD")}`) : null,
    conflicts ? el("p", { class: "badge warn" }, plural(conflicts, "conflict") + " between sources") : null,
    record.summary ? el("p", { class: "summary" }, record.summary.length > 220 ? `${record.summary.slice(0, 220)}…` : record.summary) : null);
}

async function listView(params) {
  const c = collectionOf(params);
  const caps = (await capabilities())[c];
  const n = await names();
  const filters = apiFilters(params, caps);
  const sort = caps.sorts.includes(params.get("sort")) ? params.get("sort") : "";
  const sortSelect = el("select", { id: "sort", onchange: (e) => {
    const next = new URLSearchParams(params); if (e.target.value) next.set("sort", e.target.value); else next.delete("sort"); go(next);
  } }, el("option", { value: "" }, params.get("q") ? "Best match" : "Default (recently changed)"),
  caps.sorts.filter((s) => s !== "relevance" || params.get("q")).map((s) => el("option", { value: s, selected: s === sort }, SORTS[s] || s)));
  const csv = new URLSearchParams(filters);
  csv.set("format", "csv");
  if (sort && caps.exportSorts.includes(sort)) csv.set("sort", sort); // "download what I see"
  const results = el("ol", { class: "cards", id: "results", "aria-busy": "true" },
    Array.from({ length: 4 }, () => el("li", { class: "card skeleton", "aria-hidden": "true" })));
  const count = el("p", { id: "count", class: "count", "aria-live": "polite" }, "Loading…");
  const more = el("button", { type: "button", id: "more", hidden: true }, "More results");
  const facets = el("div", { class: "facets-body" }, el("p", { class: "loading" }, "Loading filters…"));
  const chartsLink = new URLSearchParams(params); chartsLink.set("view", "charts");
  clear(main,
    el("h1", { class: "visually-hidden" }, `Find ${c}`),
    tabs(params, "list"),
    searchForm(params, c),
    chips(params, caps, n),
    el("div", { class: "layout" },
      el("aside", { class: "facets", "aria-label": "Filters" },
        el("details", { open: window.matchMedia("(min-width: 48em)").matches, id: "filters" }, el("summary", {}, "Filters"), facets)),
      el("section", { class: "results", "aria-label": "Results" },
        el("div", { class: "toolbar" }, count,
          el("div", { class: "sort" }, el("label", { for: "sort" }, "Sort"), sortSelect),
          el("a", { id: "csv", href: `/v1/${c}/export?${csv}`, download: `${c}.csv` }, "Download CSV"),
          el("a", { href: link(chartsLink) }, "Chart these"),
          key.get() ? el("a", { href: link(new URLSearchParams({ view: "new", c })), class: "button" }, `New ${COLLECTIONS[c]}`) : null),
        results, more)));
  facetPanel(params, caps, n, c).then((panel) => { clear(facets, panel); restoreFocus(); }).catch((err) => clear(facets, el("p", { class: "error" }, explain(err))));

  const page = async (cursor) => {
    const q = new URLSearchParams(filters);
    if (sort) q.set("sort", sort);
    q.set("limit", String(PAGE));
    if (cursor) q.set("cursor", cursor);
    results.setAttribute("aria-busy", "true");
    more.disabled = true;
    try {
      const { data } = await api(`/v1/${c}?${q}`);
      if (!cursor) clear(results);
      for (const r of data.data) results.append(card(r, c, n));
      count.textContent = data.total == null ? "" : `${plural(data.total, COLLECTIONS[c])} found`;
      if (!data.total && !cursor) {
        results.append(el("li", { class: "empty" }, `No ${c} match these filters. Remove a filter or search for other words.`));
      }
      more.hidden = !data.next;
      more.onclick = () => page(data.next);
      if (cursor && results.children.length) results.children[results.children.length - data.data.length]?.querySelector("a")?.focus();
    } catch (err) {
      clear(results, el("li", { class: "error" }, explain(err)));
      count.textContent = "";
    } finally {
      results.setAttribute("aria-busy", "false");
      more.disabled = false;
    }
  };
  await page(null);
}

// ---------------------------------------------------------------- look: charts

function periodLabel(row) {
  const p = row.period_label ?? row.period?.label ?? row.period ?? row.label;
  return typeof p === "string" ? p : null;
}

async function chartsView(params) {
  const c = collectionOf(params);
  const caps = (await capabilities())[c];
  const n = await names();
  const filters = apiFilters(params, caps);
  const listLink = new URLSearchParams(params); listLink.delete("view");
  const box = el("div", { class: "charts", "aria-busy": "true" }, el("p", { class: "loading" }, "Drawing the charts…"));
  clear(main, el("h1", {}, `Charts of ${c}`), tabs(params, "charts"), chips(params, caps, n),
    el("p", {}, el("a", { href: link(listLink) }, `Filter and list these ${c}`)), box);
  const stats = async (group, extra = {}) => {
    const q = new URLSearchParams(filters);
    q.set("group_by", group);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    return (await api(`/v1/${c}/stats?${q}`)).data;
  };
  try {
    const [byYear, bySector, byCountry, byKind] = await Promise.all([
      stats("year", { metrics: "count,usd", order: "year" }),
      stats("sector", { metrics: "usd,count", order: "-usd", top: "12" }),
      stats("country", { metrics: "usd,count", order: "-usd", top: "12" }),
      stats("kind", { metrics: "count,usd", order: "-count" }),
    ]);
    // A row without a value of its dimension is, by year, money for a period (or undated);
    // by country, money no party in the counted roles provides. A rate a year is drawn apart.
    const usdRows = (data, dim, labelOf) => data.rows.filter((r) => r.usd != null || r.usd_per_year != null).map((r) => {
      const missing = dim === "year" ? periodLabel(r) || "Undated" : "No named provider in these roles";
      const period = r[dim] == null ? missing : null;
      const rate = r.usd == null;
      return { key: r[dim] ?? (r.period || ""), label: rate ? `${period || labelOf(r[dim])} (per year)` : period || labelOf(r[dim]),
        value: rate ? r.usd_per_year : r.usd, lowerBound: r.usd_lower_bound, period: Boolean(period) || rate };
    });
    const years = usdRows(byYear, "year", String).sort((a, b) => (a.period - b.period) || (Number(a.key) - Number(b.key)));
    const total = byYear.totals || {};
    const roles = byCountry.roles || byCountry.role || null;
    const basis = roles
      ? `Countries are credited only in the roles ${[].concat(roles).join(", ")}.`
      : "Every country a record names is credited with the record's whole amount, whatever its role, so these bars overlap and do not add up to the total.";
    clear(box,
      el("p", { class: "totals", id: "totals" },
        total.count != null ? `${plural(total.count, COLLECTIONS[c])}` : "",
        total.usd != null ? `; sums: ${total.usd_lower_bound ? "at least " : ""}${money(total.usd, "USD")}` : "; no amounts to sum",
        total.usd_per_year != null ? `; besides, ${money(total.usd_per_year, "USD")} a year (not added to the sum)` : ""),
      el("p", { class: "help" }, "Sums count only amounts recommended for aggregates, so umbrella programmes and overlapping estimates are not counted twice. ≥ and an open bar mark a lower bound (the source says “at least” or “more than”); a dashed bar is an amount over a period, not one year."),
      el("div", { class: "grid" },
        barChart({ id: "chart-year", title: "USD by year", unit: "usd", rows: years,
          caption: `${byYear.rows.filter((r) => r.usd == null).reduce((s, r) => s + r.count, 0)} of ${total.count ?? 0} records have no amount to sum.` }),
        barChart({ id: "chart-kind", title: "Records by kind", unit: "count",
          rows: byKind.rows.map((r) => ({ key: r.kind, label: valueLabel(n, "kind", r.kind), value: r.count })) }),
        barChart({ id: "chart-sector", title: "USD by sector", unit: "usd", rows: usdRows(bySector, "sector", (v) => valueLabel(n, "sector", v)),
          caption: "A record in several sectors counts in each." }),
        barChart({ id: "chart-country", title: "USD by country", unit: "usd", rows: usdRows(byCountry, "country", (v) => valueLabel(n, "country", v)),
          caption: basis })));
  } catch (err) {
    clear(box, el("p", { class: "error" }, explain(err)));
  } finally {
    box.setAttribute("aria-busy", "false");
  }
}

// ---------------------------------------------------------------- look: a country

async function countryView(params) {
  const n = await names();
  const code = (params.get("code") || "").toUpperCase();
  const present = new Map();
  for (const c of Object.keys(COLLECTIONS)) {
    const { data } = await api(`/v1/${c}/facets?by=country&size=300`);
    for (const { value, count } of data.country || []) present.set(value, (present.get(value) || 0) + count);
  }
  const options = [...present.keys()].sort((a, b) => (n.countries[a] || a).localeCompare(n.countries[b] || b));
  const select = el("select", { id: "country", onchange: (e) => go(new URLSearchParams({ view: "country", code: e.target.value })) },
    el("option", { value: "" }, "Choose a country"),
    options.map((x) => el("option", { value: x, selected: x === code }, `${n.countries[x] || x} (${present.get(x)})`)));
  const body = el("div", { class: "timeline", "aria-busy": "true" });
  clear(main, el("h1", {}, code ? `${n.countries[code] || code}: timeline` : "Countries"),
    el("div", { class: "field" }, el("label", { for: "country" }, "Country"), select), body);
  if (!code) {
    clear(body, el("p", { class: "empty" }, "Choose a country to see its events and projects in date order."));
    return;
  }
  try {
    const { data } = await api(`/v1/countries/${encodeURIComponent(code)}/timeline`);
    const items = data.data || [];
    const list = new URLSearchParams({ country: code });
    clear(body,
      el("p", {}, `${plural(items.length, "record")} naming ${n.countries[code] || code}. `,
        el("a", { href: link(new URLSearchParams({ ...Object.fromEntries(list), c: "projects" })) }, "Its projects"), " · ",
        el("a", { href: link(new URLSearchParams({ ...Object.fromEntries(list), c: "events" })) }, "Its events")),
      items.length ? el("ol", { class: "events-line" }, items.map((item) => el("li", {},
        el("span", { class: "date" }, item.date_text || item.wording || item.date || "undated"),
        el("span", { class: "what" },
          el("a", { href: link(new URLSearchParams({ view: "record", c: item.collection, id: item.id })) }, item.title),
          el("span", { class: "meta" }, ` ${item.collection === "events" ? "event" : "project"} · ${valueLabel(n, "kind", item.kind || "")}`,
            item.usd != null ? ` · ${item.usd_lower_bound ? "at least " : ""}${money(item.usd, "USD")}${item.usd_period && item.usd_period !== "total" ? ` (${item.usd_period})` : ""}` : ""))))) :
        el("p", { class: "empty" }, "No records name this country."));
  } catch (err) {
    clear(body, el("p", { class: "error" }, explain(err)));
  } finally {
    body.setAttribute("aria-busy", "false");
  }
}

// ---------------------------------------------------------------- look: a record

function dl(pairs) {
  return el("dl", {}, pairs.filter(([, v]) => v != null && v !== "" && !(Array.isArray(v) && !v.length))
    .map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function section(title, ...content) {
  const body = content.flat().filter((x) => x != null && x !== false);
  return body.length ? el("section", { class: "part", "aria-label": title }, el("h2", {}, title), body) : null;
}

function recordLink(c, id) {
  return el("a", { href: link(new URLSearchParams({ view: "record", c, id })) }, id);
}

async function recordView(params) {
  const c = collectionOf(params);
  const id = params.get("id");
  const n = await names();
  clear(main, el("p", { class: "loading" }, "Loading the record…"));
  let record = null;
  let etag = null;
  let gone = null;
  try {
    ({ data: record, etag } = await api(`/v1/${c}/${encodeURIComponent(id)}`));
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 410) {
      clear(main, el("h1", {}, "Record not shown"), el("p", { class: "error" }, explain(err)));
      return;
    }
    gone = err;
  }
  const historyBox = el("section", { class: "part", id: "history", "aria-label": "Revision history" }, el("h2", {}, "Revision history"), el("p", { class: "loading" }, "Loading…"));
  const canWrite = Boolean(key.get());
  if (gone) {
    clear(main, el("h1", {}, id), el("p", { class: "notice error" }, explain(gone)), historyBox);
  } else {
    const r = record;
    const dates = c === "projects"
      ? Object.entries(r.dates || {}).filter(([, d]) => d).map(([k, d]) => [k[0].toUpperCase() + k.slice(1), fuzzy(d)])
      : [["Start", fuzzy(r.start)], ["End", fuzzy(r.end)]];
    const conflicts = r.quality?.conflicts || [];
    const actions = el("div", { class: "actions" });
    if (canWrite) {
      actions.append(el("a", { class: "button", href: link(new URLSearchParams({ view: "edit", c, id })) }, "Edit"));
      const confirmBox = el("div", { class: "confirm", hidden: true },
        el("p", {}, "Delete this record? It stays in the history and can be restored."),
        el("button", { type: "button", class: "danger", id: "confirm-delete", onclick: async () => {
          try {
            await api(`/v1/${c}/${encodeURIComponent(id)}`, { method: "DELETE", headers: { "If-Match": etag } });
            say("Deleted. It can be restored from its revision history.");
            render();
          } catch (err) { say(explain(err), { error: true }); }
        } }, "Yes, delete"),
        el("button", { type: "button", onclick: () => { confirmBox.hidden = true; } }, "Cancel"));
      actions.append(el("button", { type: "button", id: "delete", onclick: () => { confirmBox.hidden = false; confirmBox.querySelector("button").focus(); } }, "Delete"), confirmBox);
    }
    clear(main,
      el("p", { class: "crumbs" }, el("a", { href: link(new URLSearchParams({ c })) }, c === "projects" ? "Projects" : "Events"), " / ", r.id),
      el("h1", {}, r.title),
      el("p", { class: "meta" }, [valueLabel(n, "kind", r.kind), r.status && valueLabel(n, "status", r.status), `version ${r.version}`, `changed ${when(r.updated_at)} by ${r.updated_by}`].filter(Boolean).join(" · ")),
      actions,
      r.summary ? el("p", { class: "lead" }, r.summary) : null,
      conflicts.length ? el("section", { class: "part conflicts", id: "conflicts", "aria-label": "Conflicts between sources" },
        el("h2", {}, `Conflicts between sources (${conflicts.length})`),
        el("ul", {}, conflicts.map((x) => el("li", {}, el("strong", {}, `${x.field}: `), x.description)))) : null,
      section("Quality", dl([["Confidence", r.quality?.confidence], ["Notes", r.quality?.notes],
        ["Dual use", [r.dual_use?.level, r.dual_use?.note].filter(Boolean).join(": ")]])),
      section("When", dl([...dates, ["Year used for grouping", r.year != null ? String(r.year) : null]])),
      section("Countries", r.countries?.length ? el("ul", {}, r.countries.map((x) => el("li", {},
        el("a", { href: link(new URLSearchParams({ view: "country", code: x.code })) }, n.countries[x.code] || x.code), ` (${x.code}), ${x.role || "role not stated"}`))) : null),
      section("Organisations", r.organisations?.length ? el("ul", {}, r.organisations.map((o) => el("li", {},
        o.name, ` — ${o.role || "role not stated"}`, o.country ? `, ${n.countries[o.country] || o.country}` : "", o.chinese ? " (Chinese)" : ""))) : null),
      section("Money", r.funding?.length ? el("ul", { class: "funding" }, r.funding.map((m) => el("li", {},
        el("q", {}, m.text), el("br"),
        `${m.qualifier && m.qualifier !== "exact" ? m.qualifier.replace(/_/g, " ") + " " : ""}${money(m.amount, m.currency)} · ${m.kind} · ${m.period}${m.year ? ` · ${m.year}` : ""}${m.year_from ? ` · ${m.year_to ? `${m.year_from}–${m.year_to}` : `since ${m.year_from}`}` : ""}${m.provided_by?.length ? ` · provided by ${m.provided_by.join(", ")}` : ""}`,
        el("br"),
        m.usd != null ? `USD ${money(m.usd, "").trim()}${m.usd_derived ? " (derived from ECB reference rates)" : " (as the source gives it)"}` : "no USD value",
      ))) : null,
      r.usd != null ? el("p", {}, `Headline amount: ${r.usd_lower_bound ? "at least " : ""}${money(r.usd, "USD")}`,
        r.usd_period && r.usd_period !== "total" ? ` (${r.usd_period})` : "", r.usd_derived ? ", derived from ECB reference rates" : "") : null,
      c === "projects" ? el("p", {}, r.recommended_for_aggregates ? "Recommended for aggregates." : "Not recommended for aggregates (an umbrella or overlapping estimate), so sums leave it out.") : null),
      section("Counts", r.counts?.length ? el("ul", {}, r.counts.map((x) => el("li", {}, `${x.metric}: `, x.text))) : null),
      section("Event details", c === "events" ? dl([["Venue", [r.venue?.name, r.venue?.city, r.venue?.country && (n.countries[r.venue.country] || r.venue.country)].filter(Boolean).join(", ")],
        ["Series", r.series], ["Edition", r.edition != null ? String(r.edition) : null], ["Attendance", r.attendance != null ? (typeof r.attendance === "object" ? r.attendance.text || JSON.stringify(r.attendance) : String(r.attendance)) : null]]) : null),
      section("Related records", dl([
        ["Part of", r.parent_id ? recordLink(c, r.parent_id) : null],
        ["Under umbrella", r.umbrella_ids?.length ? r.umbrella_ids.map((x, i) => [i ? ", " : "", recordLink("projects", x)]).flat() : null],
        ["Linked events", r.event_ids?.length ? r.event_ids.map((x, i) => [i ? ", " : "", recordLink("events", x)]).flat() : null],
        ["Linked projects", r.project_ids?.length ? r.project_ids.map((x, i) => [i ? ", " : "", recordLink("projects", x)]).flat() : null],
      ])),
      section("Sectors and tags", dl([["Sectors", (r.sectors || []).map((s) => n.sectors[s] || s).join("; ")],
        ["Tags", (r.tags || []).map((t, i) => [i ? ", " : "", el("a", { href: link(new URLSearchParams({ c, tag: t })) }, t)]).flat()]])),
      section("Sources", el("ol", { class: "sources" }, (r.sources || []).map((s) => el("li", {},
        el("a", { href: s.url, rel: "noopener noreferrer external" }, s.title),
        [s.publisher, s.published && `published ${s.published}`, s.accessed && `accessed ${s.accessed}`, s.external ? "outside the article" : null].filter(Boolean).map((x) => ` · ${x}`).join(""),
        s.note ? el("p", { class: "help" }, s.note) : null)))),
      historyBox);
  }
  try {
    const { data } = await api(`/v1/${c}/${encodeURIComponent(id)}/revisions`);
    const current = record?.version;
    clear(historyBox, el("h2", {}, "Revision history"), el("ol", { class: "revisions", reversed: true },
      data.data.slice().reverse().map((rev) => el("li", { "data-version": String(rev.version) },
        `Version ${rev.version}: ${rev.op}${rev.restored_from ? ` (restored from version ${rev.restored_from})` : ""} by ${rev.by}, ${when(rev.at)}`,
        canWrite && rev.op !== "delete" && rev.version !== current
          ? el("button", { type: "button", class: "small", "data-restore": String(rev.version), onclick: async () => {
            try {
              await api(`/v1/${c}/${encodeURIComponent(id)}/revisions/${rev.version}/restore`, { method: "POST", headers: etag ? { "If-Match": etag } : {} });
              say(`Restored version ${rev.version} as the current version.`);
              render();
            } catch (err) { say(explain(err), { error: true }); }
          } }, `Restore version ${rev.version}`) : null))));
  } catch (err) {
    clear(historyBox, el("h2", {}, "Revision history"), el("p", { class: "error" }, explain(err)));
  }
}

// ---------------------------------------------------------------- curate

const schemas = {};
async function schemaFor(c) {
  schemas[c] ||= api(`/schemas/${COLLECTIONS[c]}.schema.json`).then(({ data }) => data);
  return schemas[c];
}

function editable(record, schema) {
  const out = {};
  for (const [k, v] of Object.entries(record)) {
    if (schema.properties[k] && !schema.properties[k].readOnly) out[k] = structuredClone(v);
  }
  for (const m of out.funding || []) delete m.usd_derived;
  return out;
}

async function editView(params, creating) {
  const c = collectionOf(params);
  const id = params.get("id");
  if (!key.get()) {
    clear(main, el("h1", {}, creating ? `New ${COLLECTIONS[c]}` : `Edit ${id}`),
      el("p", {}, "Writing needs a key: use “Sign in with a key” at the top of the page. Admins and editors may change any record; partners may create records and change only their own."));
    return;
  }
  const schema = await schemaFor(c);
  let original = {};
  let etag = null;
  let version = null;
  if (!creating) {
    try {
      const got = await api(`/v1/${c}/${encodeURIComponent(id)}`);
      original = editable(got.data, schema);
      etag = got.etag;
      version = got.data.version;
    } catch (err) {
      clear(main, el("h1", {}, `Edit ${id}`), el("p", { class: "error" }, explain(err)));
      return;
    }
  }
  const conflictBox = el("div", { class: "conflict-box", id: "conflict", role: "alert", tabindex: "-1", hidden: true });
  const problemBox = el("div", { class: "notice error", id: "problem", role: "alert", hidden: true });
  let form;
  const submit = async (value) => {
    conflictBox.hidden = true;
    problemBox.hidden = true;
    form.clearErrors();
    try {
      let answer;
      if (creating) {
        answer = await api(`/v1/${c}`, { method: "POST", body: value });
      } else {
        const patch = mergePatch(original, value);
        if (!Object.keys(patch).length) { say("Nothing changed, so nothing was saved."); return; }
        answer = await api(`/v1/${c}/${encodeURIComponent(id)}`, { method: "PATCH", body: patch, patch: true, headers: { "If-Match": etag } });
      }
      history.pushState(null, "", link(new URLSearchParams({ view: "record", c, id: answer.data.id })));
      await render();
      say(`Saved as version ${answer.data.version}.`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && err.problem.errors?.length) {
        form.showErrors(err.problem.errors.map((e) => ({ pointer: e.pointer ?? "", detail: e.detail })), "Not saved: fix the fields marked below.");
      } else if (err instanceof ApiError && err.status === 412) {
        const now = err.problem.current_version;
        clear(conflictBox,
          el("h2", {}, "Someone else changed this record"),
          el("p", {}, `You were editing version ${version}; version ${now ?? "a newer one"} was saved in the meantime. Nothing of yours was saved, and your changes are still in the form.`),
          el("button", { type: "button", class: "primary", id: "reapply", onclick: async () => {
            try {
              const mine = mergePatch(original, value);
              const fresh = await api(`/v1/${c}/${encodeURIComponent(id)}`);
              const theirs = Object.keys(mergePatch(original, editable(fresh.data, schema)));
              original = editable(fresh.data, schema);
              etag = fresh.etag;
              version = fresh.data.version;
              form.value = applyPatch(original, mine);
              form.render();
              clear(conflictBox, el("p", {}, `Your changes are reapplied on version ${version}. ${theirs.length ? `The other change touched: ${theirs.join(", ")}.` : ""} Review and save again.`));
              conflictBox.focus();
            } catch (e2) { say(explain(e2), { error: true }); }
          } }, "Reload the latest version and reapply my changes"));
        conflictBox.hidden = false;
        conflictBox.focus();
      } else {
        problemBox.textContent = explain(err);
        problemBox.hidden = false;
        problemBox.scrollIntoView({ block: "center" });
      }
    }
  };
  form = new RecordForm(schema, creating ? {} : structuredClone(original), { onsubmit: submit, submitLabel: creating ? `Create ${COLLECTIONS[c]}` : "Save changes" });
  if (creating) {
    const { blank } = await import("./form.js");
    form.value = blank({ ...schema, properties: Object.fromEntries(Object.entries(schema.properties).filter(([, p]) => !p.readOnly)) }, schema);
    form.value.sources = [blank(schema.$defs.Source, schema)];
    form.render();
  }
  clear(main,
    el("p", { class: "crumbs" }, el("a", { href: link(new URLSearchParams({ c })) }, c === "projects" ? "Projects" : "Events"),
      creating ? " / new" : [" / ", recordLink(c, id), " / edit"]),
    el("h1", {}, creating ? `New ${COLLECTIONS[c]}` : `Edit ${original.title}`),
    creating ? null : el("p", { class: "help" }, `Editing version ${version}. Only what you change is sent (a JSON merge patch), and only if nobody saved in between.`),
    conflictBox, problemBox, form.node);
}

// ---------------------------------------------------------------- the page

function home(params) {
  return listView(params);
}

// A re-render keeps keyboard focus on the control that caused it (a facet, the sort).
let refocus = null;
function restoreFocus() {
  const node = refocus && document.getElementById(refocus);
  if (node) {
    node.focus();
    refocus = null;
  }
}

let renders = 0;
async function render() {
  refocus = document.activeElement && document.activeElement !== document.body ? document.activeElement.id || null : null;
  const params = state();
  const view = params.get("view") || "list";
  for (const a of document.querySelectorAll("header nav a")) {
    a.toggleAttribute("aria-current", a.dataset.view === (["record", "edit", "new"].includes(view) ? "list" : view));
    if (a.hasAttribute("aria-current")) a.setAttribute("aria-current", "page");
  }
  main.setAttribute("aria-busy", "true");
  try {
    if (view === "charts") await chartsView(params);
    else if (view === "country") await countryView(params);
    else if (view === "record") await recordView(params);
    else if (view === "edit") await editView(params, false);
    else if (view === "new") await editView(params, true);
    else await home(params);
  } catch (err) {
    clear(main, el("h1", {}, "Something went wrong"), el("p", { class: "error" }, explain(err)));
  } finally {
    main.setAttribute("aria-busy", "false");
    restoreFocus();
    document.body.dataset.ready = view;
    document.body.dataset.renders = String(++renders);
  }
}

keyBox();
render();
