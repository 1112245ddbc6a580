// The public API, as the page uses it: JSON in and out, RFC 9457 problems turned into errors,
// and the key (kept in this tab's session storage, never in the URL) sent when one is set.

const KEY = "srt-explorer-key";

export const key = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, problem, headers) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.headers = headers;
  }
}

export async function api(path, { method = "GET", body, headers = {}, patch = false } = {}) {
  const sent = { Accept: "application/json, application/problem+json", ...headers };
  const secret = key.get();
  if (secret) sent.Authorization = `Bearer ${secret}`;
  if (body !== undefined) {
    sent["Content-Type"] = patch ? "application/merge-patch+json" : "application/json";
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { detail: "The service could not be reached. Check your connection." });
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") && response.status !== 204 ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, data, response.headers);
  return { data, etag: response.headers.get("ETag"), status: response.status };
}

const ROLES =
  "Admins and editors may change any record; partners may create records and change only " +
  "those they created; readers may only read.";

// Words a person understands, for an error the page has no special handling for.
export function explain(error) {
  if (!(error instanceof ApiError)) return `Something went wrong in the page: ${error.message}`;
  const detail = error.problem.detail ? ` (${error.problem.detail})` : "";
  switch (error.status) {
    case 0:
      return error.message;
    case 401:
      return `Your key was not accepted: check it, or sign in again with another key.${detail}`;
    case 403:
      return `Your key's role may not do this. ${ROLES}${detail}`;
    case 404:
      return `There is no such record: it may have been renamed, or the link is wrong.${detail}`;
    case 410:
      return "This record was deleted. An admin or editor can restore it from its history.";
    case 412:
      return "Someone else changed this record after you opened it.";
    case 413:
      return "That is too large to send in one request.";
    case 422:
      return `Some values need attention${detail}.`;
    case 429: {
      const wait = error.headers && error.headers.get("Retry-After");
      return `Too many requests for now; try again in ${wait || "a few"} seconds.`;
    }
    case 503:
      return "The database is unreachable for a moment; try again shortly.";
    default:
      return `The service answered with an error ${error.status}${detail}.`;
  }
}

// The contract the service publishes, read once: which filters, facets, sorts and
// group-bys each collection offers, so the page follows the API as it grows.
let contract;
export async function capabilities() {
  if (!contract) {
    contract = api("/openapi.json").then(({ data }) => {
      const out = {};
      for (const collection of ["events", "projects"]) {
        const params = (path) =>
          Object.fromEntries(
            (data.paths[path]?.get?.parameters || []).map((p) => [p.name, p.schema || {}]),
          );
        const enumOf = (schema) => schema.enum || schema.items?.enum || [];
        const list = params(`/v1/${collection}`);
        const facets = params(`/v1/${collection}/facets`);
        const stats = params(`/v1/${collection}/stats`);
        const exported = params(`/v1/${collection}/export`);
        out[collection] = {
          filters: Object.keys(list).filter(
            (n) => !["sort", "limit", "cursor", "count", "fields"].includes(n),
          ),
          sorts: enumOf(list.sort || {}),
          exportSorts: enumOf(exported.sort || {}),
          facets: enumOf(facets.by || {}),
          dimensions: enumOf(stats.group_by || {}),
          roles: stats.role ? enumOf(stats.role) : null,
        };
      }
      return out;
    });
  }
  return contract;
}

let vocabulary;
export async function vocab() {
  if (!vocabulary) vocabulary = api("/v1/vocab").then(({ data }) => data);
  return vocabulary;
}
